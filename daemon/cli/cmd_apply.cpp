// `nftpolicy apply`: compile the policy and make the kernel hold it, changing
// only what differs, in one generation-checked netlink transaction, under the
// apply lock. `--dry-run` prints what would change and commits nothing.
#include <cstdio>
#include <ctime>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/kernel_common.h"
#include "kernel/apply.h"
#include "kernel/apply_lock.h"
#include "kernel/apply_record.h"
#include "kernel/element_cache.h"
#include "kernel/netlink_kernel.h"
#include "resolve/phases.h"

namespace nftpolicy::cli {

namespace {

struct ApplyArgs {
    PolicyArgs policy;
    KernelArgs kernel;
    bool dry_run = false;
    bool force = false;
};

kernel::ApplyRecord record_of(const ApplyArgs& args, const Compiled& c, std::uint32_t genid) {
    kernel::ApplyRecord r;
    r.table = c.table.name;
    r.policy = args.policy.policy;
    r.host = c.host;
    for (const auto& [migration, phase] : c.phases) r.phases.push_back(migration + "=" + resolve::phase_name(phase));
    r.gates.assign(c.flipped_gates.begin(), c.flipped_gates.end());
    r.ruleset_hash = kernel::ruleset_hash(c.table);
    r.genid = genid;
    r.applied_at = static_cast<std::int64_t>(std::time(nullptr));
    return r;
}

// Keeps the elements of large sets for the next apply, or drops a stale file.
void remember_elements(const std::string& path, const std::optional<kernel::KnownElements>& known) {
    if (!known || known->sets.empty()) {
        std::remove(path.c_str());
        return;
    }
    auto written = kernel::write_known(path, *known);
    if (!written) std::cerr << "nftpolicy: warning: " << written.error().message << '\n';
}

void print_report(const kernel::ApplyReport& report, const std::string& table, bool dry_run) {
    if (report.changes.empty()) {
        std::cout << fmt::format("table inet {} is up to date; nothing to do\n", table);
        return;
    }
    for (const auto& c : report.changes) std::cout << c << '\n';
    if (dry_run) {
        std::cout << fmt::format("dry run: {} messages would be sent; nothing was changed\n", report.messages);
    } else {
        std::cout << fmt::format("applied table inet {}: {} messages in one transaction\n", table, report.messages);
    }
}

// A ruleset with no flow and no management access keeps only the baseline
// (by default: drop all input): what an empty or truncated policy compiles
// to. Applied only with --force; a dry run refuses it the same way.
bool refuse_empty(const ApplyArgs& args, const Compiled& c, int& exit_code) {
    if (c.flows > 0 || args.force) return false;
    const std::string what = c.host.empty() ? "the policy selects no host, so the ruleset"
                                            : fmt::format("the ruleset for host '{}'", c.host);
    std::cerr << fmt::format("nftpolicy: error: refusing to apply: {} has no flows and no management access, "
                             "only the baseline; nothing was changed (--force applies it anyway)\n",
                             what);
    exit_code = exit_invalid_policy;
    return true;
}

void run(const ApplyArgs& args, int& exit_code) {
    if (!args.dry_run) {
        auto usable = kernel::check_state_dir(args.kernel.state_dir);
        if (!usable) return report_error(usable.error(), exit_code);
    }
    std::optional<kernel::ApplyLock> lock;
    if (!args.dry_run) {
        auto l = kernel::ApplyLock::acquire(args.kernel.lock, args.kernel.lock_timeout);
        if (!l) return report_error(l.error(), exit_code);
        lock.emplace(std::move(*l));
    }
    auto compiled = compile(args.policy, exit_code);
    if (!compiled || refuse_empty(args, *compiled, exit_code)) return;
    auto k = kernel::NetlinkKernel::open();
    if (!k) return report_error(k.error(), exit_code);
    kernel::ApplyOptions options;
    options.dry_run = args.dry_run;
    auto known = kernel::read_known(args.kernel.elements_path());
    const auto known_at = known ? std::optional(std::pair(known->scope, known->genid)) : std::nullopt;
    options.known = known ? &*known : nullptr;
    auto report = kernel::apply(**k, compiled->table, options);
    if (!report) return report_error(report.error(), exit_code);
    print_report(*report, compiled->table.name, args.dry_run);
    if (args.dry_run || (!report->committed && !report->changes.empty())) return;
    // Nothing committed at the generation the file describes: it still holds.
    const bool file_current = !report->committed && report->known_after &&
                              known_at == std::pair(report->known_after->scope, report->known_after->genid);
    if (!file_current) remember_elements(args.kernel.elements_path(), report->known_after);
    auto genid = (*k)->generation();
    auto written = kernel::write_record(args.kernel.record_path(), record_of(args, *compiled, genid ? *genid : 0));
    if (!written) std::cerr << "nftpolicy: warning: " << written.error().message << '\n';
}

}  // namespace

void register_apply(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<ApplyArgs>();
    auto* cmd = app.add_subcommand("apply", "compile the policy and commit it to the kernel in one transaction");
    add_policy_file_options(*cmd, args->policy);
    add_projection_options(*cmd, args->policy);
    add_kernel_options(*cmd, args->kernel);
    cmd->add_flag("--dry-run", args->dry_run, "print what would change; commit nothing");
    cmd->add_flag("--force", args->force,
                  "apply even a ruleset with no flows and no management access (only the baseline)");
    cmd->callback([args, &exit_code] { run(*args, exit_code); });
}

}  // namespace nftpolicy::cli
