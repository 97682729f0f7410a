// Registration of the `nftpolicy` subcommands. Each command lives in its own
// cmd_<name>.cpp and adds itself to the CLI11 app; its callback stores the
// exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace nftpolicy::cli {

void register_check(CLI::App& app, int& exit_code);
void register_compile(CLI::App& app, int& exit_code);

}  // namespace nftpolicy::cli
