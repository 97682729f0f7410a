// `nftpolicy diff`: what an apply would change in the kernel. Exit 0 when
// the kernel already holds the policy, 1 when it differs, another code on
// errors (see Exit in common.h). `--json` for machines.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/kernel_common.h"

namespace nftpolicy::cli {

namespace {

// The "version" of `diff --json` (docs/schemas/diff.schema.json): raised
// when a key is removed or changes meaning.
constexpr int kDiffJsonVersion = 1;

struct DiffArgs {
    pipeline::ApplyRequest request;  // always dry
    bool json = false;
};

void print(const kernel::ApplyReport& report, const std::string& table, bool json) {
    // Notes are not differences: beside the JSON document, not in it.
    for (const auto& n : report.notes) (json ? std::cerr << "nftpolicy: " : std::cout) << "note: " << n << '\n';
    if (json) {
        nlohmann::json out{{"version", kDiffJsonVersion},
                           {"table", table},
                           {"differences", !report.changes.empty()},
                           {"changes", report.changes},
                           {"messages", report.messages},
                           {"generation", report.genid}};
        std::cout << out.dump(2) << '\n';
        return;
    }
    if (report.changes.empty()) {
        std::cout << "no differences: the kernel holds table inet " << table << " as the policy says\n";
        return;
    }
    for (const auto& c : report.changes) std::cout << c << '\n';
}

// A dry apply: no lock, nothing committed or recorded.
void run(const DiffArgs& args, int& exit_code) {
    auto out = pipeline::apply(args.request);
    print_diagnostics(out.diagnostics);
    if (!out.result) return report_failure(out.result.error(), exit_code);
    print(out.result->report, out.result->table, args.json);
    exit_code = out.result->report.changes.empty() ? exit_ok : exit_differences;
}

}  // namespace

void register_diff(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<DiffArgs>();
    auto* cmd = app.add_subcommand("diff", "show what apply would change in the kernel (exit 1 if anything)");
    args->request.state = KernelArgs{};
    args->request.dry_run = true;
    args->request.force = true;  // diff shows an empty ruleset's changes; only apply refuses it
    add_policy_file_options(*cmd, args->request.policy);
    add_projection_options(*cmd, args->request.policy);
    add_kernel_options(*cmd, args->request.state);
    cmd->add_flag("--json", args->json, "print the differences as JSON");
    cmd->callback([args, &exit_code] { run(*args, exit_code); });
}

}  // namespace nftpolicy::cli
