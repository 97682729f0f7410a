// `nftpolicy metrics [--textfile DIR]`: the machine's Prometheus metrics
// (metrics/metrics.h), printed, or written atomically as DIR/nftpolicy.prom
// for node_exporter's textfile collector.
#include <ctime>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/kernel_common.h"
#include "metrics/metrics.h"

namespace nftpolicy::cli {

namespace {

struct MetricsArgs {
    PolicyArgs policy;
    KernelArgs kernel;
    std::string textfile_dir;
};

void run(const MetricsArgs& args, int& exit_code) {
    metrics::Request request{args.policy, args.kernel, static_cast<std::int64_t>(std::time(nullptr))};
    request.policy.state_dir = args.kernel.state_dir;
    auto snapshot = metrics::gather(request);
    if (!snapshot) return report_error(snapshot.error(), exit_code);
    exit_code = exit_ok;
    if (args.textfile_dir.empty()) {
        std::cout << metrics::render(*snapshot);
        return;
    }
    if (auto w = metrics::write_textfile(args.textfile_dir, *snapshot); !w) report_error(w.error(), exit_code);
}

}  // namespace

void register_metrics(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<MetricsArgs>();
    auto* cmd = app.add_subcommand("metrics", "Prometheus metrics: flow counters, legacy users per gate, last "
                                              "apply, policy errors (node_exporter textfile format)");
    add_policy_file_options(*cmd, args->policy);
    cmd->add_option("--host", args->policy.host, "the [hosts.NAME] this machine is (default: the only host, or "
                                                 "this machine's hostname)");
    add_table_option(*cmd, args->policy.table, "name of the inet table nftpolicy owns (default: [settings] table, "
                                               "else nftpolicy)");
    add_kernel_options(*cmd, args->kernel);
    cmd->add_option("--textfile", args->textfile_dir,
                    "write DIR/nftpolicy.prom atomically (node_exporter --collector.textfile.directory) "
                    "instead of printing");
    cmd->callback([args, &exit_code] { run(*args, exit_code); });
}

}  // namespace nftpolicy::cli
