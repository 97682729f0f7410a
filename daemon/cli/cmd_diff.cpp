// `nftpolicy diff`: what an apply would change in the kernel. Exit 0 when
// the kernel already holds the policy, 1 when it differs, another code on
// errors (see Exit in common.h). `--json` for machines.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/kernel_common.h"
#include "kernel/apply.h"
#include "kernel/element_cache.h"
#include "kernel/netlink_kernel.h"

namespace nftpolicy::cli {

namespace {

struct DiffArgs {
    PolicyArgs policy;
    KernelArgs kernel;
    bool json = false;
};

void print(const kernel::ApplyReport& report, const std::string& table, bool json) {
    if (json) {
        nlohmann::json out{{"table", table},
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

void run(const DiffArgs& args, int& exit_code) {
    auto compiled = compile(args.policy, exit_code);
    if (!compiled) return;
    auto k = kernel::NetlinkKernel::open();
    if (!k) return report_error(k.error(), exit_code);
    kernel::ApplyOptions options;
    options.dry_run = true;
    auto known = kernel::read_known(args.kernel.elements_path());  // skips dumping large sets
    options.known = known ? &*known : nullptr;
    auto report = kernel::apply(**k, compiled->table, options);
    if (!report) return report_error(report.error(), exit_code);
    print(*report, compiled->table.name, args.json);
    exit_code = report->changes.empty() ? exit_ok : exit_differences;
}

}  // namespace

void register_diff(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<DiffArgs>();
    auto* cmd = app.add_subcommand("diff", "show what apply would change in the kernel (exit 1 if anything)");
    add_policy_file_options(*cmd, args->policy);
    add_projection_options(*cmd, args->policy);
    add_kernel_options(*cmd, args->kernel);
    cmd->add_flag("--json", args->json, "print the differences as JSON");
    cmd->callback([args, &exit_code] { run(*args, exit_code); });
}

}  // namespace nftpolicy::cli
