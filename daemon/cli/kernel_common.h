// What the commands that talk to the kernel (apply, diff, status) share: the
// lock and state-file options and the mapping of errors to exit codes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "pipeline/apply.h"
#include "support/result.h"

namespace nftpolicy::cli {

// The lock and state directory, with the state directory this build installs to.
struct KernelArgs : pipeline::StateOptions {
    KernelArgs() { state_dir = NFTPOLICY_STATE_DIR; }
};

// Adds --lock, --lock-timeout and --state-dir.
void add_kernel_options(CLI::App& cmd, pipeline::StateOptions& args);

// Adds --runtime-dir: where nftpolicyd's control socket is.
void add_runtime_dir_option(CLI::App& cmd, std::string& runtime_dir);

// `--confirm` values: whole seconds ("30") or a duration ("90s", "2m"),
// from 1 s to service::kMaxConfirmSeconds; nullopt otherwise.
std::optional<std::int64_t> parse_confirm_duration(const std::string& value);

// $SSH_CONNECTION, empty when unset: the session the lockout guard keeps.
std::string ssh_connection();

// Prints "nftpolicy: error: ..." (or the error's diagnostics, rendered like
// policy errors: location, source line, caret) and sets the exit code for
// the error's kind.
void report_error(const Error& error, int& exit_code);

}  // namespace nftpolicy::cli
