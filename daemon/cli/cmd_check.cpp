// `nftpolicy check FILE...`: validates policies without privileges and
// without touching the kernel. Every file is loaded, then projected for every
// host it declares in every phase, so that any policy error a later `compile`
// or `apply` could meet is found now.
#include <iostream>
#include <set>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "pipeline/projections.h"

namespace nftpolicy::cli {

namespace {

struct CheckArgs {
    std::vector<std::string> files;
    PolicyArgs policy;
    bool quiet = false;
    bool strict = false;
    bool verbose = false;
    std::string list;  // --list KIND: names instead of a verdict
};

// Flows of a projection other than management access.
std::size_t policy_flows(const resolve::Projection& projection, const policy::Policy& policy) {
    std::size_t n = 0;
    for (const auto& flow : projection.flows) {
        const bool management = policy.management && flow.span.file == policy.management->span.file &&
                                flow.span.begin == policy.management->span.begin;
        if (!management) ++n;
    }
    return n;
}

// A host that no flow reaches in any phase gets only the baseline and
// management access: its roles resolve to nothing, or every flow it plays a
// part in is disabled.
void warn_flowless_host(const policy::Host& host, Diagnostics& out) {
    out.warning(host.span, fmt::format("host '{}' is matched by no flow in any phase: its ruleset would hold "
                                       "only the baseline and management access",
                                       host.name));
}

// Optional flows a file leaves out, in policy order: the same in every host
// and phase, since whether a group is empty depends on neither.
using Omitted = std::vector<resolve::OmittedFlow>;

// Every (host, phase) projection of `policy`; diagnostics deduplicated.
bool check_projections(const policy::Policy& policy, Diagnostics& out, Omitted& omitted) {
    std::set<std::string> seen;
    bool ok = true;
    std::size_t flows = 0;
    pipeline::ProjectionVisitor visit;
    visit.projection = [&](const std::string&, policy::Phase, Diagnostics& diags,
                           const std::optional<resolve::Projection>& projection) {
        for (const auto& d : diags.all()) {
            if (seen.insert(render(d)).second) out.add(d);
        }
        // Lowering and emitting are total: a projection always lowers, so
        // they are not run here (with a 1M-address list they would print a
        // million addresses per host and phase for nothing).
        if (!projection) {
            ok = false;
            return;
        }
        flows += policy_flows(*projection, policy);
        if (omitted.empty()) omitted = projection->omitted;
    };
    visit.host_done = [&](const std::string& host) {
        if (ok && !host.empty() && flows == 0) warn_flowless_host(policy.hosts.at(host), out);
        flows = 0;
    };
    pipeline::for_each_projection(policy, visit);
    return ok;
}

// Warnings about a policy that loads but leaves machines without flows.
void check_coverage(const policy::Policy& policy, const SourceFile* top, Diagnostics& out) {
    if (policy.hosts.empty() && top) {
        out.warning(SourceSpan{top, {1, 1}, {1, 1}},
                    "the policy declares no [hosts.NAME] table, so no machine can compile it (expected in "
                    "a profile that site files include, not in a site file)");
    }
    if (!policy.flows.empty() && policy.disabled_flows.size() >= policy.flows.size()) {
        std::set<std::string> disabled;
        for (const auto& ref : policy.disabled_flows) disabled.insert(ref.name);
        bool all = true;
        for (const auto& flow : policy.flows) all = all && disabled.count(flow.id);
        if (all) out.warning(policy.disabled_flows.front().span, "disabled_flows disables every flow of the policy");
    }
}

// --strict: every warning becomes an error (a policy that `check --strict`
// accepts has nothing to say about it).
Diagnostics as_errors(const Diagnostics& diags) {
    Diagnostics out;
    for (Diagnostic d : diags.all()) {
        d.severity = Severity::error;
        out.add(std::move(d));
    }
    return out;
}

// `check --verbose`: one line per optional flow left out, at its declaration.
void print_omitted(const Omitted& omitted) {
    for (const auto& flow : omitted) {
        std::cout << fmt::format("{}: optional flow '{}' left out: {}\n", flow.span.where(),
                                 flow.id, flow.reason);
    }
}

// `check --list KIND`: the names a policy declares, one per line, sorted,
// for shell completion and scripts (hosts, migrations, gates as
// MIGRATION.GATE, groups, services, flows in declaration order).
std::vector<std::string> names_of(const policy::Policy& policy, const std::string& kind) {
    std::vector<std::string> out;
    if (kind == "hosts") for (const auto& [name, host] : policy.hosts) out.push_back(name);
    if (kind == "migrations") for (const auto& [name, m] : policy.migrations) out.push_back(name);
    if (kind == "groups") for (const auto& [name, g] : policy.groups) out.push_back(name);
    if (kind == "services") for (const auto& [name, s] : policy.services) out.push_back(name);
    if (kind == "flows") for (const auto& flow : policy.flows) out.push_back(flow.id);
    if (kind == "gates") {
        for (const auto& [name, m] : policy.migrations) {
            for (const auto& gate : m.gates) out.push_back(name + "." + gate.name);
        }
    }
    return out;
}

// Loads `file` with the command's search path; nullopt (and the exit code)
// after printing why not.
std::optional<policy::Policy> load_file(const std::string& file, const CheckArgs& args, SourceManager& sources,
                                        int& exit_code) {
    PolicyArgs pa = args.policy;
    pa.policy = file;
    exit_code = exit_system;
    if (!policy_file_readable(file)) return std::nullopt;
    auto policy = load(pa, sources);
    exit_code = policy ? exit_ok : exit_invalid_policy;
    return policy;
}

int list_file(const std::string& file, const CheckArgs& args) {
    SourceManager sources;
    int rc = exit_ok;
    auto policy = load_file(file, args, sources, rc);
    if (!policy) return rc;
    for (const auto& name : names_of(*policy, args.list)) std::cout << name << '\n';
    return exit_ok;
}

int check_file(const std::string& file, const CheckArgs& args) {
    if (!args.list.empty()) return list_file(file, args);
    SourceManager sources;
    int rc = exit_ok;
    auto policy = load_file(file, args, sources, rc);
    if (!policy) return rc;
    Diagnostics diags;
    Omitted omitted;
    bool ok = check_projections(*policy, diags, omitted);
    if (ok) check_coverage(*policy, sources.find(file), diags);
    if (args.strict) diags = as_errors(diags);
    diags.sort_by_location();
    print_diagnostics(diags);
    if (!ok || diags.has_errors()) return exit_invalid_policy;
    if (!args.quiet) {
        std::cout << fmt::format("{}: valid ({} hosts, {} flows, {} groups, {} services)\n", file,
                                 policy->hosts.size(), policy->flows.size(), policy->groups.size(),
                                 policy->services.size());
    }
    if (args.verbose) print_omitted(omitted);
    return exit_ok;
}

}  // namespace

void register_check(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<CheckArgs>();
    auto* cmd = app.add_subcommand("check", "validate policy files (no privileges, kernel untouched)");
    cmd->add_option("FILE", args->files, "policy files to validate")->required();
    add_include_path_option(*cmd, args->policy);
    cmd->add_flag("-q,--quiet", args->quiet, "print nothing for valid files");
    cmd->add_flag("--strict", args->strict,
                  "treat warnings as errors (a site file with no hosts, a host no flow reaches)");
    cmd->add_flag("-v,--verbose", args->verbose,
                  "also list the optional flows each file leaves out, and why");
    cmd->add_option("--list", args->list,
                    "print the names the policy declares instead of checking it, one per line (for scripts "
                    "and shell completion)")
        ->check(CLI::IsMember({"hosts", "migrations", "gates", "groups", "services", "flows"}));
    cmd->callback([args, &exit_code] {
        exit_code = exit_ok;
        for (const auto& f : args->files) {
            int rc = check_file(f, *args);
            if (rc != exit_ok) exit_code = rc;
        }
    });
}

}  // namespace nftpolicy::cli
