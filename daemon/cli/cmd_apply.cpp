// `nftpolicy apply`: compile the policy and make the kernel hold it, changing
// only what differs, in one generation-checked netlink transaction, under the
// apply lock. `--dry-run` prints what would change and commits nothing. The
// sequence is pipeline::apply; this file only renders its outcome.
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/kernel_common.h"

namespace nftpolicy::cli {

namespace {

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

void run(const pipeline::ApplyRequest& request, int& exit_code) {
    auto out = pipeline::apply(request);
    print_diagnostics(out.diagnostics);
    if (!out.result) return report_failure(out.result.error(), exit_code);
    print_report(out.result->report, out.result->table, request.dry_run);
    for (const auto& w : out.result->warnings) std::cerr << "nftpolicy: warning: " << w << '\n';
}

}  // namespace

void register_apply(CLI::App& app, int& exit_code) {
    auto request = std::make_shared<pipeline::ApplyRequest>();
    request->state = KernelArgs{};
    auto* cmd = app.add_subcommand("apply", "compile the policy and commit it to the kernel in one transaction");
    add_policy_file_options(*cmd, request->policy);
    add_projection_options(*cmd, request->policy);
    add_kernel_options(*cmd, request->state);
    cmd->add_flag("--dry-run", request->dry_run, "print what would change; commit nothing");
    cmd->add_flag("--force", request->force,
                  "apply even a ruleset with no flows and no management access (only the baseline)");
    cmd->callback([request, &exit_code] { run(*request, exit_code); });
}

}  // namespace nftpolicy::cli
