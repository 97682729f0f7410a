// The nf_tables event monitor against the real kernel, in the scratch
// namespace of this test binary: every `nft` command shows up as one typed
// batch under the pid of the nft process that made it, our own commits carry
// our pid and port id, and a flood into a small buffer is an overrun.
#include <catch2/catch.hpp>

#include <linux/netfilter.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "kernel/apply.h"
#include "kernel/ir_samples.h"
#include "kernel/monitor.h"
#include "kernel/netns_guard.h"

using namespace nftpolicy;
using namespace nftpolicy::testing;
using kernel::MonitorBatch;

namespace {

std::unique_ptr<kernel::Monitor> open_monitor(std::size_t rcvbuf = kernel::Monitor::kDefaultRcvbuf) {
    REQUIRE(in_scratch_netns());
    auto m = kernel::Monitor::open(rcvbuf);
    if (!m) FAIL(m.error().message);
    return std::move(*m);
}

// Reads until `count` batches arrived or 2 s passed.
std::vector<MonitorBatch> wait_batches(kernel::Monitor& m, std::size_t count, bool* overrun = nullptr) {
    std::vector<MonitorBatch> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
        pollfd p{m.fd(), POLLIN, 0};
        poll(&p, 1, 100);
        auto r = m.read();
        REQUIRE(r);
        if (overrun != nullptr && r->overrun) *overrun = true;
        for (auto& b : r->batches) out.push_back(std::move(b));
    }
    return out;
}

// Runs the nft command `args` and returns the pid of the nft process (the
// shell execs nft, which reads the command from its standard input).
std::uint32_t nft(const std::string& args) {
    REQUIRE(in_scratch_netns());
    Shell s = sh("sh -c 'echo $$; exec nft -f -' <<'EOF'\n" + args + "\nEOF");
    INFO("nft " << args);
    REQUIRE(s.status == 0);
    return static_cast<std::uint32_t>(std::stoul(s.out));
}

std::vector<std::string> described(const MonitorBatch& b) {
    std::vector<std::string> out;
    for (const auto& c : b.changes) out.push_back(c.table + ": " + kernel::describe(c));
    return out;
}

// One nft command, one batch with its pid; returns the batch.
MonitorBatch one(kernel::Monitor& m, const std::string& args) {
    const std::uint32_t pid = nft(args);
    auto batches = wait_batches(m, 1);
    INFO("nft " << args);
    REQUIRE(batches.size() == 1);
    CHECK(batches[0].pid == pid);
    CHECK(batches[0].proc == "nft");
    return batches[0];
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("each nft command is one typed batch under nft's pid", "[kernel]") {
    flush_scratch_ruleset();
    auto m = open_monitor();
    CHECK(m->rcvbuf() >= kernel::Monitor::kDefaultRcvbuf);  // forced past rmem_max (we are root)
    MonitorBatch b = one(*m, "add table inet t");
    CHECK(described(b) == Lines{"t: table added"});
    CHECK(b.changes[0].family == NFPROTO_INET);
    const std::uint32_t first = b.genid;
    CHECK(described(one(*m, "add chain inet t input { type filter hook input priority 0; }")) ==
          Lines{"t: chain input added"});
    b = one(*m, "add rule inet t input tcp dport 22 accept");
    CHECK(described(b) == Lines{"t: rule added in chain input"});
    const std::uint64_t handle = b.changes[0].handle;
    CHECK(described(one(*m, "add rule inet t input tcp dport 23 accept")) == Lines{"t: rule added in chain input"});
    CHECK(described(one(*m, "add set inet t s { type ipv4_addr; flags interval; }")) == Lines{"t: set s added"});
    CHECK(described(one(*m, "add element inet t s { 192.0.2.7 }")) ==
          Lines{"t: element 0.0.0.0 (interval end) added to set s",  // nft's leading marker
                "t: element 192.0.2.7 added to set s", "t: element 192.0.2.8 (interval end) added to set s"});
    CHECK(described(one(*m, "delete element inet t s { 192.0.2.7 }")) ==
          Lines{"t: element 192.0.2.7 removed from set s", "t: element 192.0.2.8 (interval end) removed from set s"});
    b = one(*m, "delete rule inet t input handle " + std::to_string(handle));
    CHECK(described(b) == Lines{"t: rule deleted in chain input"});
    CHECK(b.changes[0].handle == handle);
    CHECK(described(one(*m, "add rule inet t input udp dport 53 accept")) == Lines{"t: rule added in chain input"});
    CHECK(described(one(*m, "flush chain inet t input")) ==
          Lines{"t: rule deleted in chain input", "t: rule deleted in chain input"});
    b = one(*m, "add table ip other");
    CHECK_FALSE(kernel::touches(b, NFPROTO_INET, "t"));
    CHECK(kernel::touches(b, NFPROTO_IPV4, "other"));
    b = one(*m, "delete table inet t");
    CHECK(described(b) == Lines{"t: set s deleted", "t: chain input deleted", "t: table deleted"});
    b = one(*m, "flush ruleset");
    CHECK(described(b) == Lines{"other: table deleted"});
    CHECK(b.genid == first + 12);  // one generation per command, none missed
}

TEST_CASE("our own commits carry our pid and our socket's port id", "[kernel]") {
    flush_scratch_ruleset();
    auto m = open_monitor();
    auto k = open_scratch_kernel();
    auto applied = kernel::apply(*k, rich_table());
    REQUIRE(applied);
    REQUIRE(applied->committed);
    auto batches = wait_batches(*m, 1);
    REQUIRE(batches.size() == 1);
    const MonitorBatch& b = batches[0];
    CHECK(b.pid == static_cast<std::uint32_t>(getpid()));
    CHECK(b.portid == k->portid());
    CHECK(kernel::is_own(b, kernel::Committer{0, k->portid()}));
    CHECK(kernel::is_own(b, kernel::Committer{static_cast<std::uint32_t>(getpid()), 0}));
    CHECK(kernel::touches(b, NFPROTO_INET, "nftpolicy"));
    // Every message but the batch's begin and end is announced (an element
    // message once per element).
    CHECK(b.changes.size() >= applied->messages - 2);
    CHECK(kernel::describe(b.changes.at(0)) == "table added");
    auto genid = k->generation();
    REQUIRE(genid);
    CHECK(b.genid == *genid);
}

TEST_CASE("a flood into a small buffer reads as an overrun, and events flow again after it", "[kernel]") {
    flush_scratch_ruleset();
    auto m = open_monitor(4096);
    // 2,000 single-address intervals: 4,000 element events in one transaction.
    std::string elements;
    for (int i = 0; i < 2000; ++i) {
        if (!elements.empty()) elements += ",";
        elements += "10.1." + std::to_string(i / 120) + "." + std::to_string(i % 120 * 2 + 1);  // not adjacent
    }
    REQUIRE(sh("nft add table inet flood && nft add set inet flood s '{ type ipv4_addr; flags interval; }'").status == 0);
    wait_batches(*m, 2);
    REQUIRE(sh("nft add element inet flood s '{ " + elements + " }'").status == 0);
    bool overrun = false;
    wait_batches(*m, 1, &overrun);
    CHECK(overrun);
    // The socket keeps delivering what comes after the loss.
    const std::uint32_t pid = nft("add table inet after");
    auto after = wait_batches(*m, 1);
    REQUIRE(after.size() == 1);
    CHECK(after[0].pid == pid);
    CHECK(described(after[0]) == Lines{"after: table added"});
    flush_scratch_ruleset();
}
