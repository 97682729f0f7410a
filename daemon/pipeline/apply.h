// The whole `apply` sequence as one call, for the CLI and nftpolicyd: take
// the apply lock, compile, diff against the kernel and commit in one
// transaction, then record what was applied and keep the elements of large
// sets for the next run (kernel/element_cache.h). Returns what happened as
// values; never prints.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "kernel/apply.h"
#include "kernel/apply_lock.h"
#include "kernel/apply_record.h"
#include "kernel/netlink_kernel.h"
#include "pipeline/compile.h"

namespace nftpolicy::pipeline {

// Where the lock and the state files are.
struct StateOptions {
    std::string lock = kernel::kDefaultLockPath;
    int lock_timeout = 10;  // seconds
    std::string state_dir;
    std::string record_path() const { return state_dir + "/applied"; }
    std::string elements_path() const { return state_dir + "/elements"; }
};

struct Applied {
    std::string table;
    kernel::ApplyReport report;
    std::vector<std::string> warnings;  // state files that could not be written
    // The elements file is out of date and the caller said it saves it
    // (StateWrites::caller_finishes): save_elements(state, report.known_after).
    bool elements_unsaved = false;
    // The apply record is in place but not yet synced to disk
    // (StateWrites::caller_finishes): sync_file(state.record_path()).
    bool record_unsynced = false;
};

struct ApplyRequest {
    PolicyRequest policy;
    StateOptions state;
    bool dry_run = false;  // compute the changes without the lock, commit nothing
    bool force = false;    // apply even an empty ruleset (see empty_ruleset)
    // Under the lock, after the compile and before the commit (never on a
    // dry run): a failure refuses the apply and nothing changes. The CLI's
    // lockout guard and confirmation record (service/confirm.h).
    std::function<std::optional<Failure>(const Compiled&)> before_commit = {};
    // Under the lock, after a commit went through (or found nothing to do).
    std::function<void(const Compiled&, Applied&)> after_commit = {};
    // After a failed commit (the kernel unchanged).
    std::function<void()> commit_failed = {};
};

struct ApplyOutput {
    std::shared_ptr<const SourceManager> sources;  // what the diagnostics point into
    Diagnostics diagnostics;                       // from compiling, warnings included
    tl::expected<Applied, Failure> result = tl::unexpected(Failure{});
};

// What a commit left in the kernel, as the state directory records it.
struct Committed {
    const ir::Table& table;
    const std::string& host;
    const std::map<std::string, policy::Phase>& phases;
    const std::set<std::string>& flipped_gates;
    const std::string* hash = nullptr;  // kernel::ruleset_hash(table) if known
    std::vector<std::string> notes = {};  // what apply decided besides the changes (ApplyReport::notes)
};
inline Committed committed_of(const Compiled& c) {
    return {c.table, c.host, c.phases, c.flipped_gates, &ruleset_hash(c)};
}

// What an apply of `committed` records in the state directory.
kernel::ApplyRecord record_of(const std::string& policy_path, const Committed& committed, std::uint32_t genid);

// After a commit (apply, or a migration command's): writes the apply record
// (for `nftpolicy status`) and keeps the elements of large sets for the next
// commit (`known_after`; none: the file is removed), unless
// `elements_current` says the file already describes the kernel. What could
// not be written is added to `warnings`: the commit itself stands.
void record_commit(kernel::NetlinkKernel& kernel, const std::string& policy_path, const Committed& committed,
                   const StateOptions& state, const std::optional<kernel::KnownElements>& known_after,
                   bool elements_current, Sync sync, std::vector<std::string>& warnings);

// Keeps the elements of large sets (`known`) in the state directory for the
// next commit, or removes a stale file when there are none.
void save_elements(const StateOptions& state, const std::optional<kernel::KnownElements>& known,
                   std::vector<std::string>& warnings);

// Who finishes the state files after a commit: commit() itself, or its
// caller, later (nftpolicyd answers the reload first: the elements file is
// 8 MB at a million addresses, and syncing the apply record costs about a
// millisecond; it holds the apply lock until both are done). The record is
// in place before commit() returns either way.
enum class StateWrites { now, caller_finishes };

// Commits `compiled` (or, dry, computes the changes), then updates the state
// files. `known`: what the kernel's large sets held at our last commit (the
// elements file of `state`, or the daemon's memory), so that they need not be
// dumped back. The caller holds the lock.
Result<Applied> commit(kernel::NetlinkKernel& kernel, const std::string& policy_path, const Compiled& compiled,
                       const StateOptions& state, bool dry_run, std::optional<kernel::KnownElements> known,
                       StateWrites writes = StateWrites::now);

// state directory check and lock (unless dry) -> compile -> refuse an empty
// ruleset (unless forced) -> commit with the elements file as `known`.
ApplyOutput apply(const ApplyRequest& request);

// What `nftpolicy status` shows: our table's declarations and counters (no
// set elements) and the record of the last apply.
struct Status {
    std::string table;
    kernel::KernelView view;
    std::optional<kernel::ApplyRecord> record;
};

// `table` empty: the table of the last apply, else "nftpolicy".
Result<Status> status(const StateOptions& state, const std::string& table);

}  // namespace nftpolicy::pipeline
