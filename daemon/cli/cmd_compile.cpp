// `nftpolicy compile`: prints the nft text of one host's projection. The
// output replaces exactly our table when fed to `nft -f`.
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "emit/nft_text.h"

namespace nftpolicy::cli {

namespace {

struct CompileArgs {
    PolicyArgs policy;
    bool no_replace = false;
};

}  // namespace

void register_compile(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<CompileArgs>();
    auto* cmd = app.add_subcommand("compile", "print the nft ruleset for one host and phase");
    add_policy_file_options(*cmd, args->policy);
    add_projection_options(*cmd, args->policy);
    cmd->add_flag("--no-replace", args->no_replace,
                  "print only the table, without the 'delete table' header that makes nft -f replace it");
    cmd->callback([args, &exit_code] {
        auto compiled = compile(args->policy, exit_code);
        if (!compiled) return;
        std::cout << emit::nft_text(compiled->table, emit::TextOptions{!args->no_replace});
    });
}

}  // namespace nftpolicy::cli
