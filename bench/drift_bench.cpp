// drift_bench: the drift path of nftpolicyd without its event loop, on a
// generated policy (bench/gen_policy.sh), in the network namespace it runs
// in (bench/drift.sh starts it under `unshare -n`; it refuses to run where
// any interface but lo exists).
//
// 1. Repair latency: `nft delete rule` of one of our rules (another process,
//    as an admin would), then monitor event -> drift::Tracker -> converge
//    (kernel::apply with the KnownElements kept in memory) -> the table is
//    whole again. Timed from the event's arrival (the kernel announces a
//    transaction when it commits) to the end of the repair commit. The sets
//    are untouched, so the repair must not read them back.
// 2. Re-apply after a foreign commit to another table: an unchanged re-apply
//    timed right after our own commit, and again after `nft add chain` in
//    another table, the tracker having carried the known elements across
//    that generation. Both must cost the same (no set dump). With --stale,
//    also the re-apply whose known elements were not carried (what the CLI
//    alone does after any foreign commit): the kernel's set dump.
//
// usage: drift_bench POLICY_DIR PROFILE_DIR REPS [--stale]
#include <linux/netfilter.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "drift/assess.h"
#include "kernel/apply.h"
#include "kernel/monitor.h"
#include "kernel/netlink_kernel.h"
#include "pipeline/compile.h"

using namespace nftpolicy;
using Clock = std::chrono::steady_clock;

extern char** environ;

namespace {

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "drift_bench: %s\n", what.c_str());
    std::exit(2);
}

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Runs a command line through sh (another process, like an admin's nft).
void run(const std::string& cmd) {
    const char* argv[] = {"sh", "-c", cmd.c_str(), nullptr};
    pid_t pid = 0;
    if (posix_spawnp(&pid, "sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) die("cannot run " + cmd);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("failed: " + cmd);
}

bool scratch_netns() {
    FILE* p = popen("ip -o link show | cut -d: -f2", "r");
    char buf[256] = {};
    const std::size_t n = p ? std::fread(buf, 1, sizeof buf - 1, p) : 0;
    if (p) pclose(p);
    return std::string(buf, n) == " lo\n";
}

struct Bench {
    ir::Table table;
    std::unique_ptr<kernel::NetlinkKernel> kernel;
    std::unique_ptr<kernel::Monitor> monitor;
    std::optional<kernel::KnownElements> known;
    std::optional<drift::Tracker> tracker;
};

ir::Table compile(const std::string& dir, const std::string& profiles) {
    pipeline::PolicyRequest req;
    req.policy = dir + "/policy.toml";
    req.include_paths = {profiles};
    req.host = "handler1";
    req.phases = {"coexist"};
    auto out = pipeline::compile(req);
    if (!out.result) die("the policy does not compile");
    return std::move(out.result->table);
}

// Applies with the known elements; keeps what the apply reports.
double converge(Bench& b) {
    const auto t0 = Clock::now();
    kernel::ApplyOptions options;
    options.known = b.known ? &*b.known : nullptr;
    auto report = kernel::apply(*b.kernel, b.table, options);
    if (!report) die(report.error().message);
    const double ms = ms_since(t0);
    b.known = std::move(report->known_after);
    if (!b.known) die("the apply could not vouch for the kernel's sets");
    if (report->committed) b.tracker->own_commit(b.known->genid);
    return ms;
}

// Waits for the monitor and judges what it read; the time the event arrived.
drift::Assessment next_events(Bench& b, Clock::time_point* arrived = nullptr) {
    pollfd p{b.monitor->fd(), POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) die("no event within 5 s");
    if (arrived) *arrived = Clock::now();
    kernel::MonitorRead all;
    for (bool more = true; more;) {
        auto r = b.monitor->read();
        if (!r) die(r.error().message);
        all.overrun = all.overrun || r->overrun;
        for (auto& batch : r->batches) all.batches.push_back(std::move(batch));
        more = r->more;
    }
    std::optional<std::uint32_t> now;
    if (all.overrun) {
        auto g = b.kernel->generation();
        if (g) now = *g;
    }
    return b.tracker->assess(all, now, b.known);
}

// Drains whatever is queued (our own commits' events) without waiting.
void drain(Bench& b) {
    pollfd p{b.monitor->fd(), POLLIN, 0};
    while (poll(&p, 1, 0) == 1) next_events(b);
}

// A rule handle of chain `chain`, read without the sets' elements.
std::uint64_t some_rule(Bench& b, const std::string& chain) {
    auto view = b.kernel->read(b.table.name, kernel::ReadOptions{nullptr, false});
    if (!view || !view->table) die("cannot read our table");
    for (const auto& c : view->table->chains) {
        if (c.name == chain && !c.rules.empty()) return c.rules.back().handle;
    }
    die("no rule in chain " + chain);
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

void repair_latency(Bench& b, int reps) {
    std::vector<double> lat;
    std::vector<double> nft_ms;
    for (int i = 0; i < reps; ++i) {
        const std::uint64_t h = some_rule(b, "input");
        const auto started = Clock::now();
        run("nft delete rule inet " + b.table.name + " input handle " + std::to_string(h));
        nft_ms.push_back(ms_since(started));
        Clock::time_point arrived;
        drift::Assessment a = next_events(b, &arrived);
        if (a.action != drift::Action::repair) die("the deletion was not judged a repair");
        const bool sets_kept = b.known && !b.known->sets.empty();
        converge(b);
        lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - arrived).count());
        if (!sets_kept) die("the rule deletion dropped the known elements");
        drain(b);
    }
    std::printf("repair latency (event -> table whole), %d repairs: p50 %.1f ms  p99 %.1f ms  max %.1f ms"
                "  (nft delete rule itself: p50 %.1f ms)\n",
                reps, percentile(lat, 0.5), percentile(lat, 0.99), percentile(lat, 1.0), percentile(nft_ms, 0.5));
}

void reapply_after_foreign(Bench& b, int reps, bool stale) {
    std::vector<double> quiet, foreign, dumped;
    for (int i = 0; i < reps; ++i) {
        quiet.push_back(converge(b));
        run("nft 'add table ip bench_other; add chain ip bench_other c" + std::to_string(i) + "'");  // one commit
        drift::Assessment a = next_events(b);
        if (a.action != drift::Action::none || a.ignored != 1) die("a commit to another table was not ignored");
        foreign.push_back(converge(b));
    }
    std::printf("re-apply, nothing changed: right after our commit p50 %.1f ms; after a foreign commit to "
                "another table p50 %.1f ms (%d each)\n",
                percentile(quiet, 0.5), percentile(foreign, 0.5), reps);
    if (!stale) return;
    run("nft add chain ip bench_other stale");
    drain(b);
    b.known->genid -= 1;  // as if the tracker had not carried them: the kernel dumps the sets
    dumped.push_back(converge(b));
    std::printf("re-apply after a foreign commit without carried known elements (set dump): %.1f ms\n", dumped[0]);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) die("usage: drift_bench POLICY_DIR PROFILE_DIR REPS [--stale]");
    if (!scratch_netns()) die("refusing to run outside a scratch network namespace (use bench/drift.sh)");
    const int reps = std::atoi(argv[3]);
    const bool stale = argc > 4 && std::strcmp(argv[4], "--stale") == 0;
    Bench b;
    b.table = compile(argv[1], argv[2]);
    auto m = kernel::Monitor::open();
    auto k = kernel::NetlinkKernel::open();
    if (!m || !k) die("cannot open netlink (root?)");
    b.monitor = std::move(*m);
    b.kernel = std::move(*k);
    auto genid = b.kernel->generation();
    if (!genid) die(genid.error().message);
    drift::Watch w{NFPROTO_INET, b.table.name, kernel::Committer{static_cast<std::uint32_t>(getpid()), b.kernel->portid()},
                   drift::Mode::repair};
    b.tracker.emplace(w, *genid);
    const auto t0 = Clock::now();
    converge(b);
    std::printf("initial apply: %.0f ms\n", ms_since(t0));
    drain(b);
    repair_latency(b, reps);
    reapply_after_foreign(b, std::max(3, reps / 10), stale);
    return 0;
}
