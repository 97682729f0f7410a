// Registration of the `nftpolicy` subcommands. Each command lives in its own
// cmd_<name>.cpp and adds itself to the CLI11 app; its callback stores the
// exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace nftpolicy::cli {

void register_check(CLI::App& app, int& exit_code);
void register_compile(CLI::App& app, int& exit_code);
void register_apply(CLI::App& app, int& exit_code);   // cmd_apply.cpp
void register_diff(CLI::App& app, int& exit_code);    // cmd_diff.cpp
void register_status(CLI::App& app, int& exit_code);  // cmd_status.cpp
void register_migration(CLI::App& app, int& exit_code);  // cmd_migration.cpp
void register_reload(CLI::App& app, int& exit_code);     // cmd_reload.cpp: ask nftpolicyd
void register_matrix(CLI::App& app, int& exit_code);     // cmd_matrix.cpp
void register_metrics(CLI::App& app, int& exit_code);    // cmd_metrics.cpp
void register_confirm(CLI::App& app, int& exit_code);    // cmd_confirm.cpp
void register_rollback(CLI::App& app, int& exit_code);   // cmd_confirm.cpp

}  // namespace nftpolicy::cli
