// `nftpolicy apply`: compile the policy and make the kernel hold it, changing
// only what differs, in one generation-checked netlink transaction, under the
// apply lock. `--dry-run` prints what would change and commits nothing. The
// sequence is pipeline::apply; this file renders its outcome and adds what
// only a command run by a person does: the lockout guard and, with
// `--confirm`, the deadline after which the last confirmed ruleset comes back
// (docs/confirm.md).
#include <ctime>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/confirm_enforce.h"
#include "cli/kernel_common.h"
#include "service/confirm.h"
#include "service/control.h"
#include "service/fallback.h"

namespace nftpolicy::cli {

namespace {

struct ApplyArgs {
    pipeline::ApplyRequest request;
    std::string confirm;  // --confirm DURATION, empty: confirmed at once
    std::string runtime_dir = service::kDefaultRuntimeDir;
};

void print_report(const kernel::ApplyReport& report, const std::string& table, bool dry_run) {
    for (const auto& n : report.notes) std::cout << "note: " << n << '\n';
    if (report.changes.empty()) {
        std::cout << fmt::format("table inet {} is up to date; nothing to do\n", table);
        return;
    }
    for (const auto& c : report.changes) std::cout << c << '\n';
    if (dry_run) {
        std::cout << fmt::format("dry run: {} messages would be sent; nothing was changed\n",
                                 report.messages);
    } else {
        std::cout << fmt::format("applied table inet {}: {} messages in one transaction\n", table,
                                 report.messages);
    }
}

// Before the commit: the lockout guard (unless --force), then, with
// --confirm, the pending record.
std::optional<pipeline::Failure> before_commit(const pipeline::ApplyRequest& r,
                                               const service::ArmRequest* arm,
                                               const pipeline::Compiled& c) {
    const std::string& dir = r.state.state_dir;
    if (!r.force) {
        if (auto refused = service::cli_guard(dir, c.table, ssh_connection(), arm != nullptr))
            return refused;
    }
    if (!arm) return std::nullopt;
    auto armed = service::arm_pending(dir, c, *arm);
    if (armed) return std::nullopt;
    return pipeline::failure_of(armed.error());
}

// A plain apply is a confirmed one: its ruleset is what a later rollback restores.
void keep_confirmed(const std::string& dir, const pipeline::Compiled& c, pipeline::Applied& out) {
    if (auto k = service::keep_confirmed(dir, service::saved_of(c)); !k) {
        out.warnings.push_back("last confirmed ruleset not saved: " + k.error().message);
    }
}

void print_pending(const ArmTarget& t, const Enforcement& e, std::int64_t seconds) {
    std::cout << fmt::format(
        "unconfirmed: run `nftpolicy confirm` within {} s (before {}), else the last "
        "confirmed ruleset comes back ({})\n",
        seconds, service::format_time(t.deadline),
        e.id.empty() ? service::enforcer_name(e.enforcer)
                     : fmt::format("{} {}", service::enforcer_name(e.enforcer), e.id));
}

void run(ApplyArgs args, int& exit_code) {
    pipeline::ApplyRequest& request = args.request;
    std::optional<service::ArmRequest> arm;
    std::optional<ArmTarget> target;
    std::optional<Enforcement> enforcement;
    if (!args.confirm.empty() && !request.dry_run) {
        const std::int64_t now = service::wall_now();
        const int seconds = static_cast<int>(*parse_confirm_duration(args.confirm));
        target = ArmTarget{args.runtime_dir, request.state, now + seconds, now};
        auto e = arm_enforcer(*target);  // before the commit: no unwatched moment
        if (!e) {
            std::cerr << "nftpolicy: error: " << e.error().message << "; nothing was changed\n";
            exit_code = exit_system;
            return;
        }
        enforcement = *e;
        arm = service::ArmRequest{now,         seconds, request.force,
                                  e->enforcer, e->id,   request.policy.policy};
    }
    const std::string dir = request.state.state_dir;
    request.before_commit = [&](const pipeline::Compiled& c) {
        return before_commit(request, arm ? &*arm : nullptr, c);
    };
    if (arm)
        request.commit_failed = [dir] { service::disarm(dir); };
    else
        request.after_commit = [dir](const pipeline::Compiled& c, pipeline::Applied& a) {
            keep_confirmed(dir, c, a);
        };
    auto out = pipeline::apply(request);
    print_diagnostics(out.diagnostics);
    if (!out.result) {
        if (enforcement) disarm_enforcer(*enforcement);  // nothing to watch: no stray waiter for an hour
        return report_failure(out.result.error(), exit_code);
    }
    print_report(out.result->report, out.result->table, request.dry_run);
    for (const auto& w : out.result->warnings) std::cerr << "nftpolicy: warning: " << w << '\n';
    if (!arm) return;
    // nftpolicyd was armed before the record existed: now it can show it.
    if (enforcement->enforcer == service::Enforcer::daemon)
        service::send_command(args.runtime_dir, "confirm-arm", 10);
    print_pending(*target, *enforcement, arm->seconds);
}

std::string check_confirm_arg(const std::string& value) {
    if (parse_confirm_duration(value)) return {};
    return fmt::format("'{}': expected seconds (30) or a duration (90s, 2m), from 1 s to {} s",
                       value, service::kMaxConfirmSeconds);
}

}  // namespace

void register_apply(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<ApplyArgs>();
    args->request.state = KernelArgs{};
    auto* cmd = app.add_subcommand(
        "apply", "compile the policy and commit it to the kernel in one transaction");
    add_policy_file_options(*cmd, args->request.policy);
    add_projection_options(*cmd, args->request.policy);
    add_kernel_options(*cmd, args->request.state);
    cmd->add_flag("--dry-run", args->request.dry_run, "print what would change; commit nothing");
    cmd->add_flag(
        "--force", args->request.force,
        "apply even a ruleset with no flows and no management access (only the baseline), one that "
        "cuts management access, or replace a pending confirmation");
    cmd->add_option("--confirm", args->confirm,
                    "roll back to the last confirmed ruleset unless `nftpolicy confirm` follows "
                    "within DURATION "
                    "(seconds, or 90s, 2m; at most 1h)")
        ->check(CLI::Validator(check_confirm_arg, "DURATION"));
    add_runtime_dir_option(*cmd, args->runtime_dir);
    cmd->callback([args, &exit_code] { run(*args, exit_code); });
}

}  // namespace nftpolicy::cli
