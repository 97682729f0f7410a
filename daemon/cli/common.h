// What every `nftpolicy` subcommand shares: exit codes, the policy options
// (--include-path, --host, --phase, --gates, --table), and the rendering of
// the pipeline's diagnostics and failures (pipeline/) to stderr.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "pipeline/compile.h"

namespace nftpolicy::cli {

// Exit codes, the same for every command (docs/cli.md).
enum Exit : int {
    exit_ok = 0,
    exit_differences = 1,    // `diff`: the kernel differs from the policy
    exit_usage = 2,          // bad command line
    exit_invalid_policy = 3, // the policy has errors; nothing was changed
    exit_system = 4,         // I/O, permissions, netlink failure
    exit_kernel = 5,         // the kernel rejected the ruleset; nothing was changed
    exit_busy = 6,           // another apply holds the lock, or the ruleset kept changing
    exit_refused = 7,        // a safety check refused (legacy users, lockout guard, pending confirmation); nothing changed
};

inline constexpr const char* kDefaultPolicy = pipeline::kDefaultPolicy;

// Options that select what to compile.
using PolicyArgs = pipeline::PolicyRequest;
using Compiled = pipeline::Compiled;

// Every option of `app` and its subcommands takes exactly one value per
// occurrence (repeat the option for more; some also split on commas), so that
// `apply --phase coexist site.toml` reads site.toml as the POLICY positional,
// never as one more phase. main() calls it once every command is registered.
void take_one_value_per_occurrence(CLI::App& app);

// `--phase` values: "PHASE" for every migration, or "MIGRATION=PHASE"; lists.
using pipeline::parse_phase_arg;
using pipeline::PhaseArg;
using pipeline::split_list;

// Adds the POLICY positional and --include-path to `cmd`.
void add_policy_file_options(CLI::App& cmd, PolicyArgs& args);
// Adds --table, checked by the rule `[settings] table` follows.
void add_table_option(CLI::App& cmd, std::string& table, const std::string& description);
// Adds --include-path alone (`check` takes several files).
void add_include_path_option(CLI::App& cmd, PolicyArgs& args);
// Adds --host, --phase, --gates and --table to `cmd`; their values are
// checked while parsing (exit 2 before any file is read).
void add_projection_options(CLI::App& cmd, PolicyArgs& args);
// Adds --host (described by `host_description`), --phase and --gates alone.
void add_selection_options(CLI::App& cmd, PolicyArgs& args, const std::string& host_description);

// False (with a message on stderr) when `path` is missing or not a readable
// regular file: a system error (exit 4), not an invalid policy.
bool policy_file_readable(const std::string& path);

// Loads the policy with the configured search path; prints diagnostics.
std::optional<policy::Policy> load(const PolicyArgs& args, SourceManager& sources);

// --host, --phase and --gates as resolve options, without the policy;
// nullopt after reporting two different phases for one migration.
std::optional<resolve::ResolveOptions> option_values(const PolicyArgs& args);
// Turns --host/--phase/--gates into resolve options and checks the names they
// give against the policy; reports unknown ones to stderr (a usage error).
std::optional<resolve::ResolveOptions> resolve_options(const PolicyArgs& args, const policy::Policy& policy);

// load -> resolve -> lower. Prints diagnostics (errors and warnings) to stderr.
// On failure returns nullopt and sets `exit_code`.
std::optional<Compiled> compile(const PolicyArgs& args, int& exit_code);

// The exit code for a failure of that kind.
int exit_code_of(pipeline::FailureKind kind);

// Prints "nftpolicy: error: ..." for `failure` when it has a message (an
// invalid policy has none: its diagnostics say it) and sets the exit code.
void report_failure(const pipeline::Failure& failure, int& exit_code);

// Prints every diagnostic to stderr.
void print_diagnostics(const Diagnostics& diags);

}  // namespace nftpolicy::cli
