// The drift watch; see drift_watch.h.
#include "service/drift_watch.h"

#include <linux/netfilter.h>
#include <syslog.h>
#include <unistd.h>

#include <fmt/format.h>

#include "drift/adopt.h"
#include "support/atomic_file.h"

namespace nftpolicy::service {

namespace {

// Reads per callback before the loop gets a turn (4096 datagrams each).
constexpr int kMaxReads = 64;

std::string watched_table(const Engine& engine) {
    if (const auto& c = engine.holding().compiled) return c->table.name;
    const std::string& named = engine.options().policy.table;
    return named.empty() ? "nftpolicy" : named;
}

// The policy's `[settings] drift` while the policy is held; a fallback
// ruleset (last good, built-in) is always repaired.
drift::Mode watched_mode(const Engine& engine) {
    const Holding& h = engine.holding();
    return h.held == Held::policy && h.compiled ? h.compiled->drift : drift::Mode::repair;
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : "; ") + i;
    return out;
}

const char* what_is_done(const drift::Foreign& f, drift::Mode mode) {
    if (f.proc == drift::kCliProcess) {
        return "an nftpolicy command: the state directory's phases and gates are adopted";
    }
    return mode == drift::Mode::repair ? "restoring it" : "left as it is (drift = \"report\")";
}

DriftMessage foreign_message(const drift::Foreign& f, const std::string& table, drift::Mode mode) {
    const bool cli = f.proc == drift::kCliProcess;
    DriftMessage m{cli ? LOG_INFO : LOG_WARNING,
                   fmt::format("drift: table inet {} changed by {} (pid {}, generation {}): {}; {}",
                               table, f.proc.empty() ? "?" : f.proc, f.pid, f.genid, joined(f.changes),
                               what_is_done(f, mode)),
                   {}};
    const char* action = cli ? "adopt" : mode == drift::Mode::repair ? "repair" : "report";
    m.fields = {fmt::format("NFTPOLICY_DRIFT={}", action),
                fmt::format("NFTPOLICY_DRIFT_GENERATION={}", f.genid),
                fmt::format("NFTPOLICY_DRIFT_PID={}", f.pid), "NFTPOLICY_DRIFT_PROCESS=" + f.proc};
    for (const auto& c : f.changes) m.fields.push_back("NFTPOLICY_DRIFT_CHANGE=" + c);
    return m;
}

DriftMessage lost_message(const std::string& table, drift::Mode mode) {
    const bool repair = mode == drift::Mode::repair;
    return {LOG_WARNING,
            fmt::format("drift: nf_tables events were lost (event socket overrun, or a commit "
                        "while ours kept out of the event group) and the ruleset moved on; {}",
                        repair ? "resyncing table inet " + table + " from a full read"
                               : "table inet " + table +
                                     " not checked (drift = \"report\"): see `nftpolicy diff`"),
            {repair ? "NFTPOLICY_DRIFT=resync" : "NFTPOLICY_DRIFT=lost"}};
}

}  // namespace

std::vector<DriftMessage> drift_messages(const drift::Assessment& a, const std::string& table,
                                         drift::Mode mode) {
    std::vector<DriftMessage> out;
    for (const drift::Foreign& f : a.foreign) out.push_back(foreign_message(f, table, mode));
    if (a.lost) out.push_back(lost_message(table, mode));
    return out;
}

bool cli_committed(const drift::Assessment& a) {
    for (const drift::Foreign& f : a.foreign) {
        if (f.proc == drift::kCliProcess) return true;
    }
    return false;
}

std::string format_counts(const DriftCounts& c) {
    return fmt::format("foreign {}\nrepairs {}\nreported {}\nlost {}\nignored {}\n", c.foreign,
                       c.repairs, c.reported, c.lost, c.ignored);
}

Result<void> write_counts(const std::string& path, const DriftCounts& counts) {
    return write_file_atomic(path, format_counts(counts));
}

Result<std::unique_ptr<DriftWatch>> DriftWatch::open(std::size_t rcvbuf) {
    auto monitor = kernel::Monitor::open(rcvbuf);
    if (!monitor) return tl::unexpected(monitor.error());
    return std::unique_ptr<DriftWatch>(new DriftWatch(std::move(*monitor)));
}

drift::Mode DriftWatch::mode() const {
    return tracker_ ? tracker_->watch().mode : drift::Mode::repair;
}

const std::string& DriftWatch::table() const {
    static const std::string none;
    return tracker_ ? tracker_->watch().table : none;
}

void DriftWatch::synced(const Engine& engine) {
    drift::Watch watch{NFPROTO_INET, watched_table(engine),
                       kernel::Committer{static_cast<std::uint32_t>(::getpid()), engine.portid()},
                       watched_mode(engine)};
    if (!tracker_ || tracker_->watch().table != watch.table) {
        const std::uint32_t cursor = tracker_ ? tracker_->cursor() : engine.synced_genid();
        tracker_.emplace(std::move(watch), cursor);
    }
    tracker_->set_mode(watched_mode(engine));
    tracker_->synced_at(engine.synced_genid());
}

Result<kernel::MonitorRead> DriftWatch::drain() {
    kernel::MonitorRead all;
    for (int i = 0; i < kMaxReads; ++i) {
        auto r = monitor_->read();
        if (!r) return tl::unexpected(r.error());
        for (auto& b : r->batches) all.batches.push_back(std::move(b));
        all.overrun = all.overrun || r->overrun;
        if (!r->more) return all;
    }
    all.more = true;
    return all;
}

Result<drift::Assessment> DriftWatch::read(Engine& engine) {
    auto events = drain();
    if (!events) return tl::unexpected(events.error());
    if (!tracker_) return drift::Assessment{};
    // Lost events are judged against the generation after the drain; while
    // data is still queued nothing is known (nullopt: a resync).
    std::optional<std::uint32_t> now;
    if (events->overrun && !events->more) {
        if (auto g = engine.generation()) now = *g;
    }
    drift::Assessment a = tracker_->assess(*events, now, engine.known_elements());
    counts_.foreign += a.foreign.size();
    counts_.ignored += a.ignored;
    if (a.lost) ++counts_.lost;
    if (a.action == drift::Action::report) counts_.reported += a.foreign.size();
    return a;
}

}  // namespace nftpolicy::service
