// Who rolls back when `apply --confirm` is not confirmed in time, chosen
// before the commit so that no moment exists in which the unconfirmed
// ruleset is in the kernel and nobody watches its deadline
// (docs/confirm.md, "Who enforces the deadline"):
//   1. nftpolicyd, when it answers on its control socket (`confirm-arm`): it
//      re-arms from the persisted record when it restarts;
//   2. else a transient systemd timer (`systemd-run --on-active=`) that runs
//      `nftpolicy rollback --if-pending`, when systemd is PID 1 and we share
//      its network namespace (a timer of PID 1 would run elsewhere);
//   3. else a detached waiter: double fork and setsid, so that killing the
//      CLI, its process group or its SSH session leaves it running; at the
//      deadline it runs `nftpolicy rollback --if-pending`.
// Enforcers that fire for a deadline that was confirmed, replaced or rolled
// back already find nothing due and do nothing.
#pragma once

#include <cstdint>
#include <string>

#include "pipeline/apply.h"
#include "service/confirm_record.h"
#include "support/result.h"

namespace nftpolicy::cli {

struct Enforcement {
    service::Enforcer enforcer = service::Enforcer::waiter;
    std::string id;  // unit name, or the waiter's pid
};

struct ArmTarget {
    std::string runtime_dir;  // nftpolicyd's control socket
    pipeline::StateOptions state;
    std::int64_t deadline = 0;  // unix seconds
    std::int64_t now = 0;
};

Result<Enforcement> arm_enforcer(const ArmTarget& target);

// After an apply that committed nothing: stops the waiter or the timer
// (best effort: one left running finds nothing due). The daemon's timer
// stays; it finds nothing due either.
void disarm_enforcer(const Enforcement& e);

// The command an enforcer runs at the deadline.
std::vector<std::string> rollback_command(const ArmTarget& target);

}  // namespace nftpolicy::cli
