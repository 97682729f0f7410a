// Projection: input/output per host (egress on and off), matched sides,
// address families, services copied, management first, and gateways with and
// without zones.
#include <catch2/catch.hpp>

#include "policy_builder.h"
#include "resolve/projection.h"

using namespace nftpolicy;
using namespace nftpolicy::resolve;
using namespace nftpolicy::resolve::testing;
using Ids = std::vector<std::string>;

namespace {

PolicyBuilder site() {
    PolicyBuilder b;
    b.group("agents", {"10.10.0.0/16", "fd00:10::/48"})
        .group("agent_handler", {"10.20.0.11", "10.20.0.12"})
        .group("backend", {"10.20.0.11", "10.20.0.20"})
        .group("syslog", {"10.20.0.40"})
        .group("admins", {"10.30.0.0/24", "fd00:30::/64"})
        .group("v6only", {"fd00:99::/64"});
    b.service("ses-agent-https", {.tcp = {"443"}})
        .service("ses-backend-alt", {.tcp = {"8443"}})
        .service("syslog", {.tcp = {"601"}, .udp = {"514"}})
        .service("syslog-udp", {.udp = {"514", "515-516"}})
        .service("ping", {.icmp = {8}, .icmpv6 = {128}});
    return b;
}

Projection resolve_ok(const PolicyBuilder& b, const ResolveOptions& options = {}) {
    Diagnostics diags;
    auto p = resolve_policy(b.policy, options, diags);
    INFO(render_all(diags));
    REQUIRE(p);
    return *p;
}

}  // namespace

TEST_CASE("host mode: a flow to this host becomes input, the source matched") {
    PolicyBuilder b = site();
    b.flow({.id = "agent-https",
            .from = "agents",
            .to = "agent_handler",
            .services = {"ses-agent-https"},
            .comment = "agents reach their handler"});
    b.flow({.id = "to-syslog", .from = "backend", .to = "syslog", .services = {"syslog"}});
    b.host_roles("h11", {"agent_handler", "backend"});
    Projection p = resolve_ok(b);
    CHECK(flow_keys(p) == Ids{"agent-https/input"});
    const ProjectedFlow& f = p.flows[0];
    const policy::Flow& source = b.flow_named("agent-https");
    CHECK(f.src.addrs == addrs({"10.10.0.0/16", "fd00:10::/48"}));
    CHECK(f.src.label == "agents");
    CHECK(f.src.match);
    CHECK(f.src.span.begin == source.from.span.begin);
    CHECK(f.dst.addrs == addrs({"10.20.0.11", "10.20.0.12"}));
    CHECK(f.dst.label == "agent_handler");
    CHECK_FALSE(f.dst.match);
    CHECK(f.dst.span.begin == source.to.span.begin);
    CHECK(f.comment == "agents reach their handler");
    CHECK(f.span.begin == source.span.begin);
    CHECK(f.iifnames.empty());
    CHECK(f.oifnames.empty());
}

TEST_CASE("a source that is everything is not matched") {
    PolicyBuilder b = site();
    b.flow({.id = "web", .from = "any", .to = "backend", .services = {"ses-agent-https"}});
    b.host_roles("h20", {"backend"});
    Projection p = resolve_ok(b);
    REQUIRE(p.flows.size() == 1);
    CHECK_FALSE(p.flows[0].src.match);
    CHECK(p.flows[0].src.label == "any");
}

TEST_CASE("a source full in one family only is still matched") {
    PolicyBuilder b = site();
    b.group("all4", {"0.0.0.0/0"});
    b.flow({.id = "web", .from = "all4", .to = "backend", .services = {"ses-agent-https"}});
    b.host_roles("h20", {"backend"});
    Projection p = resolve_ok(b);
    REQUIRE(p.flows.size() == 1);
    CHECK(p.flows[0].src.match);
    CHECK(p.flows[0].ipv4);
    CHECK_FALSE(p.flows[0].ipv6);
}

TEST_CASE("egress: flows from this host become output only when egress filtering is on") {
    PolicyBuilder b = site();
    b.flow({.id = "to-syslog", .from = "backend", .to = "syslog", .services = {"syslog"}});
    b.flow({.id = "backend-self",
            .from = "backend",
            .to = "backend",
            .services = {"ses-backend-alt"}});
    b.host_roles("h20", {"backend"});

    SECTION("egress off") {
        CHECK(flow_keys(resolve_ok(b)) == Ids{"backend-self/input"});
    }
    SECTION("egress on: a flow can give both input and output") {
        b.egress(true);
        Projection p = resolve_ok(b);
        CHECK(flow_keys(p) == Ids{"to-syslog/output", "backend-self/input", "backend-self/output"});
        const ProjectedFlow* out = find_flow(p, "to-syslog", Direction::output);
        REQUIRE(out);
        CHECK_FALSE(out->src.match);
        CHECK(out->src.label == "backend");
        CHECK(out->dst.match);
        CHECK(out->dst.addrs == addrs({"10.20.0.40"}));
        CHECK(p.baseline.egress);
    }
    SECTION("egress on: a destination that is everything is not matched") {
        b.egress(true);
        b.flow({.id = "updates", .from = "backend", .to = "any", .services = {"ses-agent-https"}});
        Projection p = resolve_ok(b);
        const ProjectedFlow* out = find_flow(p, "updates", Direction::output);
        REQUIRE(out);
        CHECK_FALSE(out->dst.match);
    }
}

TEST_CASE("families: both sides must have a family for the flow to cover it") {
    PolicyBuilder b = site();
    b.flow({.id = "dual", .from = "agents", .to = "admins", .services = {"ping"}});
    b.flow({.id = "v4", .from = "agents", .to = "backend", .services = {"ping"}});
    b.flow({.id = "v6", .from = "agents", .to = "v6only", .services = {"ping"}});
    b.host_roles("h", {"admins", "backend", "v6only"});
    Projection p = resolve_ok(b);
    REQUIRE(p.flows.size() == 3);
    CHECK((p.flows[0].ipv4 && p.flows[0].ipv6));
    CHECK((p.flows[1].ipv4 && !p.flows[1].ipv6));
    CHECK((!p.flows[2].ipv4 && p.flows[2].ipv6));
}

TEST_CASE("a flow whose sides share no family is an error at the flow") {
    PolicyBuilder b = site();
    b.flow({.id = "mismatch", .from = "backend", .to = "v6only", .services = {"ping"}});
    b.flow({.id = "mismatch2", .from = "v6only", .to = "syslog", .services = {"ping"}});
    b.flow({.id = "fine", .from = "v6only", .to = "backend | agents", .services = {"ping"}});
    Diagnostics diags;
    CHECK_FALSE(resolve_policy(b.policy, {}, diags));
    REQUIRE(diags.error_count() == 2);
    std::string line(b.file().line(12));
    CHECK(
        render(diags.all()[0]) ==
        "policy.toml:12:1: error: flow 'mismatch' can match no address family: 'from' is IPv4 only "
        "and 'to' is IPv6 only\n"
        "   12 | " +
            line +
            "\n"
            "      | ^~~~~~~~~\n");
    CHECK(
        diags.all()[1].message ==
        "flow 'mismatch2' can match no address family: 'from' is IPv6 only and 'to' is IPv4 only");
}

TEST_CASE("services: ports and ICMP of every service, in order, exact duplicates dropped") {
    PolicyBuilder b = site();
    b.flow({.id = "logs",
            .from = "backend",
            .to = "syslog",
            .services = {"syslog", "syslog-udp", "ping"}});
    b.host_roles("log", {"syslog"});
    Projection p = resolve_ok(b);
    REQUIRE(p.flows.size() == 1);
    const ProjectedFlow& f = p.flows[0];
    REQUIRE(f.tcp.size() == 1);
    CHECK((f.tcp[0].lo == 601 && f.tcp[0].hi == 601));
    REQUIRE(f.udp.size() == 2);
    CHECK((f.udp[0].lo == 514 && f.udp[0].hi == 514));
    CHECK((f.udp[1].lo == 515 && f.udp[1].hi == 516));
    REQUIRE(f.icmp.size() == 1);
    CHECK(f.icmp[0].type == 8);
    REQUIRE(f.icmpv6.size() == 1);
    CHECK(f.icmpv6[0].type == 128);
}

TEST_CASE("the built-in ssh service is tcp/22 unless the policy defines ssh") {
    PolicyBuilder b = site();
    b.flow({.id = "admin", .from = "admins", .to = "backend", .services = {"ssh"}});
    b.host_roles("h20", {"backend"});
    Projection p = resolve_ok(b);
    REQUIRE(p.flows.size() == 1);
    REQUIRE(p.flows[0].tcp.size() == 1);
    CHECK(p.flows[0].tcp[0].lo == 22);

    b.service("ssh", {.tcp = {"2222"}});
    p = resolve_ok(b);
    REQUIRE(p.flows[0].tcp.size() == 1);
    CHECK(p.flows[0].tcp[0].lo == 2222);
}

TEST_CASE("an unknown service is reported at its name with a suggestion") {
    PolicyBuilder b = site();
    b.flow({.id = "x",
            .from = "agents",
            .to = "backend",
            .services = {"ses-agent-htps", "nothing-like-it"}});
    Diagnostics diags;
    CHECK_FALSE(resolve_policy(b.policy, {}, diags));
    CHECK(messages(diags) ==
          Ids{"unknown service 'ses-agent-htps'; did you mean 'ses-agent-https'?",
              "unknown service 'nothing-like-it'"});
    CHECK(diags.all()[0].span.begin == b.flow_named("x").services[0].span.begin);
    CHECK(diags.all()[1].span.begin == b.flow_named("x").services[1].span.begin);
}

TEST_CASE("management comes first: input from its sources to this host") {
    PolicyBuilder b = site();
    b.flow({.id = "agent-https",
            .from = "agents",
            .to = "agent_handler",
            .services = {"ses-agent-https"}});
    b.host_addresses("h11", {"10.20.0.11"});
    b.management("admins");
    Projection p = resolve_ok(b);
    CHECK(flow_keys(p) == Ids{"management/input", "agent-https/input"});
    const ProjectedFlow& m = p.flows[0];
    CHECK(m.src.addrs == addrs({"10.30.0.0/24", "fd00:30::/64"}));
    CHECK(m.src.label == "admins");
    CHECK(m.src.match);
    CHECK_FALSE(m.dst.match);
    CHECK(m.dst.addrs == addrs({"10.20.0.11"}));
    // The host has only IPv4: management does not open IPv6.
    CHECK(m.ipv4);
    CHECK_FALSE(m.ipv6);
    REQUIRE(m.tcp.size() == 1);  // default: ssh
    CHECK(m.tcp[0].lo == 22);
    CHECK(m.lifecycle == Lifecycle::permanent);
    CHECK(m.span.begin == b.policy.management->span.begin);
}

TEST_CASE("management services are the declared ones when given") {
    PolicyBuilder b = site();
    b.host_roles("h11", {"agent_handler"});
    b.management("admins", {"ssh", "ses-agent-https"});
    Projection p = resolve_ok(b);
    REQUIRE(p.flows.size() == 1);
    REQUIRE(p.flows[0].tcp.size() == 2);
    CHECK(p.flows[0].tcp[0].lo == 22);
    CHECK(p.flows[0].tcp[1].lo == 443);
}

TEST_CASE("management errors: unknown service, empty source, no common family") {
    PolicyBuilder b = site();
    b.group("nobody", {});
    b.host_addresses("h", {"10.20.0.11"});

    SECTION("unknown service") {
        b.management("admins", {"shh"});
        Diagnostics diags;
        CHECK_FALSE(resolve_policy(b.policy, {}, diags));
        CHECK(messages(diags) == Ids{"unknown service 'shh'; did you mean 'ssh'?"});
    }
    SECTION("empty source") {
        b.management("nobody");
        Diagnostics diags;
        CHECK_FALSE(resolve_policy(b.policy, {}, diags));
        CHECK(messages(diags) == Ids{"group expression 'nobody' resolves to no address"});
    }
    SECTION("no family in common with the host") {
        b.management("v6only");
        Diagnostics diags;
        CHECK_FALSE(resolve_policy(b.policy, {}, diags));
        CHECK(messages(diags) ==
              Ids{"management access can match no address family: 'from' is IPv6 only "
                  "and host 'h' is IPv4 only"});
    }
}

// ---- gateways -------------------------------------------------------------

namespace {

PolicyBuilder gateway_site() {
    PolicyBuilder b = site();
    b.group("servers", {"10.20.0.0/24"})
        .group("agent_lan", {"10.10.0.0/16", "fd00:10::/48"})
        .group("gateway", {"10.20.0.1"})
        .group("internet", {"192.0.2.0/24"});
    b.flow({.id = "agent-https",
            .from = "agents",
            .to = "agent_handler",
            .services = {"ses-agent-https"}});
    b.flow({.id = "backend-syslog", .from = "backend", .to = "syslog", .services = {"syslog"}});
    b.flow({.id = "admin-gw", .from = "admins", .to = "gateway", .services = {"ssh"}});
    return b;
}

}  // namespace

TEST_CASE("gateway with zones: crossing flows become forward flows on the zones' interfaces") {
    PolicyBuilder b = gateway_site();
    b.flow({.id = "anyone-https",
            .from = "any",
            .to = "agent_handler",
            .services = {"ses-agent-https"}});
    b.host_addresses("gw", {"10.20.0.1"}, policy::HostMode::gateway);
    b.zone({.name = "servers", .interfaces = {"eth1"}, .networks = "servers"});
    b.zone({.name = "agents", .interfaces = {"eth0", "eth0.10"}, .networks = "agent_lan"});
    b.zone({.name = "admins", .interfaces = {"eth2"}, .networks = "admins"});
    Projection p = resolve_ok(b);
    CHECK(p.mode == policy::HostMode::gateway);
    // backend -> syslog stays inside the servers zone: not forwarded here.
    CHECK(flow_keys(p) ==
          Ids{"agent-https/forward", "admin-gw/input", "admin-gw/forward", "anyone-https/forward"});

    const ProjectedFlow* f = find_flow(p, "agent-https", Direction::forward);
    REQUIRE(f);
    CHECK(f->iifnames == Ids{"eth0", "eth0.10"});
    CHECK(f->oifnames == Ids{"eth1"});
    CHECK(f->src.match);
    CHECK(f->dst.match);
    CHECK(f->ipv4);
    CHECK_FALSE(f->ipv6);

    // `any` touches every zone; it is not matched but its zones' interfaces
    // are: every zone but the handler's own (eth1 -> eth1 would be a hairpin).
    const ProjectedFlow* anyone = find_flow(p, "anyone-https", Direction::forward);
    REQUIRE(anyone);
    CHECK_FALSE(anyone->src.match);
    CHECK(anyone->dst.match);
    CHECK(anyone->iifnames == Ids{"eth0", "eth0.10", "eth2"});
    CHECK(anyone->oifnames == Ids{"eth1"});

    // A gateway is a host for its own input.
    const ProjectedFlow* in = find_flow(p, "admin-gw", Direction::input);
    REQUIRE(in);
    CHECK(in->iifnames.empty());
    CHECK(in->src.match);
    CHECK_FALSE(in->dst.match);
}

TEST_CASE("gateway: a flow between two zones both ways is two paths, never a hairpin") {
    PolicyBuilder b = gateway_site();
    b.flow({.id = "mesh", .from = "agents | servers", .to = "agents | servers",
            .services = {"ssh"}});
    b.host_addresses("gw", {"10.20.0.1"}, policy::HostMode::gateway);
    b.zone({.name = "servers", .interfaces = {"eth1"}, .networks = "servers"});
    b.zone({.name = "agents", .interfaces = {"eth0"}, .networks = "agent_lan"});
    Projection p = resolve_ok(b);
    std::vector<std::pair<Ids, Ids>> paths;
    for (const auto& f : p.flows) {
        if (f.id == "mesh" && f.direction == Direction::forward) {
            paths.emplace_back(f.iifnames, f.oifnames);
        }
    }
    // agents -> servers and servers -> agents; not eth0 -> eth0 nor eth1 -> eth1.
    CHECK(paths == std::vector<std::pair<Ids, Ids>>{{{"eth0"}, {"eth1"}}, {{"eth1"}, {"eth0"}}});
}

TEST_CASE("gateway: a flow touching no zone on one side does not cross") {
    PolicyBuilder b = gateway_site();
    b.flow(
        {.id = "to-internet", .from = "agents", .to = "internet", .services = {"ses-agent-https"}});
    b.host_roles("gw", {"gateway"}, policy::HostMode::gateway);
    b.zone({.name = "servers", .interfaces = {"eth1"}, .networks = "servers"});
    b.zone({.name = "agents", .interfaces = {"eth0"}, .networks = "agent_lan"});
    Projection p = resolve_ok(b);
    CHECK(flow_keys(p) == Ids{"agent-https/forward", "admin-gw/input"});
}

TEST_CASE("gateway: a zone without networks covers what the other zones do not") {
    PolicyBuilder b = gateway_site();
    b.flow(
        {.id = "to-internet", .from = "agents", .to = "internet", .services = {"ses-agent-https"}});
    b.host_roles("gw", {"gateway"}, policy::HostMode::gateway);
    b.zone({.name = "servers", .interfaces = {"eth1"}, .networks = "servers"});
    b.zone({.name = "agents", .interfaces = {"eth0"}, .networks = "agent_lan"});
    b.zone({.name = "wan", .interfaces = {"ppp0"}});
    Projection p = resolve_ok(b);
    CHECK(flow_keys(p) ==
          Ids{"agent-https/forward", "admin-gw/input", "admin-gw/forward", "to-internet/forward"});
    const ProjectedFlow* f = find_flow(p, "to-internet", Direction::forward);
    REQUIRE(f);
    CHECK(f->iifnames == Ids{"eth0"});
    CHECK(f->oifnames == Ids{"ppp0"});
    // admins live in no declared zone: they come from the wan side.
    const ProjectedFlow* admin = find_flow(p, "admin-gw", Direction::forward);
    REQUIRE(admin);
    CHECK(admin->iifnames == Ids{"ppp0"});
    CHECK(admin->oifnames == Ids{"eth1"});
}

TEST_CASE("gateway without zones: every active flow is forwarded on any interface") {
    PolicyBuilder b = gateway_site();
    b.host_roles("gw", {"gateway"}, policy::HostMode::gateway);
    Projection p = resolve_ok(b);
    CHECK(flow_keys(p) == Ids{"agent-https/forward", "backend-syslog/forward", "admin-gw/input",
                              "admin-gw/forward"});
    for (const auto& f : p.flows) {
        CHECK(f.iifnames.empty());
        CHECK(f.oifnames.empty());
    }
    const ProjectedFlow* f = find_flow(p, "backend-syslog", Direction::forward);
    REQUIRE(f);
    CHECK(f->src.match);
    CHECK(f->dst.match);
    CHECK(f->src.addrs == addrs({"10.20.0.11", "10.20.0.20"}));
}

TEST_CASE("gateway with egress: flows from the gateway itself become output") {
    PolicyBuilder b = gateway_site();
    b.flow({.id = "gw-logs", .from = "gateway", .to = "syslog", .services = {"syslog"}});
    b.host_roles("gw", {"gateway"}, policy::HostMode::gateway);
    b.egress(true);
    Projection p = resolve_ok(b);
    CHECK(find_flow(p, "gw-logs", Direction::output) != nullptr);
    CHECK(find_flow(p, "gw-logs", Direction::input) == nullptr);
}

TEST_CASE("zone networks that resolve to no address are an error") {
    PolicyBuilder b = gateway_site();
    b.group("dmz", {});
    b.host_roles("gw", {"gateway"}, policy::HostMode::gateway);
    b.zone({.name = "dmz", .interfaces = {"eth3"}, .networks = "dmz"});
    b.zone({.name = "lab", .interfaces = {"eth4"}, .networks = "lba"});
    Diagnostics diags;
    CHECK_FALSE(resolve_policy(b.policy, {}, diags));
    CHECK(messages(diags) ==
          Ids{"group expression 'dmz' resolves to no address", "unknown group 'lba'"});
}
