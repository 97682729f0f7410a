// resolve_policy as a whole: host selection, policies without hosts (check
// only), disabled flows, projection metadata, and every error of the stage
// reported in one run.
#include <catch2/catch.hpp>

#include "policy_builder.h"
#include "resolve/projection.h"

using namespace nftpolicy;
using namespace nftpolicy::resolve;
using namespace nftpolicy::resolve::testing;
using policy::Phase;
using Ids = std::vector<std::string>;

namespace {

PolicyBuilder two_hosts() {
    PolicyBuilder b;
    b.group("web", {"10.0.0.10"}).group("db", {"10.0.0.20"}).group("lan", {"10.0.0.0/24"});
    b.service("http", {.tcp = {"80"}}).service("pgsql", {.tcp = {"5432"}});
    b.flow({.id = "lan-web", .from = "lan", .to = "web", .services = {"http"}});
    b.flow({.id = "web-db", .from = "web", .to = "db", .services = {"pgsql"}});
    b.host_roles("web1", {"web"}).host_roles("db1", {"db"});
    return b;
}

}  // namespace

TEST_CASE("host selection: --host picks one of several") {
    PolicyBuilder b = two_hosts();
    ResolveOptions options;
    options.host = "db1";
    Diagnostics diags;
    auto p = resolve_policy(b.policy, options, diags);
    REQUIRE(p);
    CHECK(p->host == "db1");
    CHECK(flow_keys(*p) == Ids{"web-db/input"});
    options.host = "web1";
    p = resolve_policy(b.policy, options, diags);
    REQUIRE(p);
    CHECK(flow_keys(*p) == Ids{"lan-web/input"});
}

TEST_CASE("host selection: the only host is the default") {
    PolicyBuilder b;
    b.group("web", {"10.0.0.10"}).service("http", {.tcp = {"80"}});
    b.flow({.id = "any-web", .from = "any", .to = "web", .services = {"http"}});
    b.host_roles("web1", {"web"});
    Diagnostics diags;
    auto p = resolve_policy(b.policy, {}, diags);
    REQUIRE(p);
    CHECK(p->host == "web1");
    CHECK(flow_keys(*p) == Ids{"any-web/input"});
}

TEST_CASE("host selection: several hosts and no --host is an error") {
    PolicyBuilder b = two_hosts();
    Diagnostics diags;
    CHECK_FALSE(resolve_policy(b.policy, {}, diags));
    REQUIRE(diags.error_count() == 1);
    CHECK(render(diags.all()[0]) ==
          "nftpolicy: error: policy declares several hosts (db1, web1); choose one with --host\n");
}

TEST_CASE("host selection: an unknown host gets a suggestion and the list") {
    PolicyBuilder b = two_hosts();
    ResolveOptions options;
    options.host = "web";
    Diagnostics diags;
    CHECK_FALSE(resolve_policy(b.policy, options, diags));
    REQUIRE(diags.error_count() == 1);
    CHECK(render(diags.all()[0]) ==
          "nftpolicy: error: unknown host 'web'; did you mean 'web1'?\n"
          "note: the policy declares hosts 'db1', 'web1'\n");

    PolicyBuilder none;
    Diagnostics diags2;
    CHECK_FALSE(resolve_policy(none.policy, options, diags2));
    REQUIRE(diags2.error_count() == 1);
    CHECK(render(diags2.all()[0]) ==
          "nftpolicy: error: unknown host 'web'\n"
          "note: the policy declares no [hosts] table\n");
}

TEST_CASE("a policy without hosts is checked but projects no flow") {
    PolicyBuilder b;
    b.group("web", {"10.0.0.10"}).service("http", {.tcp = {"80"}});
    b.flow({.id = "any-web", .from = "any", .to = "web", .services = {"http"}});
    b.management("web");
    b.migration("m", {"g"}, Phase::coexist);

    Diagnostics diags;
    auto p = resolve_policy(b.policy, {}, diags);
    REQUIRE(p);
    CHECK(p->host.empty());
    CHECK(p->flows.empty());
    CHECK(p->phases.at("m") == Phase::coexist);

    b.flow({.id = "broken", .from = "webb", .to = "web", .services = {"htp"}});
    CHECK_FALSE(resolve_policy(b.policy, {}, diags));
    CHECK(messages(diags) == Ids{"unknown group 'webb'; did you mean 'web'?",
                                 "unknown service 'htp'; did you mean 'http'?"});
}

TEST_CASE("projection metadata: host, mode, table, baseline, phases, gates") {
    PolicyBuilder b;
    b.group("web", {"10.0.0.10"});
    b.migration("m", {"g1", "g2"}, Phase::coexist, {"g2"});
    b.host_roles("web1", {"web"});
    b.policy.table = "site";
    b.policy.baseline.log_prefix = "drop";
    ResolveOptions options;
    options.flipped_gates = {"m.g1"};
    Diagnostics diags;
    auto p = resolve_policy(b.policy, options, diags);
    REQUIRE(p);
    CHECK(p->host == "web1");
    CHECK(p->mode == policy::HostMode::host);
    CHECK(p->table == "site");
    CHECK(p->baseline.log_prefix == "drop");
    CHECK(p->phases == std::map<std::string, Phase>{{"m", Phase::coexist}});
    CHECK(p->flipped_gates == std::set<std::string>{"m.g1", "m.g2"});
}

TEST_CASE("disabled flows are dropped and not checked") {
    PolicyBuilder b = two_hosts();
    b.flow({.id = "broken", .from = "nowhere", .to = "web", .services = {"http"}});
    b.disable({"broken", "lan-web"});
    ResolveOptions options;
    options.host = "web1";
    Diagnostics diags;
    auto p = resolve_policy(b.policy, options, diags);
    INFO(render_all(diags));
    REQUIRE(p);
    CHECK(p->flows.empty());
}

namespace {

// Two layouts of one service: to a backend that is also a handler, and to
// one that is not. A site usually has only one of them.
PolicyBuilder layouts(const std::vector<std::string>& backends, bool optional) {
    PolicyBuilder b;
    b.group("handler", {"10.20.0.11"}).group("backend", backends);
    b.service("alt", {.tcp = {"8443"}}).service("https", {.tcp = {"443"}});
    b.flow({.id = "colocated", .from = "handler", .to = "backend & handler", .services = {"alt"},
            .optional = optional});
    b.flow({.id = "separate", .from = "handler", .to = "backend - handler",
            .services = {"https"}, .optional = optional});
    b.host_roles("handler1", {"handler"});
    return b;
}

}  // namespace

TEST_CASE("an optional flow with an empty side is left out, with the reason") {
    PolicyBuilder b = layouts({"10.20.0.20"}, true);
    b.policy.baseline.egress = true;
    Diagnostics diags;
    auto p = resolve_policy(b.policy, {}, diags);
    INFO(render_all(diags));
    REQUIRE(p);
    CHECK(flow_keys(*p) == Ids{"separate/output"});
    REQUIRE(p->omitted.size() == 1);
    CHECK(p->omitted[0].id == "colocated");
    CHECK(p->omitted[0].reason == "'backend & handler' resolves to no address");
    CHECK(p->omitted[0].span.where() == "policy.toml:5:1");
}

TEST_CASE("an optional flow whose sides have addresses is kept") {
    PolicyBuilder b = layouts({"10.20.0.11", "10.20.0.20"}, true);
    b.policy.baseline.egress = true;
    Diagnostics diags;
    auto p = resolve_policy(b.policy, {}, diags);
    REQUIRE(p);
    // The handler role alone is not `backend & handler`: no input here.
    CHECK(flow_keys(*p) == Ids{"colocated/output", "separate/output"});
    CHECK(p->omitted.empty());
}

TEST_CASE("an optional flow is still checked: unknown names are errors") {
    PolicyBuilder b = layouts({"10.20.0.20"}, true);
    b.flow({.id = "typo", .from = "handlr", .to = "backend & handler", .services = {"htps"},
            .optional = true});
    Diagnostics diags;
    CHECK_FALSE(resolve_policy(b.policy, {}, diags));
    CHECK(messages(diags) == Ids{"unknown group 'handlr'; did you mean 'handler'?",
                                 "unknown service 'htps'; did you mean 'https'?"});
}

TEST_CASE("a required flow with an empty side: the error says how to disable it") {
    PolicyBuilder b = layouts({"10.20.0.20"}, false);
    Diagnostics diags;
    CHECK_FALSE(resolve_policy(b.policy, {}, diags));
    REQUIRE(diags.error_count() == 1);
    const Diagnostic& d = diags.all()[0];
    CHECK(d.message == "group expression 'backend & handler' resolves to no address");
    REQUIRE(d.notes.size() == 2);
    CHECK(d.notes[1].span.where() == "policy.toml:5:17");
    CHECK(d.notes[1].message ==
          "flow 'colocated' needs it; a site without this traffic disables the flow with "
          "`disabled_flows = [\"colocated\"]`, a profile marks a flow that only some layouts "
          "have `optional = true`");
}

TEST_CASE("disabling an unknown flow id is an error with a suggestion") {
    PolicyBuilder b = two_hosts();
    b.disable({"lan-wbe", "zzz"});
    ResolveOptions options;
    options.host = "web1";
    Diagnostics diags;
    CHECK_FALSE(resolve_policy(b.policy, options, diags));
    CHECK(messages(diags) ==
          Ids{"no flow with id 'lan-wbe'; did you mean 'lan-web'?", "no flow with id 'zzz'"});
    CHECK(diags.all()[0].span.where() == "policy.toml:10:20");
}

TEST_CASE("every error of the stage is reported in one run") {
    PolicyBuilder b;
    b.group("agents", {"10.10.0.0/16"})
        .group("backend", {"10.20.0.20"})
        .group("agent_handler", {"10.20.0.11"})
        .group_expr("loop", "loop2")
        .group_expr("loop2", "loop");
    b.service("https", {.tcp = {"443"}});
    b.migration("ses-2_7", {"backoffice-migrated", "agents-migrated"});
    b.flow({.id = "f1", .from = "agnets", .to = "backend", .services = {"https"}});
    b.flow({.id = "f2", .from = "agents", .to = "backend & agent_handler", .services = {"htps"}});
    b.flow({.id = "f3",
            .from = "agents",
            .to = "loop",
            .services = {"https"},
            .retired_by = "ses-2_7.agents-migratd"});
    b.host_roles("h", {"backend", "sql"});
    b.disable({"f4"});
    ResolveOptions options;
    options.phase_of["ses-28"] = Phase::final_;
    Diagnostics diags;
    CHECK_FALSE(resolve_policy(b.policy, options, diags));
    CHECK(messages(diags) ==
          Ids{
              // options
              "no migration named 'ses-28'; did you mean 'ses-2_7'?",
              // groups, in name order
              "group cycle: loop -> loop2 -> loop",
              // the host
              "role 'sql' of host 'h' is not a defined group",
              // flows, in order
              "no flow with id 'f4'; did you mean 'f1'?",
              "unknown group 'agnets'; did you mean 'agents'?",
              "group expression 'backend & agent_handler' resolves to no address",
              "unknown service 'htps'; did you mean 'https'?",
              "gate 'agents-migratd' is not declared by migration 'ses-2_7'; did you mean "
              "'agents-migrated'?",
          });
}

TEST_CASE("the SES example: colocated backend, coexist phase, two gates") {
    PolicyBuilder b;
    b.group("agents", {"10.10.0.0/16", "fd00:10::/48"})
        .group("agent_handler", {"10.20.0.11", "10.20.0.12"})
        .group("backend", {"10.20.0.11", "10.20.0.20"})
        .group("console", {"10.30.0.0/24"})
        .group("admins", {"10.30.0.0/24"});
    b.service("ses-agent-msrpc", {.tcp = {"17000"}})
        .service("ses-agent-https", {.tcp = {"443"}})
        .service("ses-backend-https", {.tcp = {"443"}})
        .service("ses-backend-alt", {.tcp = {"8443"}});
    b.migration("ses-2_7", {"backoffice-migrated", "agents-migrated"}, Phase::coexist);
    b.flow({.id = "ses-agent-legacy",
            .from = "agents",
            .to = "agent_handler",
            .services = {"ses-agent-msrpc"},
            .retired_by = "ses-2_7.agents-migrated"});
    b.flow({.id = "ses-agent-new",
            .from = "agents",
            .to = "agent_handler",
            .services = {"ses-agent-https"},
            .introduced_by = "ses-2_7"});
    b.flow({.id = "ses-backend-legacy",
            .from = "agent_handler | console",
            .to = "backend",
            .services = {"ses-backend-https"},
            .retired_by = "ses-2_7.backoffice-migrated"});
    b.flow({.id = "ses-backend-colocated-new",
            .from = "agent_handler | console",
            .to = "backend & agent_handler",
            .services = {"ses-backend-alt"},
            .introduced_by = "ses-2_7"});
    b.host_roles("srv11", {"backend", "agent_handler"}).host_roles("srv20", {"backend"});
    b.management("admins");

    ResolveOptions options;
    options.host = "srv11";
    Diagnostics diags;
    auto p = resolve_policy(b.policy, options, diags);
    INFO(render_all(diags));
    REQUIRE(p);
    CHECK(flow_keys(*p) == Ids{"management/input", "ses-agent-legacy/input", "ses-agent-new/input",
                               "ses-backend-legacy/input", "ses-backend-colocated-new/input"});
    const ProjectedFlow* colocated = find_flow(*p, "ses-backend-colocated-new", Direction::input);
    REQUIRE(colocated);
    CHECK(colocated->dst.addrs == addrs({"10.20.0.11"}));
    CHECK(colocated->dst.label == "backend & agent_handler");
    CHECK(colocated->src.addrs == addrs({"10.20.0.11", "10.20.0.12", "10.30.0.0/24"}));

    // The plain backend does not get the colocated port.
    options.host = "srv20";
    p = resolve_policy(b.policy, options, diags);
    REQUIRE(p);
    CHECK(flow_keys(*p) == Ids{"management/input", "ses-backend-legacy/input"});

    // Once the backoffice is migrated, its legacy flow goes.
    options.flipped_gates = {"ses-2_7.backoffice-migrated"};
    p = resolve_policy(b.policy, options, diags);
    REQUIRE(p);
    CHECK(flow_keys(*p) == Ids{"management/input"});
}

TEST_CASE("every host's roles and zones are checked, not only the selected host's") {
    PolicyBuilder b = two_hosts();
    b.group("empty", {});
    b.host_roles("db2", {"dbb"});
    b.host_roles("gw", {"lan"}, policy::HostMode::gateway);
    b.zone({.name = "void", .interfaces = {"eth9"}, .networks = "empty"});
    ResolveOptions options;
    options.host = "web1";
    Diagnostics diags;
    CHECK_FALSE(resolve_policy(b.policy, options, diags));
    CHECK(messages(diags) ==
          Ids{"role 'dbb' of host 'db2' is not a defined group; did you mean 'db'?",
              "group expression 'empty' resolves to no address"});
}
