// `nftpolicy`: the command-line front end. Parses arguments with CLI11 and
// dispatches to the subcommands registered in cli/commands.h.
#include <algorithm>
#include <iostream>
#include <iterator>
#include <string_view>

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

using Register = void (*)(CLI::App&, int&);
struct Command {
    std::string_view name;
    Register add;
};
constexpr Command kCommands[] = {
    {"check", nftpolicy::cli::register_check},       {"compile", nftpolicy::cli::register_compile},
    {"apply", nftpolicy::cli::register_apply},       {"diff", nftpolicy::cli::register_diff},
    {"status", nftpolicy::cli::register_status},     {"migration", nftpolicy::cli::register_migration},
    {"reload", nftpolicy::cli::register_reload},     {"matrix", nftpolicy::cli::register_matrix},
    {"metrics", nftpolicy::cli::register_metrics},   {"confirm", nftpolicy::cli::register_confirm},
    {"rollback", nftpolicy::cli::register_rollback},
};

std::string_view first_argument(int argc, char** argv) { return argc > 1 ? argv[1] : ""; }

// The command the first argument names, or nullptr.
const Command* named_command(int argc, char** argv) {
    const std::string_view first = first_argument(argc, argv);
    const auto named = std::find_if(std::begin(kCommands), std::end(kCommands),
                                    [&](const Command& c) { return c.name == first; });
    return named == std::end(kCommands) ? nullptr : named;
}

// Registers the command the first argument names, or every command when it
// names none (--help, --version, a typo to find a near name for): building
// the options of all eleven was a third of what a short command such as
// `nftpolicy reload` spends in user space.
void register_commands(CLI::App& app, int& exit_code, int argc, char** argv) {
    if (const Command* named = named_command(argc, argv)) return named->add(app, exit_code);
    for (const Command& c : kCommands) c.add(app, exit_code);
}

// "unknown command 'relod'; did you mean 'reload'?" when the first argument
// is neither an option nor a command; nothing otherwise.
std::string unknown_command(int argc, char** argv) {
    const std::string_view first = first_argument(argc, argv);
    if (first.empty() || first[0] == '-' || named_command(argc, argv)) return {};
    std::vector<std::string> names;
    for (const Command& c : kCommands) names.emplace_back(c.name);
    std::string msg = fmt::format("unknown command '{}'", first);
    std::string near = nftpolicy::closest_match(std::string(first), names);
    if (!near.empty()) msg += fmt::format("; did you mean '{}'?", near);
    return msg;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace nftpolicy::cli;
    CLI::App app{"nftpolicy: compile declarative TOML policies into atomic nftables rulesets"};
    app.set_version_flag("--version", NFTPOLICY_VERSION);
    app.require_subcommand(1);
    int exit_code = exit_ok;
    register_commands(app, exit_code, argc, argv);
    take_one_value_per_occurrence(app);
    // Every command-line error reads like the others: "nftpolicy: error: ...".
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return std::string("nftpolicy: error: ") + e.what() + "\nRun with --help for more information.\n";
    });
    if (std::string unknown = unknown_command(argc, argv); !unknown.empty()) {
        std::cerr << "nftpolicy: error: " << unknown << "\nRun with --help for more information.\n";
        return exit_usage;
    }
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
