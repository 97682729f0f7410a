// `nftpolicy check FILE...`: validates policies without privileges and
// without touching the kernel. Every file is loaded, then projected for every
// host it declares in every phase, so that any policy error a later `compile`
// or `apply` could meet is found now.
#include <iostream>
#include <set>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"

namespace nftpolicy::cli {

namespace {

struct CheckArgs {
    std::vector<std::string> files;
    PolicyArgs policy;
    bool quiet = false;
};

// Every (host, phase) projection of `policy`; diagnostics deduplicated.
bool check_projections(const policy::Policy& policy, Diagnostics& out) {
    std::vector<std::string> hosts;
    for (const auto& [name, host] : policy.hosts) hosts.push_back(name);
    if (hosts.empty()) hosts.emplace_back();  // a host-less file: references are still checked
    std::set<std::string> seen;
    bool ok = true;
    for (const auto& host : hosts) {
        for (auto phase : {policy::Phase::legacy, policy::Phase::coexist, policy::Phase::final_}) {
            resolve::ResolveOptions options;
            options.host = host;
            options.phase = phase;
            Diagnostics diags;
            auto projection = resolve::resolve_policy(policy, options, diags);
            for (const auto& d : diags.all()) {
                if (seen.insert(render(d)).second) out.add(d);
            }
            // Lowering and emitting are total: a projection always lowers, so
            // they are not run here (with a 1M-address list they would print a
            // million addresses per host and phase for nothing).
            if (!projection) ok = false;
        }
    }
    return ok;
}

int check_file(const std::string& file, const CheckArgs& args) {
    PolicyArgs pa = args.policy;
    pa.policy = file;
    if (!policy_file_readable(file)) return exit_system;
    SourceManager sources;
    auto policy = load(pa, sources);
    if (!policy) return exit_invalid_policy;
    Diagnostics diags;
    bool ok = check_projections(*policy, diags);
    diags.sort_by_location();
    print_diagnostics(diags);
    if (!ok) return exit_invalid_policy;
    if (!args.quiet) {
        std::cout << fmt::format("{}: valid ({} hosts, {} flows, {} groups, {} services)\n", file,
                                 policy->hosts.size(), policy->flows.size(), policy->groups.size(),
                                 policy->services.size());
    }
    return exit_ok;
}

}  // namespace

void register_check(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<CheckArgs>();
    auto* cmd = app.add_subcommand("check", "validate policy files (no privileges, kernel untouched)");
    cmd->add_option("FILE", args->files, "policy files to validate")->required();
    cmd->add_option("-I,--include-path", args->policy.include_paths,
                    "directory searched for included profiles; repeatable");
    cmd->add_flag("-q,--quiet", args->quiet, "print nothing for valid files");
    cmd->callback([args, &exit_code] {
        exit_code = exit_ok;
        for (const auto& f : args->files) {
            int rc = check_file(f, *args);
            if (rc != exit_ok) exit_code = rc;
        }
    });
}

}  // namespace nftpolicy::cli
