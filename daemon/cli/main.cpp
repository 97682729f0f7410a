// `nftpolicy`: the command-line front end. Parses arguments with CLI11 and
// dispatches to the subcommands registered in cli/commands.h.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/common.h"

int main(int argc, char** argv) {
    using namespace nftpolicy::cli;
    CLI::App app{"nftpolicy: compile declarative TOML policies into atomic nftables rulesets"};
    app.set_version_flag("--version", NFTPOLICY_VERSION);
    app.require_subcommand(1);
    int exit_code = exit_ok;
    register_check(app, exit_code);
    register_compile(app, exit_code);
    register_apply(app, exit_code);
    register_diff(app, exit_code);
    register_status(app, exit_code);
    register_migration(app, exit_code);
    register_reload(app, exit_code);
    take_one_value_per_occurrence(app);
    // Every command-line error reads like the others: "nftpolicy: error: ...".
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return std::string("nftpolicy: error: ") + e.what() + "\nRun with --help for more information.\n";
    });
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return exit_usage;
    }
    return exit_code;
}
