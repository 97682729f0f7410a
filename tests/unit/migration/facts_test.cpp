// Migration facts (no kernel): where each phase and gate state comes from,
// which flows a gate retires on this host whatever the current phase, and
// which conntrack entries a completed gate cuts (retired flow, and no flow
// still present accepts it).
#include <catch2/catch.hpp>

#include "migration/facts.h"
#include "migration/flip.h"
#include "policy_builder.h"

using namespace nftpolicy;
using namespace nftpolicy::migration;
using policy::Phase;
using resolve::testing::PolicyBuilder;

namespace {

// Host h plays handler. Gate m.g1 retires `old` (agents -> handler 17000) and
// `elsewhere` (agents -> other host); m.g2 retires `shared` (admins ->
// handler 443), a port that the permanent flow `new` keeps open for agents.
PolicyBuilder site(std::optional<Phase> phase = Phase::coexist, const std::vector<std::string>& flipped = {}) {
    PolicyBuilder b;
    b.group("agents", {"10.10.0.0/16", "fd00:10::/32"})
        .group("admins", {"10.40.0.0/24"})
        .group("handler", {"10.20.0.11", "fd00:20::11"})
        .group("other", {"10.20.0.99"});
    b.service("msrpc", {.tcp = {"17000"}}).service("https", {.tcp = {"443"}});
    b.migration("m", {"g1", "g2"}, phase, flipped);
    b.flow({.id = "old", .from = "agents", .to = "handler", .services = {"msrpc"}, .retired_by = "m.g1"});
    b.flow({.id = "elsewhere", .from = "agents", .to = "other", .services = {"msrpc"}, .retired_by = "m.g1"});
    b.flow({.id = "shared", .from = "admins", .to = "handler", .services = {"https"}, .retired_by = "m.g2"});
    b.flow({.id = "new", .from = "agents | admins", .to = "handler", .services = {"https"}});
    b.host_roles("h", {"handler"});
    return b;
}

SiteFacts facts_of(const policy::Policy& p, const resolve::ResolveOptions& cli, const state::SiteState& st = {}) {
    Diagnostics diags;
    auto facts = gather_facts(p, cli, st, diags);
    REQUIRE(facts);
    REQUIRE_FALSE(diags.has_errors());
    return std::move(*facts);
}

kernel::ConnTuple tcp4(const char* src, std::uint16_t dport) {
    auto a = net::parse_address(src);
    auto d = net::parse_address("10.20.0.11");
    return kernel::ConnTuple{net::Family::ipv4, a->range.lo, d->range.lo, 6, 40000, dport};
}

}  // namespace

TEST_CASE("facts: the flows a gate retires on this host, in any phase") {
    for (Phase phase : {Phase::legacy, Phase::coexist, Phase::final_}) {
        PolicyBuilder b = site(phase);
        SiteFacts f = facts_of(b.policy, {});
        REQUIRE(f.migrations.size() == 1);
        CHECK(f.migrations[0].phase == phase);
        const GateFacts* g1 = f.find_gate("m.g1");
        REQUIRE(g1 != nullptr);
        CHECK(g1->flow_ids() == std::vector<std::string>{"old"});  // `elsewhere` is not on this host
        CHECK(f.find_gate("m.g2")->flow_ids() == std::vector<std::string>{"shared"});
        CHECK(f.find_gate("m.g3") == nullptr);
    }
}

TEST_CASE("facts: where the phase and each gate state come from") {
    PolicyBuilder b = site(Phase::coexist, {"g1"});
    SiteFacts from_policy = facts_of(b.policy, {});
    CHECK(from_policy.migrations[0].phase_from == Source::policy);
    CHECK(from_policy.find_gate("m.g1")->flipped);
    CHECK(from_policy.find_gate("m.g1")->flipped_from == Source::policy);
    CHECK_FALSE(from_policy.find_gate("m.g2")->flipped);
    CHECK(from_policy.find_gate("m.g2")->flipped_from == Source::default_);

    state::SiteState st;
    st.phases["m"] = state::PhaseEntry{Phase::legacy, 5};
    st.gates["m.g1"] = state::GateEntry{false, 6};
    SiteFacts from_state = facts_of(b.policy, {}, st);
    CHECK(from_state.migrations[0].phase == Phase::legacy);
    CHECK(from_state.migrations[0].phase_from == Source::state);
    CHECK_FALSE(from_state.find_gate("m.g1")->flipped);
    CHECK(from_state.find_gate("m.g1")->flipped_from == Source::state);
    CHECK(from_state.find_gate("m.g1")->since == 6);

    resolve::ResolveOptions cli;
    cli.phase = Phase::final_;
    cli.flipped_gates = {"m.g2"};
    SiteFacts from_cli = facts_of(b.policy, cli, st);
    CHECK(from_cli.migrations[0].phase_from == Source::command_line);
    CHECK(from_cli.find_gate("m.g2")->flipped_from == Source::command_line);

    PolicyBuilder bare = site(std::nullopt);
    CHECK(facts_of(bare.policy, {}).migrations[0].phase_from == Source::default_);
    CHECK(facts_of(bare.policy, {}).migrations[0].phase == Phase::legacy);
}

TEST_CASE("facts: the quiet_for window comes from the migration") {
    PolicyBuilder b = site();
    CHECK(facts_of(b.policy, {}).migrations[0].quiet_for == policy::kDefaultQuietFor);
    b.policy.migrations["m"].quiet_for = 3;
    CHECK(facts_of(b.policy, {}).migrations[0].quiet_for == 3);
}

TEST_CASE("cut: exactly the connections a retired flow accepted and nothing still present accepts") {
    PolicyBuilder b = site();
    SiteFacts f = facts_of(b.policy, {});
    resolve::ResolveOptions after_options;
    after_options.flipped_gates = {"m.g1", "m.g2"};
    Diagnostics diags;
    auto after = resolve::resolve_policy(b.policy, after_options, diags);
    REQUIRE(after);

    auto cut_g1 = retired_connections(*f.find_gate("m.g1"), *after);
    CHECK(cut_g1(tcp4("10.10.3.4", 17000)));        // an agent on the retired port
    CHECK_FALSE(cut_g1(tcp4("10.30.0.7", 17000)));  // not from the flow's group
    CHECK_FALSE(cut_g1(tcp4("10.10.3.4", 443)));    // another port
    CHECK_FALSE(cut_g1(tcp4("10.10.3.4", 17001)));
    kernel::ConnTuple udp = tcp4("10.10.3.4", 17000);
    udp.proto = 17;
    CHECK_FALSE(cut_g1(udp));  // the flow is TCP only
    auto v6 = net::parse_address("fd00:10::5");
    auto h6 = net::parse_address("fd00:20::11");
    CHECK(cut_g1(kernel::ConnTuple{net::Family::ipv6, v6->range.lo, h6->range.lo, 6, 40000, 17000}));

    // Admins on 443 lose `shared`, but `new` still accepts them: not cut.
    auto cut_g2 = retired_connections(*f.find_gate("m.g2"), *after);
    CHECK_FALSE(cut_g2(tcp4("10.40.0.9", 443)));
}

TEST_CASE("facts: flows the migration itself retires are listed under its phase final") {
    for (Phase phase : {Phase::legacy, Phase::coexist, Phase::final_}) {
        PolicyBuilder b = site(phase);
        b.service("telnet", {.tcp = {"23"}});
        b.flow({.id = "whole", .from = "admins", .to = "handler", .services = {"telnet"}, .retired_by = "m"});
        SiteFacts f = facts_of(b.policy, {});
        const auto& gates = f.migrations.at(0).gates;
        REQUIRE(gates.size() == 3);  // g1, g2, then the phase final
        const GateFacts& final_ = gates.back();
        CHECK(final_.final_phase);
        CHECK(final_.ref == "m");
        CHECK(final_.name == "final");
        CHECK(final_.flow_ids() == std::vector<std::string>{"whole"});
        CHECK(final_.flipped == (phase == Phase::final_));
        CHECK(f.find_gate("m") == nullptr);  // complete/reopen never find it
        CHECK(f.find_gate("m.g1") != nullptr);
    }
}

TEST_CASE("facts: no phase final entry when the migration retires nothing itself") {
    PolicyBuilder b = site(Phase::coexist);
    SiteFacts f = facts_of(b.policy, {});
    for (const auto& g : f.migrations.at(0).gates) CHECK_FALSE(g.final_phase);
}
