// The control socket and its client; see control.h.
#include "service/control.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

namespace nftpolicy::service {

namespace {

constexpr const char* kMagic = "nftpolicyd 1";

struct Kind {
    pipeline::FailureKind kind;
    const char* name;
};
constexpr Kind kKinds[] = {
    {pipeline::FailureKind::unreadable, "unreadable"},
    {pipeline::FailureKind::bad_selection, "bad_selection"},
    {pipeline::FailureKind::invalid_policy, "invalid_policy"},
    {pipeline::FailureKind::busy, "busy"},
    {pipeline::FailureKind::kernel, "kernel"},
    {pipeline::FailureKind::system, "system"},
    {pipeline::FailureKind::refused, "refused"},
};

Result<void> errno_fail(const std::string& what) {
    return fail(errno == EACCES || errno == EPERM ? ErrorKind::permission : ErrorKind::io,
                fmt::format("{}: {}", what, std::strerror(errno)));
}

Result<sockaddr_un> address_of(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        return fail(ErrorKind::invalid, "socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

// The runtime directory, root-only.
Result<void> private_dir(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return errno_fail("cannot create " + dir);
    if (::chmod(dir.c_str(), 0700) != 0) return errno_fail("cannot restrict " + dir);
    return {};
}

Result<int> bound_socket(const std::string& path) {
    auto addr = address_of(path);
    if (!addr) return tl::unexpected(addr.error());
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return tl::unexpected(errno_fail("socket").error());
    ::unlink(path.c_str());  // a socket left by a crashed daemon
    const mode_t old = ::umask(0177);
    const int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr);
    ::umask(old);
    if (rc != 0 || ::chmod(path.c_str(), 0600) != 0 || ::listen(fd, 16) != 0) {
        auto err = errno_fail("cannot listen on " + path);
        ::close(fd);
        return tl::unexpected(err.error());
    }
    return fd;
}

void header_line(Reply& r, const std::string& key, const std::string& value, bool& known_result) {
    if (key == "result") {
        known_result = value == "ok";
        for (const Kind& k : kKinds) {
            if (value == k.name) {
                r.failure = k.kind;
                known_result = true;
            }
        }
    } else if (key == "generation") {
        r.generation = std::strtoull(value.c_str(), nullptr, 10);
    } else if (key == "status") {
        r.status = value;
    }
}

}  // namespace

std::string control_path(const std::string& runtime_dir) {
    return runtime_dir + "/control";
}

const char* result_name(const std::optional<pipeline::FailureKind>& failure) {
    if (!failure) return "ok";
    for (const Kind& k : kKinds) {
        if (k.kind == *failure) return k.name;
    }
    return "system";
}

std::string format_reply(const Reply& r) {
    return fmt::format("{}\nresult {}\ngeneration {}\nstatus {}\n\n{}", kMagic,
                       result_name(r.failure), r.generation, r.status, r.diagnostics);
}

Result<Reply> parse_reply(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line != kMagic) {
        return fail(ErrorKind::invalid,
                    "not a reply of nftpolicyd (expected '" + std::string(kMagic) + "')");
    }
    Reply r;
    bool known_result = false;
    while (std::getline(in, line) && !line.empty()) {
        const auto sp = line.find(' ');
        header_line(r, line.substr(0, sp), sp == std::string::npos ? "" : line.substr(sp + 1),
                    known_result);
    }
    if (!known_result) return fail(ErrorKind::invalid, "nftpolicyd's reply has no known result");
    std::ostringstream rest;
    rest << in.rdbuf();
    r.diagnostics = rest.str();
    return r;
}

Result<int> listen_control(const std::string& runtime_dir) {
    if (auto dir = private_dir(runtime_dir); !dir) return tl::unexpected(dir.error());
    return bound_socket(control_path(runtime_dir));
}

std::optional<std::uint32_t> peer_uid(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return std::nullopt;
    return cred.uid;
}

namespace {

Result<int> connect_to(const std::string& path) {
    auto addr = address_of(path);
    if (!addr) return tl::unexpected(addr.error());
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return tl::unexpected(errno_fail("socket").error());
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) {
        const bool absent = errno == ENOENT || errno == ECONNREFUSED;
        auto err = errno_fail("cannot connect to " + path);
        ::close(fd);
        if (absent)
            return fail(ErrorKind::io, "nftpolicyd is not running (" + err.error().message + ")");
        return tl::unexpected(err.error());
    }
    return fd;
}

std::int64_t now_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

Result<std::string> read_all(int fd, int timeout_seconds) {
    std::string out;
    const std::int64_t deadline = now_ms() + std::int64_t(timeout_seconds) * 1000;
    char buf[4096];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        const auto left = deadline - now_ms();
        if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) == 0) {
            return fail(
                ErrorKind::conflict,
                fmt::format("no answer from nftpolicyd within {} s (it may still be reloading)",
                            timeout_seconds));
        }
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return tl::unexpected(errno_fail("reading nftpolicyd's reply").error());
        if (n == 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

}  // namespace

bool daemon_answers(const std::string& runtime_dir) {
    return send_command(runtime_dir, "status", 5).has_value();
}

Result<Reply> send_command(const std::string& runtime_dir, const std::string& command,
                           int timeout_seconds) {
    auto fd = connect_to(control_path(runtime_dir));
    if (!fd) return tl::unexpected(fd.error());
    const std::string line = command + "\n";
    Result<std::string> text = fail(ErrorKind::io, "");
    if (::write(*fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        text = tl::unexpected(errno_fail("writing to nftpolicyd").error());
    } else {
        ::shutdown(*fd, SHUT_WR);
        text = read_all(*fd, timeout_seconds);
    }
    ::close(*fd);
    if (!text) return tl::unexpected(text.error());
    return parse_reply(*text);
}

}  // namespace nftpolicy::service
