// What the commands that talk to the kernel (apply, diff, status) share: the
// lock and state-file options and the mapping of errors to exit codes.
#pragma once

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

// Prints "nftpolicy: error: ..." (or the error's diagnostics, rendered like
// policy errors: location, source line, caret) and sets the exit code for
// the error's kind.
void report_error(const Error& error, int& exit_code);

}  // namespace nftpolicy::cli
