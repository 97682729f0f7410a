// Hand-made IR tables for the kernel tests (lowering is tested elsewhere):
// each covers a different mix of statements, sets and maps.
#pragma once

#include <string>
#include <vector>

#include "ir/ruleset.h"
#include "net/addr.h"

namespace nftpolicy::testing {

// Changes the intervals of an IR address set in a test: `edit` gets them as
// one vector, and the list is rebuilt from it.
template <typename Edit>
void edit_list(net::IntervalList& list, Edit edit) {
    std::vector<net::Interval> v = list.flat();
    edit(v);
    list = net::IntervalList(v);
}

inline net::Interval v4(const char* text) { return net::parse_address_entry(text)->range; }
inline net::Interval v6(const char* text) { return net::parse_address_entry(text)->range; }

inline ir::Rule rule(std::vector<ir::Stmt> stmts, std::string comment = "") {
    return ir::Rule{std::move(stmts), std::move(comment), {}};
}

inline ir::Verdict accept() { return ir::Verdict{ir::Verdict::Kind::accept, ""}; }
inline ir::Verdict drop() { return ir::Verdict{ir::Verdict::Kind::drop, ""}; }
inline ir::Verdict jump(std::string chain) { return ir::Verdict{ir::Verdict::Kind::jump, std::move(chain)}; }

// A gateway-like table: counters, v4/v6 sets, dynamic sets, a service map,
// jumps, every baseline statement.
inline ir::Table rich_table(const std::string& name = "nftpolicy") {
    ir::Table t;
    t.name = name;
    t.counters.push_back({"flow_ssh", "flow ssh from admins", {}});
    t.counters.push_back({"flow_web", "", {}});
    t.sets.push_back({"admins_v4", net::Family::ipv4, {v4("10.0.0.0/24"), v4("10.0.1.5"), v4("10.0.2.1-10.0.2.9")},
                      "admin hosts", {}});
    t.sets.push_back({"admins_v6", net::Family::ipv6, {v6("fd00::/48"), v6("fd01::1")}, "", {}});
    t.sets.push_back({"web_v4", net::Family::ipv4, {v4("192.168.1.0/24")}, "", {}});
    t.dynamic_sets.push_back({"seen_m.g_v4", net::Family::ipv4, 7 * 86400000ull, 65536, "", {}});
    t.dynamic_sets.push_back({"seen_m_v6", net::Family::ipv6, 36 * 3600000ull, 1024, "who", {}});
    t.maps.push_back({"input_svc",
                      {{ir::kProtoTcp, 22, 22, "svc_ssh"}, {ir::kProtoTcp, 80, 80, "svc_web"},
                       {ir::kProtoUdp, 3000, 3100, "svc_web"}},
                      {}});
    ir::Chain ssh{"svc_ssh", std::nullopt, {}, {}};
    ssh.rules.push_back(rule({ir::MatchAddrSet{net::Family::ipv4, ir::MatchAddrSet::Field::saddr, "admins_v4"},
                              ir::UpdateSet{net::Family::ipv4, ir::MatchAddrSet::Field::saddr, "seen_m.g_v4"}},
                             "flow:ssh"));
    ssh.rules.push_back(rule({ir::MatchAddrSet{net::Family::ipv4, ir::MatchAddrSet::Field::saddr, "admins_v4"},
                              ir::CounterStmt{"flow_ssh"}, accept()},
                             "flow:ssh"));
    ssh.rules.push_back(rule({ir::MatchAddrSet{net::Family::ipv6, ir::MatchAddrSet::Field::saddr, "admins_v6"},
                              ir::CounterStmt{"flow_ssh"}, accept()},
                             "flow:ssh"));
    ir::Chain web{"svc_web", std::nullopt, {}, {}};
    web.rules.push_back(rule({ir::MatchAddrSet{net::Family::ipv4, ir::MatchAddrSet::Field::daddr, "web_v4"},
                              ir::CounterStmt{"flow_web"}, accept()},
                             "flow:web"));
    ir::Chain input{"input", ir::BaseChain{ir::Hook::input, 0, ir::ChainPolicy::drop}, {}, {}};
    input.rules.push_back(rule({ir::MatchCtState{2 | 4}, accept()}));
    input.rules.push_back(rule({ir::MatchCtState{1}, drop()}));
    input.rules.push_back(rule({ir::MatchInterface{ir::MatchInterface::Dir::in, false, {"lo"}}, accept()}));
    input.rules.push_back(rule({ir::MatchInterface{ir::MatchInterface::Dir::in, true, {"eth0", "eth1"}}, accept()}));
    input.rules.push_back(rule({ir::MatchL4proto{{ir::kProtoIcmp, ir::kProtoIcmpv6}}, ir::CounterStmt{""}, accept()}));
    input.rules.push_back(rule({ir::MatchIcmpType{net::Family::ipv4, {8}}, ir::Limit{10, ir::RateUnit::minute, 5},
                                accept()}));
    input.rules.push_back(rule({ir::MatchIcmpType{net::Family::ipv6, {135, 136}}, accept()}));
    input.rules.push_back(rule({ir::MatchDport{ir::kProtoTcp, {{2222, 2222}}}, accept()}));
    input.rules.push_back(rule({ir::MatchDport{ir::kProtoUdp, {{1434, 1434}, {5000, 5100}}}, accept()}));
    input.rules.push_back(rule({ir::MatchDport{ir::kProtoTcp, {{8000, 8080}}}, accept()}));
    input.rules.push_back(rule({ir::ServiceVmap{"input_svc"}}));
    input.rules.push_back(rule({ir::Limit{5, ir::RateUnit::second, 5}, ir::Log{"nftpolicy drop: "}}));
    ir::Chain output{"output", ir::BaseChain{ir::Hook::output, 0, ir::ChainPolicy::accept}, {}, {}};
    output.rules.push_back(rule({ir::MatchInterface{ir::MatchInterface::Dir::out, true, {"eth1"}},
                                 ir::MatchNfproto{net::Family::ipv6}, drop()}));
    output.rules.push_back(rule({ir::MatchNfproto{net::Family::ipv6},
                                 ir::UpdateSet{net::Family::ipv6, ir::MatchAddrSet::Field::daddr, "seen_m_v6"}}));
    t.chains = {ssh, web, input, output};
    return t;
}

}  // namespace nftpolicy::testing
