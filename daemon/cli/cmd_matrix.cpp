// `nftpolicy matrix`: who can reach whom across the site, for one choice of
// phases and gates, and what each migration step changes (docs/matrix.md).
// The matrix is computed by pipeline/ and matrix/; this file only renders
// it, and for SVG hands the DOT to Graphviz's `dot`.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/matrix_render.h"
#include "pipeline/matrix.h"
#include "support/atomic_file.h"

extern char** environ;

namespace nftpolicy::cli {

namespace {

struct MatrixArgs {
    PolicyArgs policy;
    std::string format = "text";
};

// The first executable `name` in $PATH, or empty.
std::string find_in_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    const std::string dirs = path ? path : "";
    std::size_t begin = 0;
    while (begin <= dirs.size()) {
        std::size_t end = dirs.find(':', begin);
        if (end == std::string::npos) end = dirs.size();
        const std::string candidate =
            (end == begin ? std::string(".") : dirs.substr(begin, end - begin)) + "/" + name;
        if (access(candidate.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(candidate))
            return candidate;
        begin = end + 1;
    }
    return {};
}

// Runs `dot -Tsvg` with the DOT on its standard input and its output on
// ours; the exit code of the command.
int run_dot(const std::string& dot_text) {
    const std::string dot = find_in_path("dot");
    if (dot.empty()) {
        std::cerr << "nftpolicy: error: --format svg needs Graphviz's `dot`, which is not in PATH; "
                     "install it "
                     "(Debian: apt install graphviz) or use --format dot and render the graph "
                     "elsewhere\n";
        return exit_system;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return exit_system;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
    char arg0[] = "dot", arg1[] = "-Tsvg";
    char* argv[] = {arg0, arg1, nullptr};
    std::cout.flush();
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, dot.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[0]);
    const bool written = spawned == 0 && write_all(fds[1], dot_text);
    close(fds[1]);
    int status = 0;
    if (spawned == 0) waitpid(pid, &status, 0);
    if (spawned != 0 || !written || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::cerr << "nftpolicy: error: " << dot << " -Tsvg failed"
                  << (spawned != 0 ? std::string(": ") + std::strerror(spawned) : std::string())
                  << '\n';
        return exit_system;
    }
    return exit_ok;
}

int render(const matrix::Matrix& m, const std::string& format) {
    if (format == "json") std::cout << matrix_json(m).dump(2) << '\n';
    if (format == "dot") std::cout << matrix_dot(m);
    if (format == "text") std::cout << matrix_text(m);
    if (format == "svg") return run_dot(matrix_dot(m));
    return exit_ok;
}

}  // namespace

void register_matrix(CLI::App& app, int& exit_code) {
    auto args = std::make_shared<MatrixArgs>();
    auto* cmd =
        app.add_subcommand("matrix", "who can reach whom across the site, per phase and gate");
    add_policy_file_options(*cmd, args->policy);
    add_selection_options(*cmd, args->policy,
                          "only what the [hosts.NAME] enforces (default: the whole site)");
    cmd->add_option("--format", args->format,
                    "text (default), json, dot (Graphviz) or svg (runs dot -Tsvg)")
        ->check(CLI::IsMember({"text", "json", "dot", "svg"}));
    cmd->callback([args, &exit_code] {
        auto out = pipeline::site_matrix(args->policy);
        print_diagnostics(out.diagnostics);
        if (!out.result) {
            report_failure(out.result.error(), exit_code);
            return;
        }
        exit_code = render(*out.result, args->format);
    });
}

}  // namespace nftpolicy::cli
