// nftpolicyd's drift watch: the nf_tables event monitor (kernel/monitor.h)
// read from the manager's loop and judged by the drift tracker
// (drift/assess.h) against the Engine's view of the kernel. It decides; the
// manager logs and converges (docs/drift.md).
//
// The monitor is opened before the first converge, so no transaction after
// that converge's read goes unseen; the tracker starts at the generation the
// engine read or committed, and follows it after every converge. Our own
// commits are told by our pid and by the engine's netlink port. Lost events
// (ENOBUFS) are judged against the kernel's generation after the socket is
// drained: a resync when the ruleset moved, else nothing. The engine's
// KnownElements are carried across transactions that leave our sets alone.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drift/assess.h"
#include "kernel/monitor.h"
#include "service/engine.h"

namespace nftpolicy::service {

// What drift has happened since the daemon started; the manager writes them
// to RUNTIME_DIR/drift (docs/daemon.md, "Drift") for the metrics.
struct DriftCounts {
    std::uint64_t foreign = 0;   // transactions of others that changed our table
    std::uint64_t repairs = 0;   // converges after drift that changed the kernel
    std::uint64_t reported = 0;  // foreign transactions only logged (drift = "report")
    std::uint64_t lost = 0;      // reads that lost events while the ruleset moved
    std::uint64_t ignored = 0;   // transactions of others to other tables
};

// "foreign 3\nrepairs 3\n...": the counts file.
std::string format_counts(const DriftCounts& counts);
// Replaces the counts file atomically (support/atomic_file.h).
Result<void> write_counts(const std::string& path, const DriftCounts& counts);

// A log message about drift: syslog priority, text, NFTPOLICY_DRIFT*= fields.
struct DriftMessage {
    int priority = 0;
    std::string text;
    std::vector<std::string> fields;
};

// What `assessment` says, for the journal: one message per foreign
// transaction (who, which generation, what changed, what is done about it)
// and one about lost events.
std::vector<DriftMessage> drift_messages(const drift::Assessment& assessment, const std::string& table,
                                         drift::Mode mode);

// Whether a foreign transaction of `assessment` is an nftpolicy CLI's (an
// apply or a migration command): the daemon adopts the state directory then.
bool cli_committed(const drift::Assessment& assessment);

class DriftWatch {
  public:
    // Subscribes to the nf_tables events (CAP_NET_ADMIN) with a receive
    // buffer of `rcvbuf` bytes.
    static Result<std::unique_ptr<DriftWatch>> open(std::size_t rcvbuf);

    int fd() const { return monitor_->fd(); }
    kernel::Monitor& monitor() { return *monitor_; }
    // Events were lost (a gap while our commit was out of the group) and no
    // event may come to say so: read now.
    bool loss_pending() const { return monitor_->loss_pending(); }
    // After any converge: the engine's view is current up to its
    // synced_genid(); the table and the drift mode are the held ruleset's.
    void synced(const Engine& engine);
    // Drains the socket and judges what was there (nothing before the first
    // synced()).
    Result<drift::Assessment> read(Engine& engine);

    drift::Mode mode() const;
    const std::string& table() const;
    DriftCounts& counts() { return counts_; }

  private:
    explicit DriftWatch(std::unique_ptr<kernel::Monitor> monitor) : monitor_(std::move(monitor)) {}
    Result<kernel::MonitorRead> drain();

    std::unique_ptr<kernel::Monitor> monitor_;
    std::optional<drift::Tracker> tracker_;
    DriftCounts counts_;
};

}  // namespace nftpolicy::service
