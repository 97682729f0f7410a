// Drift: what nftpolicyd makes of the nf_tables events (kernel/monitor.h).
// Pure logic, no I/O: the daemon reads the monitor, asks the Tracker what the
// events mean for our table, and acts (log, converge, resync).
//
// The Tracker keeps a cursor: the last ruleset generation whose effect on our
// table is accounted for, because we read the kernel at or after it
// (synced_at), committed it ourselves (own_commit), or saw its whole
// transaction. A transaction at or below the cursor is old news. One above it
// is judged: ours, another table's (ignored), or a foreign change to our
// table (reported, and repaired when `drift = "repair"`). A lost event
// (socket overrun) is harmless only if the kernel's generation has not moved
// past the cursor; otherwise nothing is known and the table is resynced.
//
// Alongside, the Tracker keeps the daemon's KnownElements valid across
// transactions that leave our sets alone, so that a converge after a commit
// to another table reads no set elements from the kernel (the kernel's set
// dump is quadratic: minutes at 1M elements).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kernel/monitor.h"
#include "kernel/ruleset_kernel.h"
#include "policy/model.h"

namespace nftpolicy::drift {

// What to do about a foreign change to our table: restore it, or only log
// it (the policy's `[settings] drift`).
using Mode = policy::DriftMode;

// What the daemon watches, and who it is.
struct Watch {
    std::uint8_t family = 0;  // NFPROTO_INET for nftpolicy's tables
    std::string table;
    kernel::Committer us;
    Mode mode = Mode::repair;
};

// A transaction of another process that changed our table.
struct Foreign {
    std::uint32_t genid = 0;
    std::uint32_t pid = 0;
    std::string proc;
    std::vector<std::string> changes;  // described, at most kMaxListed and then "... and N more"
    bool table_deleted = false;
    std::set<std::string> sets;        // our sets whose declaration or elements changed
};

inline constexpr std::size_t kMaxListed = 20;

enum class Action {
    none,    // nothing happened to our table
    report,  // log `foreign` (and, when `lost`, that events were lost); change nothing
    repair,  // log `foreign`, then converge (after adopt_check, see adopt.h)
    resync,  // events were lost and the ruleset moved: converge from a full read
};

struct Assessment {
    Action action = Action::none;
    std::vector<Foreign> foreign;  // in commit order
    bool lost = false;             // events were lost (overrun or a skipped generation)
    std::size_t ignored = 0;       // transactions of others to other tables
    std::size_t own = 0;           // our own transactions seen
    // Foreign transactions that left our sets alone, as (generation before,
    // generation after) in commit order: for a holder of KnownElements that
    // carries them forward itself (the same rule `known` follows in assess).
    std::vector<std::pair<std::uint32_t, std::uint32_t>> sets_untouched;
};

class Tracker {
public:
    // `genid`: the generation our first read or commit saw.
    Tracker(Watch watch, std::uint32_t genid) : watch_(std::move(watch)), cursor_(genid) {}

    // We read the kernel (a converge, a resync) at generation `genid`: every
    // transaction up to it is reflected in what we read.
    void synced_at(std::uint32_t genid);
    // Our own commit produced generation `genid` (generation-checked against
    // our read, so nothing else happened in between).
    void own_commit(std::uint32_t genid) { synced_at(genid); }

    // Judges one monitor read. `now`: the kernel's current generation, which
    // the caller must fetch after draining the monitor when `read.overrun`.
    // `known`: the daemon's KnownElements, carried forward or dropped.
    Assessment assess(const kernel::MonitorRead& read, std::optional<std::uint32_t> now,
                      std::optional<kernel::KnownElements>& known);

    std::uint32_t cursor() const { return cursor_; }
    const Watch& watch() const { return watch_; }
    void set_mode(Mode mode) { watch_.mode = mode; }

private:
    void judge(const kernel::MonitorBatch& batch, Assessment& out, std::optional<kernel::KnownElements>& known);
    Foreign foreign_of(const kernel::MonitorBatch& batch) const;
    void on_lost(Assessment& out, std::optional<kernel::KnownElements>& known);

    Watch watch_;
    std::uint32_t cursor_;
};

// Whether generation `a` comes after `b` (serial number arithmetic: the
// 32-bit generation id wraps).
bool after(std::uint32_t a, std::uint32_t b);

}  // namespace nftpolicy::drift
