// `nftpolicy confirm` and `nftpolicy rollback` (docs/confirm.md): keep the
// ruleset of an `apply --confirm`, or go back to the last confirmed one.
// When nftpolicyd runs, it does both (it holds the deadline and must know
// what the kernel holds, or it would put the other ruleset back); else this
// command does them itself under the apply lock.
#include <ctime>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/kernel_common.h"
#include "service/confirm.h"
#include "service/control.h"

namespace nftpolicy::cli {

namespace {

struct ConfirmArgs {
    KernelArgs kernel;
    std::string runtime_dir = service::kDefaultRuntimeDir;
    bool if_pending = false;  // rollback: only a pending confirmation past its deadline
};

// nftpolicyd's answer to `command`, or nullopt when no daemon runs.
std::optional<service::Reply> ask_daemon(const ConfirmArgs& args, const std::string& command) {
    if (!service::daemon_answers(args.runtime_dir)) return std::nullopt;
    auto reply = service::send_command(args.runtime_dir, command, args.kernel.lock_timeout + 30);
    if (reply) return *reply;
    service::Reply failed;
    failed.failure = pipeline::FailureKind::system;
    failed.diagnostics = "nftpolicyd: " + reply.error().message + "\n";
    return failed;
}

int print_reply(const service::Reply& r) {
    if (!r.failure) {
        std::cout << r.diagnostics;
        return exit_ok;
    }
    std::cerr << r.diagnostics;
    return exit_code_of(*r.failure);
}

void print_rolled_back(const service::RolledBack& r) {
    if (!r.done) {
        std::cout << "nothing to roll back: no confirmation is due\n";
        return;
    }
    std::cout << fmt::format(
        "rolled back to the last confirmed ruleset {}: {} in one transaction\n", r.restored_hash,
        r.report.changes.empty() ? "nothing to change"
                                 : fmt::format("{} changes", r.report.changes.size()));
}

Result<service::RolledBack> local_rollback(const ConfirmArgs& args, const std::string& reason,
                                           bool if_pending) {
    return service::rollback({args.kernel, reason, if_pending, service::wall_now()});
}

// Too late: the deadline passed and nobody rolled back yet; do it now.
void late_confirm(const ConfirmArgs& args, const Error& late, int& exit_code) {
    auto r = local_rollback(args, "confirmed too late", true);
    if (!r) return report_error(r.error(), exit_code);
    std::cerr << "nftpolicy: error: " << late.message
              << "; rolled back to the last confirmed ruleset " << r->restored_hash << " instead\n";
    exit_code = exit_refused;
}

// Under the lock; `late` when the deadline passed with the rollback still due.
Result<service::ConfirmRecord> confirm_locally(const ConfirmArgs& args, bool& late) {
    auto lock = kernel::ApplyLock::acquire(args.kernel.lock, args.kernel.lock_timeout);
    if (!lock) return tl::unexpected(lock.error());
    const std::int64_t now = service::wall_now();
    auto pending = service::pending_record(args.kernel.state_dir);
    late = pending && now >= pending->deadline;
    return service::confirm_pending(args.kernel.state_dir, now);
}

void run_confirm(const ConfirmArgs& args, int& exit_code) {
    if (auto reply = ask_daemon(args, "confirm")) {
        exit_code = print_reply(*reply);
        return;
    }
    bool late = false;
    auto done = confirm_locally(args, late);
    if (done) {
        std::cout << fmt::format("confirmed: ruleset {} is now the last confirmed ruleset\n",
                                 done->applied);
        return;
    }
    if (late) return late_confirm(args, done.error(), exit_code);
    report_error(done.error(), exit_code);  // nothing pending (7), busy (6), a damaged record (4)
}

void run_rollback(const ConfirmArgs& args, int& exit_code) {
    if (auto reply = ask_daemon(args, args.if_pending ? "rollback-if-pending" : "rollback")) {
        exit_code = print_reply(*reply);
        return;
    }
    auto r = local_rollback(args, args.if_pending ? "deadline passed" : "nftpolicy rollback",
                            args.if_pending);
    if (!r) return report_error(r.error(), exit_code);
    print_rolled_back(*r);
}

CLI::App* add_command(CLI::App& app, const std::string& name, const std::string& what,
                      ConfirmArgs& args) {
    auto* cmd = app.add_subcommand(name, what);
    add_kernel_options(*cmd, args.kernel);
    add_runtime_dir_option(*cmd, args.runtime_dir);
    return cmd;
}

}  // namespace

void register_confirm(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<ConfirmArgs>();
    auto* cmd = add_command(app, "confirm",
                            "keep the ruleset of `apply --confirm`: it becomes the last confirmed "
                            "one and no rollback follows",
                            *args);
    cmd->callback([args, &exit_code] { run_confirm(*args, exit_code); });
}

void register_rollback(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<ConfirmArgs>();
    auto* cmd = add_command(app, "rollback",
                            "restore the last confirmed ruleset now, in one transaction", *args);
    cmd->add_flag(
        "--if-pending", args->if_pending,
        "only when a confirmation is pending and its deadline has passed (what the deadline runs)");
    cmd->callback([args, &exit_code] { run_rollback(*args, exit_code); });
}

}  // namespace nftpolicy::cli
