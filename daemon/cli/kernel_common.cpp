// Shared options and error reporting of apply/diff/status; see kernel_common.h.
#include "cli/kernel_common.h"

#include <cstdlib>
#include <iostream>

#include "cli/common.h"
#include "service/confirm.h"
#include "support/text.h"

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

std::string ssh_connection() {
    const char* v = std::getenv("SSH_CONNECTION");
    return v ? v : "";
}

void add_runtime_dir_option(CLI::App& cmd, std::string& runtime_dir) {
    cmd.add_option("--runtime-dir", runtime_dir, "nftpolicyd's runtime directory (control socket)")
        ->capture_default_str();
}

std::optional<std::int64_t> parse_confirm_duration(const std::string& value) {
    std::optional<std::uint64_t> secs;
    if (!value.empty() && value.size() <= 9 && value.find_first_not_of("0123456789") == std::string::npos) {
        secs = std::stoull(value);
    } else {
        secs = parse_duration(value);
    }
    if (!secs || *secs == 0 || *secs > static_cast<std::uint64_t>(service::kMaxConfirmSeconds)) return std::nullopt;
    return static_cast<std::int64_t>(*secs);
}

// A located error prints exactly like a policy diagnostic.
void report_error(const Error& error, int& exit_code) {
    for (const Diagnostic& d : error.diagnostics) std::cerr << render(d);
    report_failure(pipeline::failure_of(error), exit_code);
}

}  // namespace nftpolicy::cli
