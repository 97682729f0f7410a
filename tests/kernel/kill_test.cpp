// Kill -9 at random points of large applies, repeatedly: the kernel must
// always hold the old table or the new one, never a mix, never none.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>

#include "kernel/apply.h"
#include "kernel/ir_samples.h"
#include "kernel/netlink_kernel.h"
#include "kernel/netns_guard.h"

using namespace nftpolicy;
using namespace nftpolicy::testing;

namespace {

// Version `v` of a table: a large set whose addresses start at a
// version-specific base, and a chain whose rule count is the version.
ir::Table version(int v, std::uint32_t count) {
    ir::Table t;
    ir::AddrSet big{"big", net::Family::ipv4, {}, "", {}};
    const net::U128 base = v4("10.0.0.0").lo + (static_cast<net::U128>(v) << 22);
    for (std::uint32_t i = 0; i < count; ++i) big.elements.push_back({base + 2 * i, base + 2 * i});
    t.sets.push_back(std::move(big));
    ir::Chain input{"input", ir::BaseChain{ir::Hook::input, 0, ir::ChainPolicy::accept}, {}, {}};
    for (int i = 0; i < v; ++i) {
        input.rules.push_back(
            rule({ir::MatchAddrSet{net::Family::ipv4, ir::MatchAddrSet::Field::saddr, "big"}, accept()}));
    }
    t.chains.push_back(input);
    return t;
}

// Which version the kernel holds: -1 for none or a mix.
int held_version(kernel::NetlinkKernel& k, std::uint32_t count) {
    const std::string rules = sh("nft -s list chain inet nftpolicy input 2>/dev/null | grep -c '@big accept'").out;
    const int n = rules.empty() ? 0 : std::stoi(rules);
    for (int v : {1, 2}) {
        if (n != v) continue;
        const net::U128 base = v4("10.0.0.0").lo + (static_cast<net::U128>(v) << 22);
        auto first = k.has_element("nftpolicy", "big", net::address_bytes(net::Family::ipv4, base));
        auto last = k.has_element("nftpolicy", "big", net::address_bytes(net::Family::ipv4, base + 2 * (count - 1)));
        const net::U128 other = v4("10.0.0.0").lo + (static_cast<net::U128>(3 - v) << 22);
        auto stale = k.has_element("nftpolicy", "big", net::address_bytes(net::Family::ipv4, other));
        REQUIRE(first);
        REQUIRE(last);
        REQUIRE(stale);
        if (*first && *last && !*stale) return v;
    }
    return -1;
}

}  // namespace

TEST_CASE("kill -9 during large applies leaves the old or the new table, never a mix", "[kernel][large]") {
    flush_scratch_ruleset();
    auto k = kernel::NetlinkKernel::open();
    REQUIRE(k);
    // Large enough that the commit takes tens of milliseconds, small enough that
    // reading the table (a dump, quadratic in the kernel) does not eat the window.
    constexpr std::uint32_t kCount = 30000;
    const ir::Table tables[] = {version(1, kCount), version(2, kCount)};
    REQUIRE(kernel::apply(**k, tables[0]));
    REQUIRE(held_version(**k, kCount) == 1);
    // Kill points span one whole apply as fast as this build runs it (an
    // ASan build is several times slower than a release one), so kills land
    // both before and after the commit.
    const auto started = std::chrono::steady_clock::now();
    REQUIRE(kernel::apply(**k, tables[1]));
    const auto apply_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
    const int window_us = static_cast<int>(std::max<long long>(20000, apply_us * 3 / 2));
    REQUIRE(held_version(**k, kCount) == 2);
    constexpr int kRounds = 30;
    std::mt19937 rng(12345);
    int held = 2, changed = 0;
    for (int round = 0; round < kRounds; ++round) {
        const int next = 3 - held;
        const pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            auto kk = kernel::NetlinkKernel::open();
            _exit(kk && kernel::apply(**kk, tables[next - 1]) ? 0 : 1);
        }
        usleep(std::uniform_int_distribution<int>(0, window_us)(rng));
        kill(child, SIGKILL);
        int status = 0;
        waitpid(child, &status, 0);
        const int now = held_version(**k, kCount);
        INFO("round " << round << ": held " << held << ", now " << now);
        REQUIRE((now == held || now == next));
        changed += now != held;
        held = now;
    }
    // The kills must have landed on both sides of the commit at least once
    // for this test to mean anything.
    CHECK(changed > 0);
    CHECK(changed < kRounds);
}
