// The lockout guard's reachability (ir/reach.h) on hand-made tables shaped
// like lowering's output: management through a service map, narrowed and
// dropped management, a jump that returns, a second base chain, the SSH
// client of $SSH_CONNECTION, and the parse of that variable.
#include <catch2/catch.hpp>

#include "ir/reach.h"

using namespace nftpolicy;
using namespace nftpolicy::ir;

namespace {

net::AddrSet addrs(std::initializer_list<const char*> entries) {
    net::AddrSet out;
    for (const char* e : entries) out.add(*net::parse_address_entry(e));
    return out;
}

bool has(const net::AddrSet& s, const char* addr) {
    auto a = net::parse_address(addr);
    return s.contains(a->family, a->range.lo);
}

// The input side of a compiled table: baseline, then a service map to one
// chain per service. `mgmt`: the management sources (v4), tcp/22.
Table table_with(const char* mgmt_entry, bool with_web = false) {
    Table t;
    if (mgmt_entry) {
        t.sets.push_back(AddrSet{"g_admins_v4", net::Family::ipv4, addrs({mgmt_entry}).v4, "", {}});
        t.maps.push_back(ServiceMap{"in_svc", {{kProtoTcp, 22, 22, "in_tcp_22", {}}}, {}});
        Rule r{{MatchAddrSet{net::Family::ipv4, MatchAddrSet::Field::saddr, "g_admins_v4"},
                CounterStmt{"flow_management"}, Verdict{Verdict::Kind::accept, ""}},
               "flow:management",
               {}};
        t.chains.push_back(Chain{"in_tcp_22", std::nullopt, {r}, {}});
    }
    if (with_web) {
        if (t.maps.empty()) t.maps.push_back(ServiceMap{"in_svc", {}, {}});
        t.maps[0].elements.push_back({kProtoTcp, 80, 80, "in_tcp_80", {}});
        t.chains.push_back(Chain{"in_tcp_80",
                                 std::nullopt,
                                 {Rule{{Verdict{Verdict::Kind::accept, ""}}, "flow:web", {}}},
                                 {}});
    }
    Chain input{"input", BaseChain{Hook::input, 0, ChainPolicy::drop}, {}, {}};
    input.rules.push_back(Rule{{MatchCtState{2 | 4}, Verdict{Verdict::Kind::accept, ""}}, "", {}});
    input.rules.push_back(Rule{{MatchCtState{1}, Verdict{Verdict::Kind::drop, ""}}, "", {}});
    input.rules.push_back(Rule{{MatchInterface{MatchInterface::Dir::in, false, {"lo"}},
                                Verdict{Verdict::Kind::accept, ""}},
                               "",
                               {}});
    if (!t.maps.empty()) input.rules.push_back(Rule{{ServiceVmap{"in_svc"}}, "", {}});
    t.chains.push_back(std::move(input));
    return t;
}

const Service kSsh{kProtoTcp, 22};

}  // namespace

TEST_CASE("accepted sources follow the management set through the service map") {
    Table t = table_with("10.30.0.0/24", true);
    auto ssh = accepted_sources(t, kSsh);
    CHECK(has(ssh, "10.30.0.7"));
    CHECK_FALSE(has(ssh, "10.30.1.7"));
    CHECK_FALSE(has(ssh, "fd00::1"));
    auto web = accepted_sources(t, {kProtoTcp, 80});
    CHECK(has(web, "192.0.2.1"));
    CHECK(has(web, "fd00::1"));
    CHECK(accepted_sources(t, {kProtoUdp, 22}).empty());
}

TEST_CASE("management of a table: its services and sources") {
    Management m = management_of(table_with("10.30.0.0/24", true));
    CHECK(m.services == std::vector<Service>{kSsh});
    CHECK(has(m.sources, "10.30.0.1"));
    CHECK(management_of(table_with(nullptr, true)).services.empty());
}

TEST_CASE("no table at all accepts everything; an accept policy too") {
    Table none;
    CHECK(has(accepted_sources(none, kSsh), "198.51.100.1"));
    Table open = table_with(nullptr);
    open.chains.back().base->policy = ChainPolicy::accept;
    CHECK(has(accepted_sources(open, kSsh), "198.51.100.1"));
}

TEST_CASE("dropping the management group cuts all of it") {
    auto cuts = lockout(table_with("10.30.0.0/24", true), table_with(nullptr, true), std::nullopt);
    REQUIRE(cuts.size() == 1);
    CHECK(cuts[0].service == kSsh);
    CHECK(cuts[0].sources == addrs({"10.30.0.0/24"}));
    CHECK(describe(cuts[0]) == "tcp/22 from 10.30.0.0/24");
}

TEST_CASE("narrowing the management group cuts the difference") {
    auto cuts = lockout(table_with("10.30.0.0/24"), table_with("10.30.0.0/28"), std::nullopt);
    REQUIRE(cuts.size() == 1);
    CHECK(cuts[0].sources == addrs({"10.30.0.16-10.30.0.255"}));
    CHECK(describe(cuts[0]) == "tcp/22 from 10.30.0.16-10.30.0.255");
}

TEST_CASE("widening or keeping the management group cuts nothing") {
    CHECK(lockout(table_with("10.30.0.0/24"), table_with("10.30.0.0/16"), std::nullopt).empty());
    CHECK(lockout(table_with("10.30.0.0/24"), table_with("10.30.0.0/24", true), std::nullopt)
              .empty());
}

TEST_CASE("the SSH client's own address is kept, even outside the management group") {
    auto client = parse_ssh_connection("192.0.2.9 50022 10.0.0.1 22");
    REQUIRE(client);
    // No table in the kernel: everything is accepted now, so the client is.
    auto cuts = lockout(std::nullopt, table_with("10.30.0.0/24"), client);
    REQUIRE(cuts.size() == 1);
    CHECK(cuts[0].ssh_client);
    CHECK(describe(cuts[0]) ==
          "tcp/22 from 192.0.2.9 (this SSH session's client, $SSH_CONNECTION)");
    auto inside = parse_ssh_connection("10.30.0.9 50022 10.0.0.1 22");
    CHECK(lockout(std::nullopt, table_with("10.30.0.0/24"), inside).empty());
    // Not accepted before either: nothing of it to cut.
    CHECK(lockout(table_with("10.30.0.0/24"), table_with("10.30.0.0/24"), client).empty());
}

TEST_CASE("a jump that returns falls through to the next rule; every base chain must accept") {
    Table t = table_with(nullptr);
    t.chains.insert(
        t.chains.begin(),
        Chain{"sub", std::nullopt, {Rule{{Verdict{Verdict::Kind::return_, ""}}, "", {}}}, {}});
    Chain& input = t.chains.back();
    input.rules.push_back(Rule{{Verdict{Verdict::Kind::jump, "sub"}}, "", {}});
    input.rules.push_back(
        Rule{{MatchDport{kProtoTcp, {{22, 22}}}, Verdict{Verdict::Kind::accept, ""}}, "", {}});
    CHECK(has(accepted_sources(t, kSsh), "198.51.100.1"));
    Chain second{"input2", BaseChain{Hook::input, 10, ChainPolicy::drop}, {}, {}};
    t.chains.push_back(second);
    CHECK(accepted_sources(t, kSsh).empty());
}

TEST_CASE("SSH_CONNECTION parse: four fields, an address first, a port fourth") {
    auto v6 = parse_ssh_connection("fd00:30::5 40000 fd00::1 2222");
    REQUIRE(v6);
    CHECK(v6->family == net::Family::ipv6);
    CHECK(v6->server_port == 2222);
    for (const char* bad :
         {"", "10.0.0.1", "10.0.0.1 1 2", "host 1 10.0.0.1 22", "10.0.0.1 1 10.0.0.2 0",
          "10.0.0.1 1 10.0.0.2 65536", "10.0.0.1 1 10.0.0.2 22 extra", "10.0.0.1 1 10.0.0.2 2x",
          "10.0.0.0/24 1 10.0.0.2 22"}) {
        INFO(bad);
        CHECK_FALSE(parse_ssh_connection(bad));
    }
}
