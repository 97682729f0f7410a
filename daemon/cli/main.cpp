// `nftpolicy`: the command-line front end. Parses arguments with CLI11 and
// dispatches to the subcommands registered in cli/commands.h.
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "support/text.h"

namespace {

// The command that was given (`migration complete`, say): its options and
// those of the commands above it are the ones that could have been meant.
std::vector<std::string> option_names(const CLI::App& app, std::string& command) {
    std::vector<std::string> names;
    for (const CLI::App* a = &app; a != nullptr;) {
        for (const CLI::Option* opt : a->get_options()) {
            for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
            for (const auto& s : opt->get_snames()) names.push_back("-" + s);
        }
        auto subs = a->get_subcommands();
        if (subs.empty()) break;
        a = subs.front();
        command += command.empty() ? a->get_name() : " " + a->get_name();
    }
    return names;
}

// "unknown option '--phses' for 'compile'; did you mean '--phase'?", or
// nothing when no word left over looks like an option.
std::string unknown_option(const CLI::App& app) {
    for (std::string arg : app.remaining(true)) {
        if (arg.size() < 2 || arg[0] != '-') continue;
        arg = arg.substr(0, arg.find('='));
        std::string command;
        auto names = option_names(app, command);
        std::string msg = fmt::format("unknown option '{}' for '{}'", arg, command);
        std::string near = nftpolicy::closest_match(arg, names);
        if (!near.empty()) msg += fmt::format("; did you mean '{}'?", near);
        return msg;
    }
    return {};
}

}  // namespace

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
    register_matrix(app, exit_code);
    register_metrics(app, exit_code);
    register_confirm(app, exit_code);
    register_rollback(app, exit_code);
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
    } catch (const CLI::ExtrasError& e) {
        std::string unknown = unknown_option(app);
        if (unknown.empty()) {
            app.exit(e);
            return exit_usage;
        }
        std::cerr << "nftpolicy: error: " << unknown << "\nRun with --help for more information.\n";
        return exit_usage;
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return exit_usage;
    }
    return exit_code;
}
