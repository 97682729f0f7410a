// Shared options and rendering of the subcommands; see common.h.
#include "cli/common.h"

#include <iostream>

#include <fmt/format.h>

#include "policy/names.h"

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

}  // namespace

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
    add_selection_options(cmd, args, "the [hosts.NAME] to compile for (default: the only host, or this "
                                     "machine's hostname)");
    add_table_option(cmd, args.table, "name of the inet table nftpolicy owns (default: [settings] table, "
                                      "else nftpolicy)");
}

void add_selection_options(CLI::App& cmd, PolicyArgs& args, const std::string& host_description) {
    cmd.add_option("--host", args.host, host_description)->check(CLI::Validator(check_host_arg, "HOST"));
    cmd.add_option("--phase", args.phases, "legacy|coexist|final for every migration, or MIGRATION=PHASE; "
                                           "comma-separated or repeated")
        ->check(CLI::Validator(check_phase_arg, "PHASE"));
    cmd.add_option("--gates", args.gates, "flipped gates MIGRATION.GATE, comma-separated or repeated")
        ->check(CLI::Validator(check_gate_arg, "GATE"));
}

void add_table_option(CLI::App& cmd, std::string& table, const std::string& description) {
    cmd.add_option("--table", table, description)->check(CLI::Validator(check_table_arg, "TABLE"));
}

void print_diagnostics(const Diagnostics& diags) { std::cerr << render_all(diags); }

int exit_code_of(pipeline::FailureKind kind) {
    using pipeline::FailureKind;
    switch (kind) {
        case FailureKind::unreadable: return exit_system;
        case FailureKind::bad_selection: return exit_usage;
        case FailureKind::invalid_policy: return exit_invalid_policy;
        case FailureKind::busy: return exit_busy;
        case FailureKind::kernel: return exit_kernel;
        case FailureKind::system: return exit_system;
        case FailureKind::refused: return exit_refused;
    }
    return exit_system;
}

void report_failure(const pipeline::Failure& failure, int& exit_code) {
    exit_code = exit_code_of(failure.kind);
    if (!failure.message.empty()) std::cerr << "nftpolicy: error: " << failure.message << '\n';
}

bool policy_file_readable(const std::string& path) {
    auto readable = pipeline::check_readable(path);
    if (!readable) std::cerr << "nftpolicy: error: " << readable.error().message << '\n';
    return readable.has_value();
}

std::optional<policy::Policy> load(const PolicyArgs& args, SourceManager& sources) {
    Diagnostics diags;
    auto policy = pipeline::load(args, sources, diags);
    print_diagnostics(diags);
    return policy;
}

std::optional<resolve::ResolveOptions> option_values(const PolicyArgs& args) {
    auto options = pipeline::option_values(args);
    if (!options) {
        std::cerr << "nftpolicy: error: " << options.error().message << '\n';
        return std::nullopt;
    }
    return std::move(*options);
}

std::optional<resolve::ResolveOptions> resolve_options(const PolicyArgs& args, const policy::Policy& policy) {
    Diagnostics diags;
    auto options = pipeline::resolve_options(args, policy, diags);
    print_diagnostics(diags);
    if (!options) {
        std::cerr << "nftpolicy: error: " << options.error().message << '\n';
        return std::nullopt;
    }
    return std::move(*options);
}

std::optional<Compiled> compile(const PolicyArgs& args, int& exit_code) {
    auto out = pipeline::compile(args);
    print_diagnostics(out.diagnostics);
    if (!out.result) {
        report_failure(out.result.error(), exit_code);
        return std::nullopt;
    }
    exit_code = exit_ok;
    return std::move(*out.result);
}

}  // namespace nftpolicy::cli
