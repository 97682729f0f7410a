// `nftpolicyd`: the daemon's front end. Parses the command line (CLI11, as
// the CLI does) and runs service::run: set up the event loop, make the
// kernel hold the policy, READY=1, reload on request, until SIGTERM.
#include <malloc.h>

#include <iostream>

#include <CLI/CLI.hpp>

#include "service/control.h"
#include "service/manager.h"

int main(int argc, char** argv) {
    using namespace nftpolicy;
    // A fixed threshold: blocks of 1 MiB and more (a large group's interval
    // list is 32 MB at a million addresses) are mapped on their own and given
    // back when freed. glibc's default threshold rises to the largest block
    // freed, after which such lists stay in the heap after every reload.
    ::mallopt(M_MMAP_THRESHOLD, 1 << 20);
    service::ManagerOptions options;
    options.engine.state.state_dir = NFTPOLICY_STATE_DIR;
    options.runtime_dir = service::kDefaultRuntimeDir;
    options.metrics.dir = NFTPOLICY_METRICS_DIR;
    auto& policy = options.engine.policy;
    CLI::App app{"nftpolicyd: keep the kernel's nftables table what the site policy says"};
    app.set_version_flag("--version", NFTPOLICY_VERSION);
    app.add_option("POLICY", policy.policy, "the site policy file")->capture_default_str();
    app.add_option("-I,--include-path", policy.include_paths,
                   "directory searched for included profiles first; one per option, repeatable")
        ->allow_extra_args(false);
    app.add_option("--host", policy.host,
                   "the host to compile for (default: the policy's only host, or hostname)");
    app.add_option("--table", policy.table, "the inet table to own (overrides [settings] table)");
    app.add_option("--state-dir", options.engine.state.state_dir,
                   "phases, gates, last good ruleset")
        ->capture_default_str();
    app.add_option("--runtime-dir", options.runtime_dir, "control socket and apply lock")
        ->capture_default_str();
    app.add_option("--lock-timeout", options.engine.state.lock_timeout,
                   "seconds to wait for an apply of the CLI to finish")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--metrics-dir", options.metrics.dir,
                   "write DIR/nftpolicy.prom (node_exporter's textfile collector) after every change and "
                   "every --metrics-interval; empty: none")
        ->capture_default_str();
    double interval = 60;
    app.add_option("--metrics-interval", interval, "seconds between textfile rewrites")
        ->capture_default_str()
        ->check(CLI::Range(1.0, 86400.0));
    app.add_option("--event-buffer", options.event_buffer,
                   "bytes of receive buffer for nf_tables events (drift); a smaller one loses "
                   "events sooner, each loss costs a full read of the table")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{4096}, std::size_t{1} << 30));
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return std::string("nftpolicyd: error: ") + e.what() +
               "\nRun with --help for more information.\n";
    });
    CLI11_PARSE(app, argc, argv);
    options.metrics.interval_usec = static_cast<std::uint64_t>(interval * 1e6);
    return service::run(options);
}
