#include "cli/common.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "ir/lower.h"
#include "policy/names.h"
#include "resolve/phases.h"

namespace nftpolicy::cli {

namespace {

// CLI11 checks: an empty string when `value` is acceptable, else why not.
// They run while the command line is parsed, before any file is read.
std::string check_host_arg(const std::string& value) {
    if (policy::is_name(value, true, true)) return {};
    return fmt::format("'{}' is not a host name: expected the NAME of a [hosts.NAME] table (letters, digits, "
                       "'_', '-' and '.')",
                       value);
}

// --phase and --gates split their values on commas here rather than with
// CLI11's delimiter, which drops empty entries: `--gates a.b,` is a mistake
// to report, not a list of one.
// "'x'", or "'x' in 'a,x'" when the value is a list.
std::string quoted_entry(const std::string& entry, const std::string& value) {
    return entry == value ? fmt::format("'{}'", entry) : fmt::format("'{}' in '{}'", entry, value);
}

std::string check_phase_arg(const std::string& value) {
    for (const auto& entry : split_list(value)) {
        if (!parse_phase_arg(entry)) {
            return quoted_entry(entry, value) + ": expected legacy, coexist or final, or MIGRATION=PHASE";
        }
    }
    return {};
}

bool is_gate_arg(const std::string& entry) {
    const auto dot = entry.find('.');
    return dot != std::string::npos && policy::is_name(entry.substr(0, dot), true) &&
           policy::is_name(entry.substr(dot + 1), true);
}

std::string check_gate_arg(const std::string& value) {
    for (const auto& entry : split_list(value)) {
        if (!is_gate_arg(entry)) return quoted_entry(entry, value) + ": expected MIGRATION.GATE";
    }
    return {};
}

std::string check_table_arg(const std::string& value) { return policy::table_name_error(value).value_or(""); }

std::optional<policy::Phase> parse_phase(std::string_view s) {
    if (s == "legacy") return policy::Phase::legacy;
    if (s == "coexist") return policy::Phase::coexist;
    if (s == "final") return policy::Phase::final_;
    return std::nullopt;
}

}  // namespace

std::vector<std::string> split_list(const std::string& value) {
    std::vector<std::string> entries;
    std::size_t begin = 0;
    for (std::size_t comma; (comma = value.find(',', begin)) != std::string::npos; begin = comma + 1) {
        entries.push_back(value.substr(begin, comma - begin));
    }
    entries.push_back(value.substr(begin));
    return entries;
}

std::optional<PhaseArg> parse_phase_arg(std::string_view text) {
    const auto eq = text.find('=');
    auto phase = parse_phase(eq == std::string_view::npos ? text : text.substr(eq + 1));
    if (!phase) return std::nullopt;
    if (eq == std::string_view::npos) return PhaseArg{{}, *phase};
    if (!policy::is_name(text.substr(0, eq), true)) return std::nullopt;
    return PhaseArg{std::string(text.substr(0, eq)), *phase};
}

void take_one_value_per_occurrence(CLI::App& app) {
    for (CLI::Option* option : app.get_options()) {
        if (!option->get_positional()) option->allow_extra_args(false);
    }
    for (CLI::App* sub : app.get_subcommands({})) take_one_value_per_occurrence(*sub);
}

void add_policy_file_options(CLI::App& cmd, PolicyArgs& args) {
    cmd.add_option("POLICY", args.policy, "site policy file")->capture_default_str();
    add_include_path_option(cmd, args);
}

void add_include_path_option(CLI::App& cmd, PolicyArgs& args) {
    cmd.add_option("-I,--include-path", args.include_paths,
                   "directory searched for included profiles (before $NFTPOLICY_PATH, /etc/nftpolicy and "
                   "the shipped profiles); one per option, repeatable");
}

void add_projection_options(CLI::App& cmd, PolicyArgs& args) {
    cmd.add_option("--host", args.host, "the [hosts.NAME] to compile for (default: the only host, or this "
                                        "machine's hostname)")
        ->check(CLI::Validator(check_host_arg, "HOST"));
    cmd.add_option("--phase", args.phases, "legacy|coexist|final for every migration, or MIGRATION=PHASE; "
                                           "comma-separated or repeated")
        ->check(CLI::Validator(check_phase_arg, "PHASE"));
    cmd.add_option("--gates", args.gates, "flipped gates MIGRATION.GATE, comma-separated or repeated")
        ->check(CLI::Validator(check_gate_arg, "GATE"));
    add_table_option(cmd, args.table, "name of the inet table nftpolicy owns (default: [settings] table, "
                                      "else nftpolicy)");
}

void add_table_option(CLI::App& cmd, std::string& table, const std::string& description) {
    cmd.add_option("--table", table, description)->check(CLI::Validator(check_table_arg, "TABLE"));
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

namespace {

// False after reporting when `target`, given `before`, is given another
// phase `now`: which of the two the user meant is not ours to guess.
bool same_phase(policy::Phase before, policy::Phase now, const std::string& target) {
    if (before == now) return true;
    std::cerr << fmt::format("nftpolicy: error: --phase: {} is given two phases, '{}' and '{}'; expected one\n",
                             target, resolve::phase_name(before), resolve::phase_name(now));
    return false;
}

bool add_phase(const PhaseArg& p, resolve::ResolveOptions& options) {
    if (p.migration.empty()) {
        if (options.phase && !same_phase(*options.phase, p.phase, "every migration")) return false;
        options.phase = p.phase;
        return true;
    }
    auto [it, inserted] = options.phase_of.try_emplace(p.migration, p.phase);
    return inserted || same_phase(it->second, p.phase, "migration '" + p.migration + "'");
}

}  // namespace

std::optional<resolve::ResolveOptions> option_values(const PolicyArgs& args) {
    resolve::ResolveOptions options;
    options.host = args.host;
    for (const auto& value : args.phases) {
        for (const auto& entry : split_list(value)) {
            auto p = parse_phase_arg(entry);  // checked while parsing the command line
            if (!p || !add_phase(*p, options)) return std::nullopt;
        }
    }
    for (const auto& value : args.gates) {
        for (auto& entry : split_list(value)) options.flipped_gates.insert(std::move(entry));
    }
    return options;
}

std::optional<resolve::ResolveOptions> resolve_options(const PolicyArgs& args, const policy::Policy& policy) {
    auto options = option_values(args);
    if (!options) return std::nullopt;
    if (options->host.empty()) options->host = default_host(policy);
    Diagnostics diags;
    const bool ok = resolve::check_options(policy, *options, diags);
    print_diagnostics(diags);
    if (!ok) return std::nullopt;
    return options;
}

std::optional<Compiled> compile(const PolicyArgs& args, int& exit_code) {
    Compiled out;
    out.sources = std::make_unique<SourceManager>();
    exit_code = exit_invalid_policy;
    std::optional<resolve::Projection> projection;
    {
        if (!option_values(args)) {  // before any file is read
            exit_code = exit_usage;
            return std::nullopt;
        }
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
    out.flows = projection->flows.size();
    out.table = ir::lower(*projection);
    out.host = projection->host;
    out.mode = projection->mode;
    out.phases = projection->phases;
    out.flipped_gates = projection->flipped_gates;
    exit_code = exit_ok;
    return out;
}
}  // namespace nftpolicy::cli
