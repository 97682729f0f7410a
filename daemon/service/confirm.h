// Safe changes on a remote machine (docs/confirm.md): the steps of
// `apply --confirm`, `confirm` and `rollback` on the state directory, shared
// by the CLI (no daemon running) and nftpolicyd (which enforces the deadline
// when it runs), and the lockout guard in front of every commit of a changed
// ruleset.
//
// The state directory keeps the last *confirmed* ruleset (`last-good`): a
// plain apply, a migration command, nftpolicyd's converge with nothing
// pending and a `confirm` write it; `apply --confirm` writes the ruleset it
// commits to `unconfirmed` and the deadline to `confirm`
// (confirm_record.h). A rollback commits `last-good` through the usual
// commit path (one transaction; counters and seen sets stay where the
// objects survive).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "ir/reach.h"
#include "kernel/apply.h"
#include "pipeline/apply.h"
#include "service/confirm_record.h"
#include "service/ruleset_file.h"

namespace nftpolicy::service {

// Bounds of `apply --confirm`: a deadline further than an hour away is a
// mistake, not a safety net.
inline constexpr int kMaxConfirmSeconds = 3600;

// ---- the lockout guard ---------------------------------------------------------

// The ruleset the state directory says the kernel holds: the unconfirmed
// one while a confirmation is pending, else the last confirmed one; nullopt
// when there is none.
Result<std::optional<ir::Table>> current_ruleset(const std::string& state_dir);

// The refusal of a commit from `before` to `after` that would cut
// management access (ir::lockout), naming each cut; nullopt when none.
std::optional<std::string> lockout_refusal(const std::optional<ir::Table>& before,
                                           const ir::Table& after,
                                           const std::optional<ir::SshClient>& ssh);

// The guard in front of a commit of the CLI (apply, migration commands),
// skipped with --force: refuses a ruleset that cuts management access (the
// current ruleset from `state_dir`, the SSH session from `ssh_connection`,
// $SSH_CONNECTION), and, unless `pending_ok`, any commit while a
// confirmation is pending.
std::optional<pipeline::Failure> cli_guard(const std::string& state_dir, const ir::Table& after,
                                           const std::string& ssh_connection, bool pending_ok);

// ---- confirmed and unconfirmed rulesets ------------------------------------------

// What `apply --confirm` arms.
struct ArmRequest {
    std::int64_t now = 0;
    int seconds = 0;
    bool replace = false;  // --force: replace a pending confirmation (its restore point stays)
    Enforcer enforcer = Enforcer::waiter;
    std::string enforcer_id;
    std::string policy;
};

// Under the lock, before the commit: refuses when a confirmation is
// already pending (unless `replace`) or no confirmed ruleset exists to go
// back to; writes the unconfirmed ruleset and the pending record.
Result<ConfirmRecord> arm_pending(const std::string& state_dir, const pipeline::Compiled& c,
                                  const ArmRequest& req);

// Forgets an armed confirmation whose commit failed.
void disarm(const std::string& state_dir);

// After a confirmed commit: `saved` becomes the last confirmed ruleset and a
// record of an earlier confirmation goes. Skips writing when the file
// already holds that ruleset (its header's hash).
Result<void> keep_confirmed(const std::string& state_dir, const SavedRuleset& saved);

// The pending record, or an error that says why there is nothing to
// confirm: no record, rolled back already (when and why).
Result<ConfirmRecord> pending_record(const std::string& state_dir);

// `confirm` in time: the unconfirmed ruleset becomes the last confirmed
// one; the record goes. Fails past the deadline (the caller rolls back).
Result<ConfirmRecord> confirm_pending(const std::string& state_dir, std::int64_t now);

// The last confirmed ruleset, as a commit target; checked against the
// record's restore hash when there is a record.
Result<std::shared_ptr<const pipeline::Compiled>> restore_point(
    const std::string& state_dir, const std::optional<ConfirmRecord>& record);

// After a rollback commit: the record says rolled back (when, why), and the
// unconfirmed ruleset goes.
Result<void> mark_rolled_back(const std::string& state_dir, ConfirmRecord record,
                              const std::string& reason, std::int64_t now);

// ---- rollback without the daemon ---------------------------------------------------

struct RollbackRequest {
    pipeline::StateOptions state;
    std::string reason;       // "deadline passed", "nftpolicy rollback"
    bool if_pending = false;  // only a pending confirmation whose deadline has passed
    std::int64_t now = 0;
};

struct RolledBack {
    bool done = false;  // false: nothing pending (if_pending)
    kernel::ApplyReport report;
    std::optional<ConfirmRecord> record;  // what was pending
    std::string restored_hash;
};

// Under the apply lock: commits the last confirmed ruleset and marks the
// record rolled back.
Result<RolledBack> rollback(const RollbackRequest& request);

// "2026-12-02 14:31:07 UTC", for status and messages.
std::string format_time(std::int64_t unix_seconds);

// The wall clock in unix seconds, from clock_gettime(CLOCK_REALTIME):
// time(2) reads a coarse clock that lagged by seconds on this machine, so a
// deadline met by a timer looked not yet due.
std::int64_t wall_now();

}  // namespace nftpolicy::service
