// The control socket: a root-only unix stream socket in the runtime
// directory (default /run/nftpolicy/control, mode 0600 in a 0700
// directory) through which `nftpolicy reload` asks nftpolicyd to reload and
// waits for the outcome (systemd 252 has no Type=notify-reload, so
// ExecReload= runs that client). Protocol (docs/daemon.md, "Control
// socket"): the client sends one line, `reload` or `status`, and reads to
// EOF a reply of header lines, an empty line, then the rendered
// diagnostics:
//
//   nftpolicyd 1
//   result ok|invalid_policy|unreadable|bad_selection|kernel|busy|system
//   generation N
//   status TEXT
//
//   site.toml:4:9: error: ...
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pipeline/failure.h"
#include "support/result.h"

namespace nftpolicy::service {

inline constexpr const char* kDefaultRuntimeDir = "/run/nftpolicy";

std::string control_path(const std::string& runtime_dir);

struct Reply {
    std::optional<pipeline::FailureKind> failure;  // nullopt: ok
    std::uint64_t generation = 0;
    std::string status;
    std::string diagnostics;
};

const char* result_name(const std::optional<pipeline::FailureKind>& failure);
std::string format_reply(const Reply& reply);
Result<Reply> parse_reply(const std::string& text);

// Creates the runtime directory (0700) if needed, replaces a stale socket,
// binds and listens (0600). Returns the listening descriptor, non-blocking.
Result<int> listen_control(const std::string& runtime_dir);

// The uid of the peer of a connected unix socket, or nullopt.
std::optional<std::uint32_t> peer_uid(int fd);

// Client: sends `command` and waits up to `timeout_seconds` for the reply.
Result<Reply> send_command(const std::string& runtime_dir, const std::string& command,
                           int timeout_seconds);

// Whether a daemon answers `status` on the control socket of `runtime_dir`.
bool daemon_answers(const std::string& runtime_dir);

}  // namespace nftpolicy::service
