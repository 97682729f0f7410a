// Shared options and error reporting of apply/diff/status; see kernel_common.h.
#include "cli/kernel_common.h"

#include <iostream>

#include "cli/common.h"

namespace nftpolicy::cli {

void add_kernel_options(CLI::App& cmd, pipeline::StateOptions& args) {
    cmd.add_option("--lock", args.lock, "lock file that serializes applies")->capture_default_str();
    cmd.add_option("--lock-timeout", args.lock_timeout, "seconds to wait for another apply to finish")
        ->capture_default_str()
        ->check(CLI::Validator(
            [](const std::string& value) {
                return !value.empty() && value.find_first_not_of("0123456789") == std::string::npos
                           ? std::string()
                           : "'" + value + "': expected a whole number of seconds, 0 or more";
            },
            "SECONDS"));
    cmd.add_option("--state-dir", args.state_dir, "where the record of the last apply is kept")->capture_default_str();
}

// A located error prints exactly like a policy diagnostic.
void report_error(const Error& error, int& exit_code) {
    for (const Diagnostic& d : error.diagnostics) std::cerr << render(d);
    report_failure(pipeline::failure_of(error), exit_code);
}

}  // namespace nftpolicy::cli
