// Arming whoever enforces a confirmation deadline; see confirm_enforce.h.
#include "cli/confirm_enforce.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include <fmt/format.h>

#include "service/control.h"

namespace nftpolicy::cli {

namespace {

std::string self_path() {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("nftpolicy");
}

std::string link_of(const char* path) {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink(path, buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// systemd runs PID 1 and its timers would run in our network namespace.
bool systemd_here() {
    struct stat st {};
    if (::lstat("/run/systemd/system", &st) != 0 || !S_ISDIR(st.st_mode)) return false;
    const std::string pid1 = link_of("/proc/1/ns/net");
    return !pid1.empty() && pid1 == link_of("/proc/self/ns/net");
}

std::vector<char*> argv_of(std::vector<std::string>& args) {
    std::vector<char*> out;
    for (auto& a : args) out.push_back(a.data());
    out.push_back(nullptr);
    return out;
}

// Runs `args` and waits; its output goes to ours.
bool run_and_wait(std::vector<std::string> args) {
    const pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
        auto argv = argv_of(args);
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Result<Enforcement> arm_systemd(const ArmTarget& t) {
    const std::string unit = fmt::format("nftpolicy-rollback-{}", t.deadline);
    std::vector<std::string> args{
        "systemd-run",
        "--quiet",
        "--unit=" + unit,
        fmt::format("--on-active={}", std::max<std::int64_t>(t.deadline - t.now, 1)),
        "--timer-property=AccuracySec=100ms",
        "--"};
    for (auto& a : rollback_command(t)) args.push_back(std::move(a));
    if (!run_and_wait(std::move(args)))
        return fail(ErrorKind::io, "systemd-run could not start the rollback timer");
    return Enforcement{service::Enforcer::systemd, unit + ".timer"};
}

void sleep_until(std::int64_t deadline) {
    timespec at{static_cast<time_t>(deadline), 0};
    while (::clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &at, nullptr) == EINTR) {
    }
}

// The grandchild: no terminal, no session of the CLI, no inherited output
// (a caller reading our output to its end must not wait for it).
[[noreturn]] void waiter(const ArmTarget& t) {
    const int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
    if (::chdir("/") != 0) ::_exit(1);
    sleep_until(t.deadline);
    auto args = rollback_command(t);
    auto argv = argv_of(args);
    ::execv(argv[0], argv.data());
    ::_exit(127);
}

Result<Enforcement> arm_waiter(const ArmTarget& t) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return fail(ErrorKind::io, std::string("pipe: ") + std::strerror(errno));
    const pid_t child = ::fork();
    if (child < 0) return fail(ErrorKind::io, std::string("fork: ") + std::strerror(errno));
    if (child == 0) {
        ::close(fds[0]);
        ::setsid();
        const pid_t grandchild = ::fork();
        if (grandchild == 0) {
            ::close(fds[1]);
            waiter(t);
        }
        const auto pid = static_cast<std::int32_t>(grandchild);
        ::_exit(::write(fds[1], &pid, sizeof pid) == sizeof pid && grandchild > 0 ? 0 : 1);
    }
    ::close(fds[1]);
    std::int32_t pid = -1;
    const bool got = ::read(fds[0], &pid, sizeof pid) == sizeof pid;
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!got || pid <= 0) return fail(ErrorKind::io, "could not start the rollback waiter");
    return Enforcement{service::Enforcer::waiter, std::to_string(pid)};
}

}  // namespace

std::vector<std::string> rollback_command(const ArmTarget& t) {
    return {self_path(),  "rollback",   "--if-pending",   "--state-dir", t.state.state_dir,
            "--lock",     t.state.lock, "--lock-timeout", "60",          "--runtime-dir",
            t.runtime_dir};
}

void disarm_enforcer(const Enforcement& e) {
    switch (e.enforcer) {
        case service::Enforcer::daemon: return;
        case service::Enforcer::systemd: run_and_wait({"systemctl", "stop", e.id}); return;
        case service::Enforcer::waiter: ::kill(static_cast<pid_t>(std::stol(e.id)), SIGTERM); return;
    }
}

Result<Enforcement> arm_enforcer(const ArmTarget& t) {
    auto reply =
        service::send_command(t.runtime_dir, fmt::format("confirm-arm {}", t.deadline), 10);
    if (reply && !reply->failure) return Enforcement{service::Enforcer::daemon, ""};
    if (reply)
        return fail(ErrorKind::io, "nftpolicyd refused to arm the deadline: " + reply->diagnostics);
    if (systemd_here()) return arm_systemd(t);
    return arm_waiter(t);
}

}  // namespace nftpolicy::cli
