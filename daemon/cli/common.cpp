#include "cli/common.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "ir/lower.h"

namespace nftpolicy::cli {

void add_policy_file_options(CLI::App& cmd, PolicyArgs& args) {
    cmd.add_option("POLICY", args.policy, "site policy file")->capture_default_str();
    cmd.add_option("-I,--include-path", args.include_paths,
                   "directory searched for included profiles (before $NFTPOLICY_PATH, /etc/nftpolicy and "
                   "the shipped profiles); repeatable");
}

void add_projection_options(CLI::App& cmd, PolicyArgs& args) {
    cmd.add_option("--host", args.host, "the [hosts.NAME] to compile for (default: the only host, or this "
                                        "machine's hostname)");
    cmd.add_option("--phase", args.phases, "legacy|coexist|final for every migration, or MIGRATION=PHASE; "
                                           "repeatable");
    cmd.add_option("--gates", args.gates, "flipped gates MIGRATION.GATE, comma-separated or repeated")
        ->delimiter(',');
    cmd.add_option("--table", args.table, "name of the inet table nftpolicy owns (default: [settings] table, "
                                          "else nftpolicy)");
}

void print_diagnostics(const Diagnostics& diags) { std::cerr << render_all(diags); }

bool policy_file_readable(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        std::cerr << fmt::format("nftpolicy: error: cannot read '{}': no such file\n", path);
        return false;
    }
    if (!std::filesystem::is_regular_file(path, ec) || access(path.c_str(), R_OK) != 0) {
        std::cerr << fmt::format("nftpolicy: error: cannot read '{}': not a readable regular file\n", path);
        return false;
    }
    return true;
}

std::optional<policy::Policy> load(const PolicyArgs& args, SourceManager& sources) {
    policy::LoadOptions options;
    options.search_path = args.include_paths;
    for (auto& dir : policy::default_search_path()) options.search_path.push_back(dir);
    Diagnostics diags;
    auto policy = policy::load_policy(args.policy, options, sources, diags);
    print_diagnostics(diags);
    return policy;
}

namespace {

std::optional<policy::Phase> parse_phase(std::string_view s) {
    if (s == "legacy") return policy::Phase::legacy;
    if (s == "coexist") return policy::Phase::coexist;
    if (s == "final") return policy::Phase::final_;
    return std::nullopt;
}

bool add_phase(const std::string& arg, resolve::ResolveOptions& out) {
    auto eq = arg.find('=');
    auto phase = parse_phase(eq == std::string::npos ? arg : arg.substr(eq + 1));
    if (!phase) {
        std::cerr << fmt::format("nftpolicy: error: --phase '{}': expected legacy, coexist or final, "
                                 "optionally as MIGRATION=PHASE\n", arg);
        return false;
    }
    if (eq == std::string::npos) {
        out.phase = phase;
    } else {
        out.phase_of[arg.substr(0, eq)] = *phase;
    }
    return true;
}

// Without --host: the policy's only host, or the one named like this machine.
std::string default_host(const policy::Policy& policy) {
    if (policy.hosts.size() <= 1) return {};
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0) return {};
    std::string short_name(name, std::strcspn(name, "."));
    if (policy.hosts.contains(name)) return name;
    if (policy.hosts.contains(short_name)) return short_name;
    return {};
}

}  // namespace

std::optional<resolve::ResolveOptions> resolve_options(const PolicyArgs& args, const policy::Policy& policy) {
    resolve::ResolveOptions options;
    options.host = args.host.empty() ? default_host(policy) : args.host;
    for (const auto& p : args.phases) {
        if (!add_phase(p, options)) return std::nullopt;
    }
    for (const auto& g : args.gates) {
        if (!g.empty()) options.flipped_gates.insert(g);
    }
    return options;
}

std::optional<Compiled> compile(const PolicyArgs& args, int& exit_code) {
    Compiled out;
    out.sources = std::make_unique<SourceManager>();
    exit_code = exit_invalid_policy;
    std::optional<resolve::Projection> projection;
    {
        if (!policy_file_readable(args.policy)) {
            exit_code = exit_system;
            return std::nullopt;
        }
        auto policy = load(args, *out.sources);
        if (!policy) return std::nullopt;
        if (!args.table.empty()) policy->table = args.table;
        auto options = resolve_options(args, *policy);
        if (!options) {
            exit_code = exit_usage;
            return std::nullopt;
        }
        Diagnostics diags;
        projection = resolve::resolve_policy(*policy, *options, diags);
        diags.sort_by_location();
        print_diagnostics(diags);
        if (!projection) return std::nullopt;
    }  // the model is gone here
    out.table = ir::lower(*projection);
    out.host = projection->host;
    out.mode = projection->mode;
    out.phases = projection->phases;
    out.flipped_gates = projection->flipped_gates;
    exit_code = exit_ok;
    return out;
}
}  // namespace nftpolicy::cli
