// `nftpolicy reload`: ask the running nftpolicyd to reload the policy and
// wait for the outcome (what `systemctl reload nftpolicyd` runs: systemd 252
// has no Type=notify-reload). Prints the daemon's diagnostics, with
// file:line:col, and exits like `apply` would: 0 when the kernel now holds
// the policy, 3 for an invalid policy (the daemon keeps the last good
// ruleset), 5 when the kernel refused it, 4 when no daemon answers.
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/kernel_common.h"
#include "service/control.h"

namespace nftpolicy::cli {

namespace {

struct ReloadArgs {
    std::string runtime_dir = service::kDefaultRuntimeDir;
    int timeout = 120;
    bool status = false;
    bool force = false;  // past the lockout guard
};

// The control line: `status`, or `reload [force] [ssh $SSH_CONNECTION]`, so
// that the daemon's lockout guard keeps the session this command runs in.
std::string command_of(const ReloadArgs& args) {
    if (args.status) return "status";
    std::string cmd = args.force ? "reload force" : "reload";
    const std::string ssh = ssh_connection();
    if (!ssh.empty() && ssh.find('\n') == std::string::npos) cmd += " ssh " + ssh;
    return cmd;
}

void run(const ReloadArgs& args, int& exit_code) {
    auto reply = service::send_command(args.runtime_dir, command_of(args), args.timeout);
    if (!reply) {
        std::cerr << "nftpolicy: error: " << reply.error().message << '\n';
        exit_code = reply.error().kind == ErrorKind::conflict ? exit_busy : exit_system;
        return;
    }
    std::cerr << reply->diagnostics;
    if (reply->failure) {
        exit_code = exit_code_of(*reply->failure);
        std::cerr << "nftpolicy: reload failed; nftpolicyd keeps its ruleset: " << reply->status
                  << '\n';
        return;
    }
    std::cout << (args.status ? "" : "reloaded: ") << reply->status << '\n';
}

}  // namespace

void register_reload(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<ReloadArgs>();
    auto* cmd = app.add_subcommand(
        "reload", "ask the running nftpolicyd to reload the policy; wait for the result");
    add_runtime_dir_option(*cmd, args->runtime_dir);
    cmd->add_option("--timeout", args->timeout, "seconds to wait for the outcome")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_flag("--status", args->status, "only print the daemon's status line; reload nothing");
    cmd->add_flag("--force", args->force,
                  "load the policy even if its ruleset cuts management access");
    cmd->callback([args, &exit_code] { run(*args, exit_code); });
}

}  // namespace nftpolicy::cli
