// Flipping a gate (`nftpolicy migration complete GATE`) and undoing it
// (`reopen GATE`): one generation-checked transaction that removes (or
// brings back) exactly the flows the gate retires and their seen sets,
// then the state file records it. The order makes every failure leave
// kernel and state as they were:
//   1. check the request against the facts (gate exists, phase, not flipped);
//   2. complete: read the evidence and refuse while users are recent;
//   3. check that the kernel holds the policy as it stands (else the commit
//      would carry unrelated changes);
//   4. write the new state to a synced temporary file (an unwritable state
//      directory fails here, before the kernel changes);
//   5. commit the ruleset with the gate flipped;
//   6. rename the state file into place; then, when asked, cut the
//      established connections of the retired flows (conntrack).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "ir/ruleset.h"
#include "kernel/conntrack.h"
#include "kernel/netlink_kernel.h"
#include "migration/evidence.h"
#include "migration/facts.h"

namespace nftpolicy::migration {

// Asked before a commit with the ruleset about to be committed: a reason to
// refuse it (the CLI's lockout guard, service/confirm.h), or nothing.
using CommitGuard = std::function<std::optional<std::string>(const ir::Table&)>;

// What a commit left in the kernel: for the apply record and the element
// cache of the next commit.
struct Applied {
    ir::Table table;
    std::string host;
    std::map<std::string, policy::Phase> phases;
    std::set<std::string> flipped_gates;
    std::optional<kernel::KnownElements> known_after;  // kernel::ApplyReport::known_after
    std::vector<std::string> notes = {};               // kernel::ApplyReport::notes
};

struct FlipRequest {
    std::string gate;  // "migration.gate"
    bool complete = true;  // false: reopen
    bool force = false;    // complete despite recent users or incomplete evidence
    bool dry_run = false;
    bool cut_established = false;
    std::optional<std::uint32_t> quiet_for;  // overrides the migration's window
    std::int64_t now = 0;                    // unix seconds (the caller's clock)
    std::string state_path;
    // Elements of large sets from the last commit (kernel::KnownElements):
    // spares reading them back from the kernel while the generation holds.
    std::optional<kernel::KnownElements> known;
    CommitGuard guard = {};
};

struct FlipOutcome {
    enum class Status {
        done,            // committed (or, with dry_run, would be)
        refused,         // recent users or incomplete evidence, no --force: nothing changed
        kernel_differs,  // the kernel does not hold the current policy: nothing changed
    };
    Status status = Status::done;
    std::optional<GateEvidence> evidence;  // complete only
    std::vector<std::string> overridden;   // what --force overrode, one line each
    std::vector<std::string> changes;      // the committed (or planned) changes
    std::vector<std::string> differences;  // kernel_differs: what differs already
    std::optional<kernel::CutReport> cut;  // --cut-established (dry run: who would be cut)
    std::vector<std::string> warnings;
    bool committed = false;                // something was sent and committed
    std::optional<Applied> applied;        // set when the kernel now holds the flip
};

// The policy is loaded by the caller; `cli` holds the command line's
// --host/--phase/--gates. Expected refusals are outcomes; bad requests are
// ErrorKind::invalid errors, I/O and kernel failures their own kinds.
Result<FlipOutcome> flip_gate(kernel::NetlinkKernel& kernel, const policy::Policy& policy,
                              const resolve::ResolveOptions& cli, const FlipRequest& request, Diagnostics& diags);

// `nftpolicy migration set-phase MIGRATION PHASE`: records the phase in the
// state and applies the policy with it, in one command (the state is written
// first to a temporary file, so an unwritable state directory changes
// nothing).
struct PhaseRequest {
    std::string migration;
    policy::Phase phase = policy::Phase::legacy;
    bool dry_run = false;
    std::int64_t now = 0;
    std::string state_path;
    std::optional<kernel::KnownElements> known;
    CommitGuard guard = {};
};

struct PhaseOutcome {
    std::vector<std::string> changes;
    std::vector<std::string> warnings;
    bool committed = false;
    std::optional<Applied> applied;  // unset on a dry run
};

Result<PhaseOutcome> set_phase(kernel::NetlinkKernel& kernel, const policy::Policy& policy,
                               const resolve::ResolveOptions& cli, const PhaseRequest& request, Diagnostics& diags);

// The conntrack entries a completed gate cuts: TCP/UDP connections that a
// retired flow accepted and that no flow still in `after` would accept.
kernel::ConnSelector retired_connections(const GateFacts& gate, const resolve::Projection& after);

}  // namespace nftpolicy::migration
