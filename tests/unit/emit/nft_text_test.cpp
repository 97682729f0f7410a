// The nft text emitter prints what `nft -s list table` prints. Small tables
// are compared verbatim; the [kernel] case loads a rich table into a fresh
// network namespace and compares the kernel's listing with our text.
#include <catch2/catch.hpp>

#include "emit/nft_text.h"
#include "ir/lower.h"

using namespace nftpolicy;
using namespace nftpolicy::ir;
using emit::nft_text;

namespace {

net::Interval iv(const char* text) {
    return net::parse_address_entry(text).value().range;
}

Rule rule(std::vector<Stmt> stmts, std::string comment = {}) {
    return Rule{std::move(stmts), std::move(comment), {}};
}

std::string body(const Table& t) {
    return nft_text(t, {.replace = false});
}

}  // namespace

TEST_CASE("an empty table") {
    Table t;
    t.name = "t";
    CHECK(body(t) == "table inet t {\n}\n");
    CHECK(nft_text(t) == "table inet t\ndelete table inet t\ntable inet t {\n}\n");
}

TEST_CASE("counters, sets and maps print as nft lists them") {
    Table t;
    t.name = "nftpolicy";
    t.counters = {{"flow_a", "agents -> self", {}}, {"flow_b", "", {}}};
    t.sets = {{"g_lan_v4",
               net::Family::ipv4,
               {iv("10.0.0.0/24"), iv("10.0.1.1"), iv("10.0.2.1-10.0.2.9")},
               "",
               {}},
              {"x_0000abcd_v6", net::Family::ipv6, {iv("fd00::/48")}, "a | b", {}},
              {"empty_v4", net::Family::ipv4, {}, "", {}}};
    t.maps = {{"in_svc",
               {{kProtoTcp, 443, 443, "in_tcp_443"},
                {kProtoTcp, 3023, 3499, "in_tcp_3023-3499"},
                {kProtoUdp, 53, 53, "in_udp_53"}},
               {}}};
    CHECK(body(t) ==
          "table inet nftpolicy {\n"
          "\tcounter flow_a {\n\t\tcomment \"agents -> self\"\n\t}\n"
          "\n"
          "\tcounter flow_b {\n\t}\n"
          "\n"
          "\tset g_lan_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
          "\t\telements = { 10.0.0.0/24, 10.0.1.1, 10.0.2.1-10.0.2.9 }\n\t}\n"
          "\n"
          "\tset x_0000abcd_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\tcomment \"a | b\"\n"
          "\t\telements = { fd00::/48 }\n\t}\n"
          "\n"
          "\tset empty_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t}\n"
          "\n"
          "\tmap in_svc {\n\t\ttype inet_proto . inet_service : verdict\n\t\tflags interval\n"
          "\t\telements = { tcp . 443 : jump in_tcp_443, tcp . 3023-3499 : jump in_tcp_3023-3499, "
          "udp . 53 : jump in_udp_53 }\n\t}\n"
          "}\n");
}

TEST_CASE("base chains print hook, priority and policy") {
    Table t;
    t.name = "t";
    t.chains.push_back({"input", BaseChain{Hook::input, 0, ChainPolicy::drop}, {}, {}});
    t.chains.push_back({"forward", BaseChain{Hook::forward, 10, ChainPolicy::accept}, {}, {}});
    t.chains.push_back({"output", BaseChain{Hook::output, -5, ChainPolicy::drop}, {}, {}});
    t.chains.push_back({"plain", std::nullopt, {}, {}});
    CHECK(body(t) ==
          "table inet t {\n"
          "\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t}\n\n"
          "\tchain forward {\n\t\ttype filter hook forward priority filter + 10; policy "
          "accept;\n\t}\n\n"
          "\tchain output {\n\t\ttype filter hook output priority filter - 5; policy drop;\n\t}\n\n"
          "\tchain plain {\n\t}\n"
          "}\n");
}

TEST_CASE("every statement kind in nft's spelling") {
    using MI = MatchInterface;
    Chain c{"c", std::nullopt, {}, {}};
    c.rules = {
        rule({MatchCtState{2 | 4}, Verdict{}}),
        rule({MatchCtState{1 | 2 | 4 | 8 | 64}, Verdict{Verdict::Kind::drop, {}}}),
        rule({MI{MI::Dir::in, false, {"lo"}}, Verdict{}}),
        rule(
            {MI{MI::Dir::in, true, {"eth1", "eth0"}}, MI{MI::Dir::out, true, {"eth2"}}, Verdict{}}),
        rule({MatchNfproto{net::Family::ipv6}, CounterStmt{"flow_x"}, Verdict{}}, "flow:x"),
        rule({MatchL4proto{{kProtoIcmpv6, kProtoIcmp}}, Verdict{}}),
        rule({MatchL4proto{{kProtoTcp}}, CounterStmt{}}),
        rule({MatchAddrSet{net::Family::ipv4, MatchAddrSet::Field::saddr, "s4"},
              MatchAddrSet{net::Family::ipv6, MatchAddrSet::Field::daddr, "s6"}, Verdict{}}),
        rule({MatchIcmpType{net::Family::ipv4, {200, 8}}, Limit{10, RateUnit::second, 5},
              Verdict{}}),
        rule({MatchIcmpType{net::Family::ipv6, {135}}, Limit{3, RateUnit::hour, 1}, Verdict{}}),
        rule({MatchDport{kProtoTcp, {{22, 22}, {1000, 2000}}},
              Verdict{Verdict::Kind::jump, "other"}}),
        rule({MatchDport{kProtoUdp, {{53, 53}}}, Verdict{Verdict::Kind::return_, {}}}),
        rule({ServiceVmap{"in_svc"}}),
        rule({Limit{10, RateUnit::minute, 5}, Log{"nftpolicy input drop: "}}),
        rule({Limit{1, RateUnit::day, 5}, Log{""}}),
        // nft leaves out a family match that a later statement implies
        rule({MatchNfproto{net::Family::ipv4}, MatchDport{kProtoUdp, {{53, 53}}},
              MatchAddrSet{net::Family::ipv4, MatchAddrSet::Field::daddr, "s4"}, Verdict{}}),
        rule({MatchNfproto{net::Family::ipv6}, MatchIcmpType{net::Family::ipv6, {128}}, Verdict{}}),
        rule({MatchNfproto{net::Family::ipv4},
              MatchAddrSet{net::Family::ipv6, MatchAddrSet::Field::daddr, "s6"}}),
    };
    Table t;
    t.name = "t";
    t.chains.push_back(c);
    CHECK(body(t) ==
          "table inet t {\n"
          "\tchain c {\n"
          "\t\tct state established,related accept\n"
          "\t\tct state invalid,established,related,new,untracked drop\n"
          "\t\tiif \"lo\" accept\n"
          "\t\tiifname { \"eth0\", \"eth1\" } oifname \"eth2\" accept\n"
          "\t\tmeta nfproto ipv6 counter name \"flow_x\" accept comment \"flow:x\"\n"
          "\t\tmeta l4proto { icmp, ipv6-icmp } accept\n"
          "\t\tmeta l4proto tcp counter\n"
          "\t\tip saddr @s4 ip6 daddr @s6 accept\n"
          "\t\ticmp type { echo-request, 200 } limit rate 10/second accept\n"
          "\t\ticmpv6 type nd-neighbor-solicit limit rate 3/hour burst 1 packets accept\n"
          "\t\ttcp dport { 22, 1000-2000 } jump other\n"
          "\t\tudp dport 53 return\n"
          "\t\tmeta l4proto . th dport vmap @in_svc\n"
          "\t\tlimit rate 10/minute log prefix \"nftpolicy input drop: \"\n"
          "\t\tlimit rate 1/day log\n"
          "\t\tudp dport 53 ip daddr @s4 accept\n"
          "\t\ticmpv6 type echo-request accept\n"
          "\t\tmeta nfproto ipv4 ip6 daddr @s6\n"
          "\t}\n"
          "}\n");
}

TEST_CASE("dynamic sets and update statements print as nft lists them") {
    Table t;
    t.name = "t";
    t.sets = {{"g_a_v4", net::Family::ipv4, {iv("10.0.0.0/8")}, "", {}}};
    t.dynamic_sets = {{"seen_m.g_v4", net::Family::ipv4, 7 * 86400000ull, 65536, "", {}},
                      {"seen_m_v6", net::Family::ipv6, 36 * 3600000ull + 90000, 1024, "who", {}}};
    t.maps = {{"in_svc", {{kProtoTcp, 17000, 17000, "c"}}, {}}};
    Chain c{"c", std::nullopt, {}, {}};
    c.rules = {
        rule({MatchAddrSet{net::Family::ipv4, MatchAddrSet::Field::saddr, "g_a_v4"},
              UpdateSet{net::Family::ipv4, MatchAddrSet::Field::saddr, "seen_m.g_v4"}},
             "flow:old"),
        // the update implies the family, so nft leaves the family match out
        rule({MatchNfproto{net::Family::ipv6},
              UpdateSet{net::Family::ipv6, MatchAddrSet::Field::daddr, "seen_m_v6"}}),
    };
    t.chains.push_back(c);
    CHECK(body(t) ==
          "table inet t {\n"
          "\tset g_a_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 10.0.0.0/8 }\n\t}\n"
          "\n"
          "\tset seen_m.g_v4 {\n\t\ttype ipv4_addr\n\t\tsize 65536\n\t\tflags dynamic,timeout\n"
          "\t\ttimeout 7d\n\t}\n"
          "\n"
          "\tset seen_m_v6 {\n\t\ttype ipv6_addr\n\t\tsize 1024\n\t\tflags dynamic,timeout\n"
          "\t\ttimeout 1d12h1m30s\n\t\tcomment \"who\"\n\t}\n"
          "\n"
          "\tmap in_svc {\n\t\ttype inet_proto . inet_service : verdict\n\t\tflags interval\n"
          "\t\telements = { tcp . 17000 : jump c }\n\t}\n"
          "\n"
          "\tchain c {\n"
          "\t\tip saddr @g_a_v4 update @seen_m.g_v4 { ip saddr } comment \"flow:old\"\n"
          "\t\tupdate @seen_m_v6 { ip6 daddr }\n"
          "\t}\n"
          "}\n");
}

TEST_CASE("a flowtable and its offload rule print as nft 1.0.6 lists them") {
    Table t;
    t.name = "t";
    t.maps = {{"fwd_svc", {{kProtoTcp, 443, 443, "c"}}, {}}};
    t.flowtable = Flowtable{"fastpath", {"eth0", "eth1"}, 0, true, false, {}};
    Chain fwd{"forward", BaseChain{Hook::forward, 0, ChainPolicy::drop}, {}, {}};
    fwd.rules = {rule({MatchCtState{2}, MatchL4proto{{kProtoTcp, kProtoUdp}}, FlowOffload{"fastpath"}}),
                 rule({MatchCtState{2 | 4}, Verdict{}})};
    t.chains.push_back(fwd);
    // Between the maps and the chains, devices unquoted, `counter` as a flag.
    CHECK(body(t) ==
          "table inet t {\n"
          "\tmap fwd_svc {\n\t\ttype inet_proto . inet_service : verdict\n\t\tflags interval\n"
          "\t\telements = { tcp . 443 : jump c }\n\t}\n"
          "\n"
          "\tflowtable fastpath {\n\t\thook ingress priority filter\n\t\tdevices = { eth0, eth1 }\n"
          "\t\tcounter\n\t}\n"
          "\n"
          "\tchain forward {\n"
          "\t\ttype filter hook forward priority filter; policy drop;\n"
          "\t\tct state established meta l4proto { tcp, udp } flow add @fastpath\n"
          "\t\tct state established,related accept\n"
          "\t}\n"
          "}\n");
    t.flowtable->counter = false;
    CHECK(body(t).find("devices = { eth0, eth1 }\n\t}\n") != std::string::npos);
}
