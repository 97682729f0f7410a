// Lowering hand-made projections: range splitting into piece chains and map
// elements, shared and named address sets, per-family rules, interfaces,
// baseline chains and egress.
#include <catch2/catch.hpp>

#include <algorithm>

#include "ir/lower.h"
#include "support/addrs.h"

using namespace nftpolicy;
using namespace nftpolicy::ir;
using nftpolicy::testing::addrs;
using resolve::Direction;

namespace {

resolve::Endpoint side(std::string label, net::AddrSet a) {
    return {std::move(a), std::move(label), true, {}};
}

// The host itself (input destination) or `any`: not matched.
resolve::Endpoint unmatched(std::string label) {
    return {net::AddrSet::everything(), std::move(label), false, {}};
}

resolve::ProjectedFlow flow(std::string id, Direction d, resolve::Endpoint src,
                            resolve::Endpoint dst, std::vector<std::pair<int, int>> tcp = {}) {
    resolve::ProjectedFlow f;
    f.id = std::move(id);
    f.direction = d;
    f.src = std::move(src);
    f.dst = std::move(dst);
    for (auto [lo, hi] : tcp)
        f.tcp.push_back({static_cast<std::uint16_t>(lo), static_cast<std::uint16_t>(hi), {}});
    return f;
}

resolve::Projection projection(std::vector<resolve::ProjectedFlow> flows) {
    resolve::Projection p;
    p.table = "t";
    p.flows = std::move(flows);
    return p;
}

const Chain& chain(const Table& t, const std::string& name) {
    auto it = std::find_if(t.chains.begin(), t.chains.end(),
                           [&](const Chain& c) { return c.name == name; });
    INFO("chain " << name);
    REQUIRE(it != t.chains.end());
    return *it;
}

bool has_chain(const Table& t, const std::string& name) {
    return std::any_of(t.chains.begin(), t.chains.end(),
                       [&](const Chain& c) { return c.name == name; });
}

std::vector<std::string> chain_names(const Table& t) {
    std::vector<std::string> out;
    for (const auto& c : t.chains) out.push_back(c.name);
    return out;
}

std::vector<std::string> set_names(const Table& t) {
    std::vector<std::string> out;
    for (const auto& s : t.sets) out.push_back(s.name);
    return out;
}

template <typename T>
const T& stmt(const Rule& r, std::size_t i) {
    REQUIRE(i < r.stmts.size());
    REQUIRE(std::holds_alternative<T>(r.stmts[i].kind));
    return std::get<T>(r.stmts[i].kind);
}

// Checks that a rule ends in `counter name "flow_<id>" accept comment "flow:<id>"`.
void check_flow_tail(const Rule& r, const std::string& id) {
    REQUIRE(r.stmts.size() >= 2);
    CHECK(stmt<CounterStmt>(r, r.stmts.size() - 2).name == "flow_" + id);
    CHECK(stmt<Verdict>(r, r.stmts.size() - 1).kind == Verdict::Kind::accept);
    CHECK(r.comment == "flow:" + id);
}

bool mentions_family(const Rule& r, net::Family f) {
    for (const auto& s : r.stmts) {
        if (auto* m = std::get_if<MatchAddrSet>(&s.kind); m && m->family == f) return true;
        if (auto* n = std::get_if<MatchNfproto>(&s.kind); n && n->family == f) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("overlapping port ranges become disjoint piece chains and map elements") {
    auto agents = addrs({"10.10.0.0/16"});
    auto p = projection(
        {flow("ftp-data", Direction::input, side("agents", agents), unmatched("self"),
              {{3023, 4023}}),
         flow("special", Direction::input, side("agents", agents), unmatched("self"),
              {{3500, 3500}}),
         flow("https", Direction::input, side("agents", agents), unmatched("self"), {{443, 443}})});
    p.flows[2].udp.push_back({53, 53, {}});
    Table t = lower(p);
    CHECK(t.name == "t");
    CHECK(chain_names(t) == std::vector<std::string>{"in_tcp_443", "in_tcp_3023-3499",
                                                     "in_tcp_3500", "in_tcp_3501-4023", "in_udp_53",
                                                     "input", "forward"});
    REQUIRE(t.maps.size() == 1);
    const auto& map = t.maps[0];
    CHECK(map.name == "in_svc");
    REQUIRE(map.elements.size() == 5);
    CHECK(map.elements[0].l4proto == kProtoTcp);
    CHECK(map.elements[0].port_lo == 443);
    CHECK(map.elements[0].chain == "in_tcp_443");
    CHECK(map.elements[1].port_lo == 3023);
    CHECK(map.elements[1].port_hi == 3499);
    CHECK(map.elements[2].chain == "in_tcp_3500");
    CHECK(map.elements[3].port_hi == 4023);
    CHECK(map.elements[4].l4proto == kProtoUdp);
    CHECK(map.elements[4].chain == "in_udp_53");

    // the shared piece holds both flows, in flow order
    const auto& shared = chain(t, "in_tcp_3500");
    CHECK_FALSE(shared.base.has_value());
    REQUIRE(shared.rules.size() == 2);
    check_flow_tail(shared.rules[0], "ftp-data");
    check_flow_tail(shared.rules[1], "special");
    REQUIRE(chain(t, "in_tcp_3023-3499").rules.size() == 1);

    // one counter per distinct flow, with a readable default comment
    REQUIRE(t.counters.size() == 3);
    CHECK(t.counters[0].name == "flow_ftp-data");
    CHECK(t.counters[0].comment == "agents -> self");
}

TEST_CASE("address sets are named after groups, hashed for expressions, and shared") {
    auto backends = addrs({"10.20.0.11", "fd00:20::11"});
    auto agents = addrs({"10.10.0.0/16", "fd00:10::/48"});
    auto p =
        projection({flow("a", Direction::forward, side("agents", agents), side("backend", backends),
                         {{443, 443}}),
                    flow("b", Direction::forward, side("agents", agents),
                         side("backend & agent_handler", addrs({"10.20.0.11"})), {{8443, 8443}}),
                    flow("c", Direction::forward, side("agents", agents), side("backend", backends),
                         {{80, 80}})});
    Table t = lower(p);
    CHECK(set_names(t) == std::vector<std::string>{"g_agents_v4", "g_agents_v6", "g_backend_v4",
                                                   "g_backend_v6", "x_3b47e9bb_v4"});
    const auto& hashed = t.sets[4];
    CHECK(hashed.comment == "backend & agent_handler");
    CHECK(hashed.family == net::Family::ipv4);
    REQUIRE(hashed.elements.size() == 1);
    CHECK(hashed.elements[0].lo == 0x0a14000b);
    CHECK(t.sets[0].comment.empty());
    CHECK(t.sets[1].family == net::Family::ipv6);
    CHECK(t.sets[1].elements == agents.v6);

    // flow b only has IPv4 on its destination: no IPv6 rule at all
    const auto& b = chain(t, "fwd_tcp_8443");
    REQUIRE(b.rules.size() == 1);
    CHECK(stmt<MatchAddrSet>(b.rules[0], 0).set == "g_agents_v4");
    CHECK(stmt<MatchAddrSet>(b.rules[0], 0).field == MatchAddrSet::Field::saddr);
    CHECK(stmt<MatchAddrSet>(b.rules[0], 1).set == "x_3b47e9bb_v4");
    CHECK(stmt<MatchAddrSet>(b.rules[0], 1).field == MatchAddrSet::Field::daddr);
    CHECK_FALSE(mentions_family(b.rules[0], net::Family::ipv6));

    const auto& a = chain(t, "fwd_tcp_443");
    REQUIRE(a.rules.size() == 2);
    CHECK(stmt<MatchAddrSet>(a.rules[0], 0).family == net::Family::ipv4);
    CHECK(stmt<MatchAddrSet>(a.rules[1], 0).set == "g_agents_v6");
    CHECK(stmt<MatchAddrSet>(a.rules[1], 1).set == "g_backend_v6");
    check_flow_tail(a.rules[1], "a");
}

TEST_CASE("two expressions whose names hash alike still get their own sets") {
    // FNV-1a 32 of both labels is 6cc33842 (found by a birthday search).
    auto p =
        projection({flow("one", Direction::input, side("a | g129599", addrs({"10.1.0.0/16"})),
                         unmatched("self"), {{1, 1}}),
                    flow("two", Direction::input, side("a | g732382", addrs({"10.2.0.0/16"})),
                         unmatched("self"), {{2, 2}}),
                    flow("again", Direction::input, side("a | g732382", addrs({"10.2.0.0/16"})),
                         unmatched("self"), {{3, 3}})});
    for (auto& f : p.flows) f.ipv6 = false;
    Table t = lower(p);
    CHECK(set_names(t) == std::vector<std::string>{"x_6cc33842_v4", "x_6cc33842_2_v4"});
    CHECK(t.sets[1].comment == "a | g732382");
    CHECK(t.sets[1].elements == addrs({"10.2.0.0/16"}).v4);
    CHECK(stmt<MatchAddrSet>(chain(t, "in_tcp_1").rules[0], 0).set == "x_6cc33842_v4");
    CHECK(stmt<MatchAddrSet>(chain(t, "in_tcp_2").rules[0], 0).set == "x_6cc33842_2_v4");
    CHECK(stmt<MatchAddrSet>(chain(t, "in_tcp_3").rules[0], 0).set == "x_6cc33842_2_v4");
}

TEST_CASE("one label with two different address sets never shares a set") {
    auto p = projection({flow("one", Direction::input, side("lan", addrs({"10.1.0.0/16"})),
                              unmatched("self"), {{1, 1}}),
                         flow("two", Direction::input, side("lan", addrs({"10.2.0.0/16"})),
                              unmatched("self"), {{2, 2}})});
    for (auto& f : p.flows) f.ipv6 = false;
    Table t = lower(p);
    CHECK(set_names(t) == std::vector<std::string>{"g_lan_v4", "g_lan_2_v4"});
    CHECK(stmt<MatchAddrSet>(chain(t, "in_tcp_2").rules[0], 0).set == "g_lan_2_v4");
    CHECK(t.sets[1].elements == addrs({"10.2.0.0/16"}).v4);
}

TEST_CASE("a v4-only source never yields an IPv6 rule or set") {
    auto p = projection({flow("v4", Direction::input, side("lan", addrs({"192.168.1.0/24"})),
                              unmatched("self"), {{22, 22}})});
    p.flows[0].ipv6 = true;  // even if the flow claims both families
    p.flows[0].icmpv6.push_back({128, "echo-request", {}});
    p.flows[0].icmp.push_back({8, "echo-request", {}});
    Table t = lower(p);
    CHECK(set_names(t) == std::vector<std::string>{"g_lan_v4"});
    const auto& c = chain(t, "in_tcp_22");
    REQUIRE(c.rules.size() == 1);
    CHECK_FALSE(mentions_family(c.rules[0], net::Family::ipv6));
    for (const auto& r : chain(t, "input").rules)
        if (r.comment == "flow:v4") CHECK(stmt<MatchIcmpType>(r, 0).family == net::Family::ipv4);
}

TEST_CASE("a rule without address matches covers both families with one rule") {
    auto p = projection(
        {flow("open", Direction::input, unmatched("any"), unmatched("self"), {{80, 80}}),
         flow("open4", Direction::input, unmatched("any"), unmatched("self"), {{81, 81}})});
    p.flows[1].ipv6 = false;
    Table t = lower(p);
    CHECK(t.sets.empty());
    const auto& both = chain(t, "in_tcp_80");
    REQUIRE(both.rules.size() == 1);
    REQUIRE(both.rules[0].stmts.size() == 2);  // counter, accept
    check_flow_tail(both.rules[0], "open");
    const auto& v4 = chain(t, "in_tcp_81");
    REQUIRE(v4.rules.size() == 1);
    CHECK(stmt<MatchNfproto>(v4.rules[0], 0).family == net::Family::ipv4);
}

TEST_CASE("a full family needs no set; the other family still matches its set") {
    auto src = net::set_union(net::AddrSet::everything(), net::AddrSet{});
    src.v6 = addrs({"fd00::/8"}).v6;
    auto p = projection(
        {flow("mixed", Direction::input, side("world", src), unmatched("self"), {{25, 25}})});
    Table t = lower(p);
    CHECK(set_names(t) == std::vector<std::string>{"g_world_v6"});
    const auto& c = chain(t, "in_tcp_25");
    REQUIRE(c.rules.size() == 2);
    CHECK(stmt<MatchNfproto>(c.rules[0], 0).family == net::Family::ipv4);
    CHECK(stmt<MatchAddrSet>(c.rules[1], 0).set == "g_world_v6");
}

TEST_CASE("gateway flows match their zone interfaces first") {
    auto p = projection({flow("gw", Direction::forward, side("agents", addrs({"10.10.0.0/16"})),
                              side("servers", addrs({"10.20.0.0/24"})), {{443, 443}})});
    p.flows[0].ipv6 = false;
    p.flows[0].iifnames = {"eth1", "eth0", "eth1"};
    p.flows[0].oifnames = {"eth2"};
    Table t = lower(p);
    const auto& c = chain(t, "fwd_tcp_443");
    REQUIRE(c.rules.size() == 1);
    const auto& iif = stmt<MatchInterface>(c.rules[0], 0);
    CHECK(iif.dir == MatchInterface::Dir::in);
    CHECK(iif.by_name);
    CHECK(iif.names == std::vector<std::string>{"eth0", "eth1"});
    CHECK(stmt<MatchInterface>(c.rules[0], 1).dir == MatchInterface::Dir::out);
    CHECK(stmt<MatchAddrSet>(c.rules[0], 2).field == MatchAddrSet::Field::saddr);
    CHECK(stmt<MatchAddrSet>(c.rules[0], 3).field == MatchAddrSet::Field::daddr);
    check_flow_tail(c.rules[0], "gw");
    const auto& fwd = chain(t, "forward");
    CHECK(stmt<ServiceVmap>(fwd.rules.at(4), 0).map == "fwd_svc");
}

TEST_CASE("the input chain holds the baseline in order") {
    auto p = projection({flow("ssh", Direction::input, side("admins", addrs({"10.30.0.0/24"})),
                              unmatched("self"), {{22, 22}}),
                         flow("ping", Direction::input, side("admins", addrs({"10.30.0.0/24"})),
                              unmatched("self"))});
    p.flows[1].icmp.push_back({8, "echo-request", {}});
    p.baseline.echo_rate = {20, policy::RateUnit::second, 7, {}};
    p.baseline.log_prefix = "fw \"x\"";
    Table t = lower(p);
    const auto& in = chain(t, "input");
    REQUIRE(in.base.has_value());
    CHECK(in.base->hook == Hook::input);
    CHECK(in.base->policy == ChainPolicy::drop);
    REQUIRE(in.rules.size() == 10);
    CHECK(stmt<MatchCtState>(in.rules[0], 0).mask == 6);
    CHECK(stmt<MatchCtState>(in.rules[1], 0).mask == 1);
    CHECK(stmt<Verdict>(in.rules[1], 1).kind == Verdict::Kind::drop);
    CHECK_FALSE(stmt<MatchInterface>(in.rules[2], 0).by_name);
    CHECK(stmt<MatchIcmpType>(in.rules[3], 0).types == std::vector<std::uint8_t>{3, 11, 12});
    CHECK(stmt<Limit>(in.rules[4], 1).rate == 20);
    CHECK(stmt<Limit>(in.rules[4], 1).burst == 7);
    const auto& nd = stmt<MatchIcmpType>(in.rules[5], 0);
    CHECK(nd.family == net::Family::ipv6);
    CHECK(std::is_sorted(nd.types.begin(), nd.types.end()));
    for (std::uint8_t needed : {2, 133, 134, 135, 136})
        CHECK(std::count(nd.types.begin(), nd.types.end(), needed) == 1);
    CHECK(stmt<MatchIcmpType>(in.rules[6], 0).types == std::vector<std::uint8_t>{128});
    // the flow's ICMP rule comes before the service lookup, its type test
    // before its address lookup
    CHECK(stmt<MatchIcmpType>(in.rules[7], 0).types == std::vector<std::uint8_t>{8});
    CHECK(stmt<MatchAddrSet>(in.rules[7], 1).set == "g_admins_v4");
    check_flow_tail(in.rules[7], "ping");
    CHECK(stmt<ServiceVmap>(in.rules[8], 0).map == "in_svc");
    CHECK(stmt<Limit>(in.rules[9], 0).unit == RateUnit::minute);
    CHECK(stmt<Log>(in.rules[9], 1).prefix == "fw 'x' input drop: ");
    CHECK(t.chains.back().name == "forward");
}

TEST_CASE("no services and no logging leave only the fixed baseline") {
    auto p = projection({});
    p.baseline.log_drops = false;
    p.baseline.forward = policy::ChainPolicy::accept;
    Table t = lower(p);
    CHECK(t.maps.empty());
    CHECK(t.counters.empty());
    CHECK(chain_names(t) == std::vector<std::string>{"input", "forward"});
    CHECK(chain(t, "input").rules.size() == 7);
    const auto& fwd = chain(t, "forward");
    CHECK(fwd.base->policy == ChainPolicy::accept);
    REQUIRE(fwd.rules.size() == 4);
    CHECK(stmt<MatchIcmpType>(fwd.rules[3], 0).types == std::vector<std::uint8_t>{1, 2, 3, 4});
}

TEST_CASE("egress off ignores output flows; egress on adds the output chain") {
    auto out = flow("dns", Direction::output, unmatched("self"),
                    side("resolvers", addrs({"10.0.0.53"})), {});
    out.udp.push_back({53, 53, {}});
    out.ipv6 = false;
    auto p = projection({out});

    Table off = lower(p);
    CHECK_FALSE(has_chain(off, "output"));
    CHECK_FALSE(has_chain(off, "out_udp_53"));
    CHECK(off.sets.empty());
    CHECK(off.counters.empty());
    CHECK(off.maps.empty());

    p.baseline.egress = true;
    Table on = lower(p);
    CHECK(chain_names(on) == std::vector<std::string>{"out_udp_53", "input", "forward", "output"});
    const auto& o = chain(on, "output");
    CHECK(o.base->hook == Hook::output);
    CHECK(o.base->policy == ChainPolicy::drop);
    CHECK(stmt<MatchInterface>(o.rules[2], 0).dir == MatchInterface::Dir::out);
    CHECK(stmt<MatchIcmpType>(o.rules[3], 0).types ==
          std::vector<std::uint8_t>{131, 133, 135, 136, 143});
    CHECK(stmt<ServiceVmap>(o.rules[6], 0).map == "out_svc");
    CHECK(stmt<Log>(o.rules[7], 1).prefix == "nftpolicy output drop: ");
    REQUIRE(on.maps.size() == 1);
    CHECK(on.maps[0].name == "out_svc");
    const auto& dns = chain(on, "out_udp_53");
    CHECK(stmt<MatchAddrSet>(dns.rules[0], 0).field == MatchAddrSet::Field::daddr);
}

TEST_CASE("texts are made safe for nft: quotes replaced, length capped") {
    auto f = flow("q", Direction::input, unmatched("any"), unmatched("self"), {{1, 1}});
    f.comment = "say \"hi\"\n" + std::string(200, 'x');
    Table t = lower(projection({f}));
    REQUIRE(t.counters.size() == 1);
    CHECK(t.counters[0].comment.size() == 128);
    CHECK(t.counters[0].comment.substr(0, 10) == "say 'hi' x");
}

namespace {

resolve::ProjectedFlow legacy(resolve::ProjectedFlow f, std::string gate,
                              policy::SeenSettings seen = {}) {
    f.lifecycle = resolve::Lifecycle::legacy;
    f.gate = std::move(gate);
    f.seen = seen;
    return f;
}

std::vector<std::string> dynamic_set_names(const Table& t) {
    std::vector<std::string> out;
    for (const auto& s : t.dynamic_sets) out.push_back(s.name);
    return out;
}

}  // namespace

TEST_CASE("a legacy flow records its sources in a seen set per gate and family") {
    SourceManager sources;
    const SourceFile& file = sources.add("site.toml", "[migrations.ses]\n");
    const SourceSpan migration{&file, {1, 13}, {1, 16}};
    auto agents = addrs({"10.10.0.0/16", "fd00:10::/48"});
    auto p = projection(
        {legacy(flow("old", Direction::input, side("agents", agents), unmatched("self"),
                     {{17000, 17000}}),
                "ses.agents-migrated", {86400, 4096, migration}),
         flow("new", Direction::input, side("agents", agents), unmatched("self"), {{443, 443}})});
    Table t = lower(p);
    CHECK(dynamic_set_names(t) == std::vector<std::string>{"seen_ses.agents-migrated_v4",
                                                           "seen_ses.agents-migrated_v6"});
    const DynamicSet& v4 = t.dynamic_sets[0];
    CHECK(v4.family == net::Family::ipv4);
    CHECK(v4.timeout_ms == 86400000);
    CHECK(v4.size == 4096);
    CHECK(v4.comment == "who still uses flows retired by ses.agents-migrated");
    CHECK(v4.span.where() == "site.toml:1:13");
    CHECK(t.dynamic_sets[1].family == net::Family::ipv6);

    // One recording rule per family, which also accepts (one lookup of the
    // source per connection), each ahead of the plain accept rules that take
    // the connection when a full set ends the recording rule.
    const auto& c = chain(t, "in_tcp_17000");
    REQUIRE(c.rules.size() == 4);
    for (std::size_t i = 0; i < 2; ++i) {
        const Rule& r = c.rules[i];
        const net::Family f = i == 0 ? net::Family::ipv4 : net::Family::ipv6;
        REQUIRE(r.stmts.size() == 4);
        check_flow_tail(r, "old");
        CHECK(stmt<MatchAddrSet>(r, 0).family == f);
        const auto& u = stmt<UpdateSet>(r, 1);
        CHECK(u.family == f);
        CHECK(u.field == MatchAddrSet::Field::saddr);
        CHECK(u.set == t.dynamic_sets[i].name);
        CHECK(r.comment == "flow:old");
        check_flow_tail(c.rules[i + 2], "old");
    }
    // Flows that are not legacy record nothing.
    for (const auto& r : chain(t, "in_tcp_443").rules)
        for (const auto& s : r.stmts) CHECK_FALSE(std::holds_alternative<UpdateSet>(s.kind));
}

TEST_CASE("flows retired by one gate share its sets; another gate has its own") {
    auto agents = addrs({"10.10.0.0/16"});
    auto p = projection(
        {legacy(flow("a", Direction::input, side("agents", agents), unmatched("self"), {{1, 1}}),
                "m.g1"),
         legacy(flow("b", Direction::input, side("agents", agents), unmatched("self"), {{2, 2}}),
                "m.g1"),
         legacy(flow("c", Direction::input, side("agents", agents), unmatched("self"), {{3, 3}}),
                "m")});
    Table t = lower(p);
    CHECK(dynamic_set_names(t) == std::vector<std::string>{"seen_m.g1_v4", "seen_m_v4"});
    CHECK(t.dynamic_sets[0].timeout_ms == 7 * 86400000ull);  // the defaults
    CHECK(t.dynamic_sets[0].size == 65536);
    CHECK(stmt<UpdateSet>(chain(t, "in_tcp_2").rules[0], 1).set == "seen_m.g1_v4");
    CHECK(stmt<UpdateSet>(chain(t, "in_tcp_3").rules[0], 1).set == "seen_m_v4");
}

TEST_CASE("an output flow records its destination; an unmatched source records per family") {
    auto out = legacy(flow("push", Direction::output, unmatched("self"),
                           side("collector", addrs({"10.99.0.5"})), {}),
                      "logs");
    out.udp.push_back({514, 514, {}});
    auto open = legacy(flow("open", Direction::input, unmatched("any"), unmatched("self"), {{80, 80}}),
                       "logs");
    auto p = projection({out, open});
    p.baseline.egress = true;
    Table t = lower(p);
    CHECK(dynamic_set_names(t) == std::vector<std::string>{"seen_logs_v4", "seen_logs_v6"});
    const auto& push = chain(t, "out_udp_514");
    REQUIRE(push.rules.size() == 2);
    CHECK(stmt<UpdateSet>(push.rules[0], 1).field == MatchAddrSet::Field::daddr);
    // `any` needs no address match, but the set is per family: one recording
    // rule each, then the single family-less accept rule.
    const auto& any = chain(t, "in_tcp_80");
    REQUIRE(any.rules.size() == 3);
    CHECK(stmt<UpdateSet>(any.rules[0], 0).family == net::Family::ipv4);
    CHECK(stmt<UpdateSet>(any.rules[1], 0).family == net::Family::ipv6);
    CHECK(stmt<UpdateSet>(any.rules[1], 0).field == MatchAddrSet::Field::saddr);
    check_flow_tail(any.rules[2], "open");
    CHECK(any.rules[2].stmts.size() == 2);
}

TEST_CASE("a legacy ICMP flow records in the base chain, only in the families it opens") {
    auto ping = legacy(flow("ping", Direction::input, side("mon", addrs({"10.50.0.0/24", "fd00:50::/64"})),
                            unmatched("self")),
                       "m.g");
    ping.icmp.push_back({8, "echo-request", {}});
    Table t = lower(projection({ping}));
    CHECK(dynamic_set_names(t) == std::vector<std::string>{"seen_m.g_v4"});
    const auto& input = chain(t, "input");
    std::vector<const Rule*> rules;
    for (const auto& r : input.rules)
        if (r.comment == "flow:ping") rules.push_back(&r);
    REQUIRE(rules.size() == 2);
    CHECK(stmt<MatchIcmpType>(*rules[0], 0).types == std::vector<std::uint8_t>{8});
    CHECK(stmt<UpdateSet>(*rules[0], 2).set == "seen_m.g_v4");
    check_flow_tail(*rules[1], "ping");
    CHECK(rules[1] == rules[0] + 1);
}

namespace {

SourceSpan at(const SourceFile& file, std::uint32_t line, std::uint32_t col) {
    return SourceSpan{&file, {line, col}, {line, col + 3}};
}

bool same_place(const SourceSpan& a, const SourceSpan& b) {
    return a.file == b.file && a.begin == b.begin && a.end == b.end;
}

}  // namespace

TEST_CASE("statements, map elements and set elements keep the span that produced them") {
    SourceManager sources;
    const SourceFile& file = sources.add("site.toml", "x\n");
    auto src = side("agents", addrs({"10.10.0.0/16", "10.30.0.5"}));
    src.span = at(file, 10, 8);
    src.sources = {{addrs({"10.10.0.0/16"}), at(file, 2, 12)}, {addrs({"10.30.0.5"}), at(file, 2, 28)}};
    auto f = flow("web", Direction::input, src, unmatched("self"), {{443, 443}, {8000, 8080}});
    f.span = at(file, 8, 1);
    f.tcp[0].span = at(file, 6, 18);
    f.tcp[1].span = at(file, 6, 23);
    Table t = lower(projection({f}));

    // map elements: the port of the service that opened the piece
    REQUIRE(t.maps.size() == 1);
    REQUIRE(t.maps[0].elements.size() == 2);
    CHECK(same_place(t.maps[0].elements[0].span, at(file, 6, 18)));
    CHECK(same_place(t.maps[0].elements[1].span, at(file, 6, 23)));

    // the address match under the group expression, the counter under the flow
    const Rule& r = chain(t, "in_tcp_443").rules.at(0);
    REQUIRE(std::holds_alternative<MatchAddrSet>(r.stmts.at(0).kind));
    CHECK(same_place(r.stmts[0].span, at(file, 10, 8)));
    CHECK(same_place(r.stmts.at(1).span, at(file, 8, 1)));

    // each element under the literal holding it; outside any, the set's span
    REQUIRE(t.sets.size() == 1);
    const AddrSet& s = t.sets[0];
    CHECK(same_place(element_span(s, net::parse_address("10.10.200.1")->range.lo), at(file, 2, 12)));
    CHECK(same_place(element_span(s, net::parse_address("10.30.0.5")->range.lo), at(file, 2, 28)));
    CHECK(same_place(element_span(s, net::parse_address("10.99.0.1")->range.lo), at(file, 10, 8)));
}

// ---- the gateway fast path ([baseline] flowtable) ----------------------------

namespace {

resolve::Projection gateway(policy::FlowtableMode mode, std::vector<std::string> interfaces) {
    auto p = projection({flow("f", Direction::forward, side("a", addrs({"10.1.0.0/24"})),
                              side("b", addrs({"10.2.0.0/24"})), {{443, 443}})});
    p.mode = policy::HostMode::gateway;
    p.baseline.flowtable.mode = mode;
    p.interfaces = std::move(interfaces);
    return p;
}

bool offloads(const Rule& r) {
    return std::any_of(r.stmts.begin(), r.stmts.end(),
                       [](const Stmt& s) { return std::holds_alternative<FlowOffload>(s.kind); });
}

std::size_t offload_rules(const Table& t) {
    std::size_t n = 0;
    for (const auto& c : t.chains) n += static_cast<std::size_t>(std::count_if(c.rules.begin(), c.rules.end(), offloads));
    return n;
}

}  // namespace

TEST_CASE("a gateway with zones gets a flowtable on its interfaces, offloaded first in forward") {
    Table t = lower(gateway(policy::FlowtableMode::auto_, {"eth0", "eth1"}));
    REQUIRE(t.flowtable);
    CHECK(t.flowtable->name == kFlowtableName);
    CHECK(t.flowtable->devices == std::vector<std::string>{"eth0", "eth1"});
    CHECK(t.flowtable->counter);
    CHECK_FALSE(t.flowtable->required);
    const Chain& fwd = chain(t, "forward");
    // Before `ct state established,related accept`, which would end the chain.
    REQUIRE(fwd.rules.size() >= 2);
    const Rule& first = fwd.rules[0];
    CHECK(stmt<MatchCtState>(first, 0).mask == 2);
    CHECK(stmt<MatchL4proto>(first, 1).protos == std::vector<std::uint8_t>{kProtoTcp, kProtoUdp});
    CHECK(stmt<FlowOffload>(first, 2).flowtable == kFlowtableName);
    CHECK(first.stmts.size() == 3);  // no verdict: every packet goes on to the rules below
    CHECK(stmt<MatchCtState>(fwd.rules[1], 0).mask == (2 | 4));
    CHECK(offload_rules(t) == 1);
    CHECK(lower(gateway(policy::FlowtableMode::on, {"eth0"})).flowtable->required);
}

TEST_CASE("no flowtable when off, on hosts and on gateways without interfaces") {
    CHECK_FALSE(lower(gateway(policy::FlowtableMode::off, {"eth0"})).flowtable);
    CHECK_FALSE(lower(gateway(policy::FlowtableMode::on, {})).flowtable);
    auto host = gateway(policy::FlowtableMode::on, {"eth0"});
    host.mode = policy::HostMode::host;
    Table t = lower(host);
    CHECK_FALSE(t.flowtable);
    CHECK(offload_rules(t) == 0);
}

TEST_CASE("without_flowtable drops the flowtable and its rule, nothing else") {
    Table with = lower(gateway(policy::FlowtableMode::auto_, {"eth0", "eth1"}));
    Table plain = lower(gateway(policy::FlowtableMode::off, {"eth0", "eth1"}));
    Table stripped = without_flowtable(with);
    CHECK_FALSE(stripped.flowtable);
    CHECK(offload_rules(stripped) == 0);
    REQUIRE(stripped.chains.size() == plain.chains.size());
    for (std::size_t i = 0; i < plain.chains.size(); ++i) {
        CHECK(stripped.chains[i].name == plain.chains[i].name);
        CHECK(stripped.chains[i].rules.size() == plain.chains[i].rules.size());
    }
    CHECK(with.flowtable);  // the argument is a copy
}
