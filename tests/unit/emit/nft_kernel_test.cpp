// Kernel round trip of the text emitter ([kernel]): a rich lowered table is
// loaded with `nft -f` inside a new network namespace (`unshare -n`, so the
// machine's own ruleset is never touched) and `nft -s list table` must print
// the same text, modulo whitespace.
//
// Needs root (for unshare -n and nft). ctest runs these cases apart from the
// unit tests, through tests/support/needs_root.sh, which reports them skipped
// (77) without root; run directly without root, they fail.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "emit/nft_text.h"
#include "ir/lower.h"
#include "support/addrs.h"

using namespace nftpolicy;
using namespace nftpolicy::ir;
using nftpolicy::testing::addrs;
using resolve::Direction;

namespace {

resolve::Endpoint side(std::string label, net::AddrSet a, bool match = true) {
    return {std::move(a), std::move(label), match, {}};
}

resolve::ProjectedFlow flow(std::string id, Direction d, resolve::Endpoint src,
                            resolve::Endpoint dst) {
    resolve::ProjectedFlow f;
    f.id = std::move(id);
    f.direction = d;
    f.src = std::move(src);
    f.dst = std::move(dst);
    return f;
}

policy::PortRange ports(std::uint16_t lo, std::uint16_t hi) {
    return {lo, hi, {}};
}

// Flows of every shape lowering knows: both families, v4 only, expressions,
// overlapping ranges, ICMP, gateway interfaces, egress, legacy flows.
resolve::Projection rich_projection() {
    auto agents = addrs({"10.10.0.0/16", "10.11.0.1-10.11.0.9", "fd00:10::/48", "fd00:11::1"});
    auto handlers = addrs({"10.20.0.11", "10.20.0.12"});
    auto self = side("self", net::AddrSet::everything(), false);
    resolve::Projection p;
    p.table = "nftpolicy_rt";
    p.baseline.egress = true;
    p.baseline.echo_rate = {25, policy::RateUnit::second, 9, {}};
    auto in1 = flow("agents-https", Direction::input, side("agents", agents), self);
    in1.tcp = {ports(443, 443), ports(3023, 4023)};
    in1.comment = "SES agents";
    auto in2 = flow("special", Direction::input, side("backend & agent_handler", handlers), self);
    in2.tcp = {ports(3500, 3500)};
    in2.udp = {ports(1434, 1434)};
    in2.icmp = {{8, "echo-request", {}}, {13, "timestamp-request", {}}};
    in2.ipv6 = false;
    auto in3 =
        flow("open-web", Direction::input, side("any", net::AddrSet::everything(), false), self);
    in3.tcp = {ports(80, 80)};
    in3.icmpv6 = {{128, "echo-request", {}}};
    auto fwd =
        flow("gw", Direction::forward, side("agents", agents), side("agent_handler", handlers));
    fwd.tcp = {ports(17000, 17000)};
    fwd.iifnames = {"eth0"};
    fwd.oifnames = {"eth1", "eth2"};
    fwd.lifecycle = resolve::Lifecycle::legacy;  // records its sources in seen sets
    fwd.gate = "ses.agents-migrated";
    in2.lifecycle = resolve::Lifecycle::legacy;
    in2.gate = "ses";
    in2.seen.timeout = 86400 + 60;
    auto out =
        flow("dns", Direction::output, self, side("resolvers", addrs({"10.0.0.53", "fd00::53"})));
    out.udp = {ports(53, 53)};
    out.tcp = {ports(53, 53)};
    p.flows = {in1, in2, in3, fwd, out};
    return p;
}

// Statement kinds lowering does not produce yet, so the text of each is still
// checked against the kernel.
void add_extra_statements(Table& t) {
    t.sets.push_back({"s4",
                      net::Family::ipv4,
                      addrs({"192.168.0.0/24", "192.168.2.0-192.168.2.100"}).v4,
                      "",
                      {}});
    t.dynamic_sets.push_back({"seen_m.g_v4", net::Family::ipv4, 7 * 86400000ull, 65536, "", {}});
    t.dynamic_sets.push_back({"seen_m_v6", net::Family::ipv6, 36 * 3600000ull + 90000, 1024, "who", {}});
    Chain other{"zz_other", std::nullopt, {}, {}};
    other.rules.push_back({{MatchAddrSet{net::Family::ipv4, MatchAddrSet::Field::saddr, "s4"},
                            UpdateSet{net::Family::ipv4, MatchAddrSet::Field::saddr, "seen_m.g_v4"}},
                           "flow:x",
                           {}});
    other.rules.push_back({{MatchInterface{MatchInterface::Dir::in, true, {"eth0"}},
                            MatchNfproto{net::Family::ipv6},
                            UpdateSet{net::Family::ipv6, MatchAddrSet::Field::daddr, "seen_m_v6"}},
                           "",
                           {}});
    other.rules.push_back({{MatchL4proto{{kProtoIcmp, kProtoIcmpv6}}, CounterStmt{},
                            Verdict{Verdict::Kind::return_, {}}},
                           "",
                           {}});
    Chain misc{"zz_misc", std::nullopt, {}, {}};
    misc.rules.push_back({{MatchDport{kProtoTcp, {{22, 22}, {1000, 2000}}},
                           Verdict{Verdict::Kind::jump, "zz_other"}},
                          "x y",
                          {}});
    misc.rules.push_back({{MatchNfproto{net::Family::ipv4},
                           MatchAddrSet{net::Family::ipv4, MatchAddrSet::Field::daddr, "s4"},
                           MatchDport{kProtoUdp, {{53, 53}}}, Limit{3, RateUnit::hour, 1}, Log{""},
                           Verdict{Verdict::Kind::drop, {}}},
                          "",
                          {}});
    misc.rules.push_back(
        {{MatchCtState{8 | 64}, MatchInterface{MatchInterface::Dir::out, true, {"wg0"}}, Verdict{}},
         "",
         {}});
    t.chains.insert(t.chains.begin(), {std::move(other), std::move(misc)});
    t.chains.back().base->priority = 7;
}

std::string collapse_whitespace(const std::string& s) {
    std::string out;
    for (char c : s) {
        bool space = c == ' ' || c == '\t' || c == '\n';
        if (space && (out.empty() || out.back() == ' ')) continue;
        out += space ? ' ' : c;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

// Runs a shell command; returns its exit status and stdout+stderr.
std::pair<int, std::string> run(const std::string& command) {
    std::string output;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (!pipe) return {-1, "popen failed"};
    std::array<char, 4096> buf{};
    while (std::size_t n = fread(buf.data(), 1, buf.size(), pipe)) output.append(buf.data(), n);
    int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// Loads the emitted text (with the replace prefix, as apply loads it) in a
// new network namespace and checks that nft lists it back unchanged.
void check_round_trip(const Table& t) {
    std::string path = "/tmp/nftpolicy_emit_" + std::to_string(getpid()) + ".nft";
    std::ofstream(path) << emit::nft_text(t);
    auto [status, listing] =
        run("unshare -n sh -c 'nft -f " + path + " && nft -s list table inet " + t.name + "'");
    std::remove(path.c_str());
    INFO(listing);
    REQUIRE(status == 0);
    CHECK(collapse_whitespace(listing) ==
          collapse_whitespace(emit::nft_text(t, {.replace = false})));
}

bool have_root() {
    if (geteuid() == 0) return true;
    FAIL("needs root for unshare -n (ctest reports this case skipped when not root)");
    return false;
}

}  // namespace

TEST_CASE("nft lists the loaded text exactly as we emitted it", "[kernel]") {
    if (!have_root()) return;
    Table t = lower(rich_projection());
    REQUIRE(t.dynamic_sets.size() == 2);  // seen_ses_v4, seen_ses.agents-migrated_v4
    add_extra_statements(t);
    check_round_trip(t);
}

TEST_CASE("a baseline-only table round-trips too", "[kernel]") {
    if (!have_root()) return;
    resolve::Projection p;
    p.table = "nftpolicy_min";
    p.baseline.log_drops = false;
    p.baseline.forward = policy::ChainPolicy::accept;
    Table t = lower(p);
    REQUIRE(t.maps.empty());
    check_round_trip(t);
}
