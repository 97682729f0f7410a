// `nftpolicy compile`: prints the nft text of one host's projection. The
// output replaces exactly our table when fed to `nft -f`.
//
// compile is offline and deterministic: it does not ask the kernel whether a
// gateway's `[baseline] flowtable = "auto"` will be accepted (apply does).
// --flowtables says what to assume: `no` (the default: the output loads on
// every kernel), `yes`, or `probe` (ask this machine's kernel, as apply
// would; needs CAP_NET_ADMIN). A `flowtable = true` is always printed.
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "emit/nft_text.h"
#include "kernel/flowtable_probe.h"
#include "kernel/netlink_kernel.h"

namespace nftpolicy::cli {

namespace {

struct CompileArgs {
    PolicyArgs policy;
    bool no_replace = false;
    std::string flowtables = "no";
};

bool optional_flowtable(const ir::Table& t) { return t.flowtable && !t.flowtable->required; }

// The table as apply would commit it on this machine's kernel; nullopt after
// reporting a failure (a required flowtable the kernel refuses: exit 5).
std::optional<ir::Table> probed(const Compiled& compiled, int& exit_code) {
    auto k = kernel::NetlinkKernel::open();
    if (!k) {
        report_failure(pipeline::failure_of(k.error()), exit_code);
        return std::nullopt;
    }
    auto decision = kernel::decide_flowtable(**k, compiled.table);
    if (!decision) {
        Diagnostics diags;
        for (const Diagnostic& d : decision.error().diagnostics) diags.add(d);
        print_diagnostics(diags);
        report_failure(pipeline::failure_of(decision.error()), exit_code);
        return std::nullopt;
    }
    if (decision->note) std::cerr << "nftpolicy: note: " << *decision->note << '\n';
    return decision->without ? std::move(*decision->without) : compiled.table;
}

// The table to print for --flowtables `mode`.
std::optional<ir::Table> for_kernel(Compiled& compiled, const std::string& mode, int& exit_code) {
    if (mode == "probe") return probed(compiled, exit_code);
    if (mode == "yes" || !optional_flowtable(compiled.table)) return std::move(compiled.table);
    std::cerr << "nftpolicy: note: flowtable " << compiled.table.flowtable->name
              << " ([baseline] flowtable = \"auto\") left out: compile assumes a kernel without flowtables; "
                 "--flowtables yes prints it, apply asks the kernel\n";
    return ir::without_flowtable(std::move(compiled.table));
}

}  // namespace

void register_compile(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<CompileArgs>();
    auto* cmd = app.add_subcommand("compile", "print the nft ruleset for one host and phase");
    add_policy_file_options(*cmd, args->policy);
    add_projection_options(*cmd, args->policy);
    cmd->add_flag("--no-replace", args->no_replace,
                  "print only the table, without the 'delete table' header that makes nft -f replace it");
    cmd->add_option("--flowtables", args->flowtables,
                    "does the target kernel accept a gateway's flowtable ([baseline] flowtable = \"auto\")? "
                    "no (default), yes, or probe (ask this machine's kernel, as apply does)")
        ->check(CLI::IsMember({"no", "yes", "probe"}))
        ->capture_default_str();
    cmd->callback([args, &exit_code] {
        auto compiled = compile(args->policy, exit_code);
        if (!compiled) return;
        auto table = for_kernel(*compiled, args->flowtables, exit_code);
        if (!table) return;
        std::cout << emit::nft_text(*table, emit::TextOptions{!args->no_replace});
    });
}

}  // namespace nftpolicy::cli
