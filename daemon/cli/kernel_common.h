// What the commands that talk to the kernel (apply, diff, status) share: the
// lock and state-file options and the mapping of errors to exit codes.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "kernel/apply_lock.h"
#include "support/result.h"

namespace nftpolicy::cli {

struct KernelArgs {
    std::string lock = kernel::kDefaultLockPath;
    int lock_timeout = 10;
    std::string state_dir = NFTPOLICY_STATE_DIR;
    std::string record_path() const { return state_dir + "/applied"; }
    std::string elements_path() const { return state_dir + "/elements"; }
};

// Adds --lock, --lock-timeout and --state-dir.
void add_kernel_options(CLI::App& cmd, KernelArgs& args);

// Prints "nftpolicy: error: ..." and sets the exit code for the error's kind.
void report_error(const Error& error, int& exit_code);

}  // namespace nftpolicy::cli
