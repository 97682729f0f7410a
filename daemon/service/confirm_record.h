// The pending-confirmation record (default /var/lib/nftpolicy/confirm):
// written by `nftpolicy apply --confirm` before the lock is released, so the
// deadline survives the CLI being killed, the SSH session dropping and the
// daemon restarting. Whoever enforces the deadline (nftpolicyd, a transient
// systemd timer, a detached waiter) reads it back; after a rollback it
// stays, marked rolled back, so that a late `nftpolicy confirm` is told what
// happened and nftpolicyd does not load the rolled-back ruleset again
// (docs/confirm.md). Format, one `key value` per line, every key once:
//
//   nftpolicy-confirm 1
//   state pending|rolled-back
//   armed 1764680000          (unix seconds)
//   deadline 1764680030       (unix seconds, wall clock)
//   applied 0123456789abcdef  (ruleset hash of the unconfirmed ruleset)
//   restore fedcba9876543210  (ruleset hash of the last confirmed one)
//   table nftpolicy
//   policy /etc/nftpolicy/site.toml
//   enforcer nftpolicyd|systemd|waiter
//   enforcer_id nftpolicy-rollback-...   (unit name or pid; may be empty)
//   rolled_back_at 1764680031 (rolled-back only)
//   reason deadline passed    (rolled-back only: the rest of the line)
//
// Written atomically (support/atomic_file.h). The parser is strict: a
// hostile or damaged file is a clear error naming the file and line, never
// a guess.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "support/result.h"

namespace nftpolicy::service {

enum class ConfirmState { pending, rolled_back };
enum class Enforcer { daemon, systemd, waiter };
const char* enforcer_name(Enforcer e);

struct ConfirmRecord {
    ConfirmState state = ConfirmState::pending;
    std::int64_t armed = 0;
    std::int64_t deadline = 0;
    std::string applied;  // hash of the ruleset waiting for confirmation
    std::string restore;  // hash of the last confirmed ruleset, restored on rollback
    std::string table;
    std::string policy;
    Enforcer enforcer = Enforcer::waiter;
    std::string enforcer_id;
    std::int64_t rolled_back_at = 0;
    std::string reason;
    friend bool operator==(const ConfirmRecord&, const ConfirmRecord&) = default;
};

std::string confirm_path(const std::string& state_dir);
// The ruleset waiting for confirmation (ruleset_file.h format).
std::string unconfirmed_path(const std::string& state_dir);

std::string serialize_confirm(const ConfirmRecord& r);
// `path` only names the file in errors.
Result<ConfirmRecord> parse_confirm(const std::string& text, const std::string& path);

Result<void> write_confirm(const std::string& path, const ConfirmRecord& r);
// nullopt when the file does not exist.
Result<std::optional<ConfirmRecord>> read_confirm(const std::string& path);

}  // namespace nftpolicy::service
