// Phases and gates: effective phase precedence, flipped gates from the policy
// and the options, gate reference checks, and which flows are active in each
// phase for the SES 2.7.1 migration (two gates).
#include <catch2/catch.hpp>

#include <algorithm>

#include "policy_builder.h"
#include "resolve/projection.h"

using namespace nftpolicy;
using namespace nftpolicy::resolve;
using namespace nftpolicy::resolve::testing;
using policy::Phase;

namespace {

constexpr const char* kBackoffice = "ses-2_7.backoffice-migrated";
constexpr const char* kAgents = "ses-2_7.agents-migrated";

// Every flow goes to `servers`, which the host plays: a flow is projected
// (once, as input) exactly when it is active.
PolicyBuilder ses_site(std::optional<Phase> policy_phase = std::nullopt) {
    PolicyBuilder b;
    b.group("agents", {"10.10.0.0/16"}).group("servers", {"10.20.0.0/24"});
    b.service("ses-agent-msrpc", {.tcp = {"17000"}})
        .service("ses-agent-https", {.tcp = {"443"}})
        .service("ses-backend-https", {.tcp = {"443"}})
        .service("ses-backend-alt", {.tcp = {"8443"}})
        .service("syslog", {.udp = {"514"}});
    b.migration("ses-2_7", {"backoffice-migrated", "agents-migrated"}, policy_phase);
    b.flow({.id = "agent-legacy",
            .from = "agents",
            .to = "servers",
            .services = {"ses-agent-msrpc"},
            .retired_by = kAgents});
    b.flow({.id = "backend-legacy",
            .from = "servers",
            .to = "servers",
            .services = {"ses-backend-https"},
            .retired_by = kBackoffice});
    b.flow({.id = "whole-legacy",
            .from = "agents",
            .to = "servers",
            .services = {"ses-agent-msrpc"},
            .retired_by = "ses-2_7"});
    b.flow({.id = "agent-new",
            .from = "agents",
            .to = "servers",
            .services = {"ses-agent-https"},
            .introduced_by = "ses-2_7"});
    b.flow({.id = "backend-alt-new",
            .from = "servers",
            .to = "servers",
            .services = {"ses-backend-alt"},
            .introduced_by = kBackoffice});
    b.flow({.id = "syslog", .from = "servers", .to = "servers", .services = {"syslog"}});
    b.host_roles("srv", {"servers"});
    return b;
}

std::vector<std::string> active_ids(const Projection& p) {
    std::vector<std::string> ids;
    for (const auto& f : p.flows) ids.push_back(f.id);
    return ids;
}

using Ids = std::vector<std::string>;

}  // namespace

TEST_CASE("phases x gates: which SES flows are active") {
    struct Row {
        Phase phase;
        std::set<std::string> flipped;
        Ids active;
    };
    // clang-format off
    const std::vector<Row> table{
        {Phase::legacy,  {},                    {"agent-legacy", "backend-legacy", "whole-legacy", "syslog"}},
        {Phase::legacy,  {kBackoffice, kAgents}, {"agent-legacy", "backend-legacy", "whole-legacy", "syslog"}},
        {Phase::coexist, {},                    {"agent-legacy", "backend-legacy", "whole-legacy", "agent-new", "syslog"}},
        {Phase::coexist, {kBackoffice},         {"agent-legacy", "whole-legacy", "agent-new", "backend-alt-new", "syslog"}},
        {Phase::coexist, {kAgents},             {"backend-legacy", "whole-legacy", "agent-new", "syslog"}},
        {Phase::coexist, {kBackoffice, kAgents}, {"whole-legacy", "agent-new", "backend-alt-new", "syslog"}},
        {Phase::final_,  {},                    {"agent-new", "backend-alt-new", "syslog"}},
        {Phase::final_,  {kBackoffice, kAgents}, {"agent-new", "backend-alt-new", "syslog"}},
    };
    // clang-format on
    for (const auto& row : table) {
        PolicyBuilder b = ses_site();
        ResolveOptions options;
        options.phase = row.phase;
        options.flipped_gates = row.flipped;
        Diagnostics diags;
        auto p = resolve_policy(b.policy, options, diags);
        INFO("phase " << static_cast<int>(row.phase) << ", " << row.flipped.size()
                      << " gate(s) flipped");
        REQUIRE(p);
        CHECK(active_ids(*p) == row.active);
        CHECK(p->flipped_gates == row.flipped);
    }
}

TEST_CASE("effective phase: per-migration option, then --phase, then the policy, then legacy") {
    PolicyBuilder b = ses_site(Phase::coexist);
    b.migration("other", {}).migration("third", {}, Phase::final_);
    ResolveOptions options;
    Diagnostics diags;

    auto p = resolve_policy(b.policy, options, diags);
    REQUIRE(p);
    CHECK(p->phases == std::map<std::string, Phase>{{"ses-2_7", Phase::coexist},
                                                    {"other", Phase::legacy},
                                                    {"third", Phase::final_}});

    options.phase = Phase::final_;
    p = resolve_policy(b.policy, options, diags);
    REQUIRE(p);
    CHECK(p->phases.at("ses-2_7") == Phase::final_);
    CHECK(p->phases.at("other") == Phase::final_);

    options.phase_of["ses-2_7"] = Phase::legacy;
    p = resolve_policy(b.policy, options, diags);
    REQUIRE(p);
    CHECK(p->phases.at("ses-2_7") == Phase::legacy);
    CHECK(p->phases.at("other") == Phase::final_);
    CHECK(active_ids(*p) == Ids{"agent-legacy", "backend-legacy", "whole-legacy", "syslog"});
}

TEST_CASE("gates flipped in the policy and in the options add up") {
    PolicyBuilder b;
    b.group("servers", {"10.20.0.0/24"});
    b.migration("ses-2_7", {"backoffice-migrated", "agents-migrated"}, Phase::coexist,
                {"backoffice-migrated"});
    b.host_roles("srv", {"servers"});
    ResolveOptions options;
    options.flipped_gates = {kAgents};
    Diagnostics diags;
    auto p = resolve_policy(b.policy, options, diags);
    REQUIRE(p);
    CHECK(p->flipped_gates == std::set<std::string>{kBackoffice, kAgents});
}

TEST_CASE("legacy flows carry the gate that retires them; introduced flows are tagged") {
    PolicyBuilder b = ses_site(Phase::coexist);
    policy::SeenSettings& seen = b.policy.migrations.at("ses-2_7").seen;
    seen.timeout = 3600;
    seen.size = 128;
    Diagnostics diags;
    auto p = resolve_policy(b.policy, {}, diags);
    REQUIRE(p);
    const auto* legacy = find_flow(*p, "agent-legacy", Direction::input);
    REQUIRE(legacy);
    CHECK(legacy->lifecycle == Lifecycle::legacy);
    CHECK(legacy->gate == kAgents);
    CHECK(legacy->seen.timeout == 3600);  // the migration's seen settings go with it
    CHECK(legacy->seen.size == 128);
    const auto* whole = find_flow(*p, "whole-legacy", Direction::input);
    REQUIRE(whole);
    CHECK(whole->lifecycle == Lifecycle::legacy);
    CHECK(whole->gate == "ses-2_7");
    const auto* introduced = find_flow(*p, "agent-new", Direction::input);
    REQUIRE(introduced);
    CHECK(introduced->lifecycle == Lifecycle::introduced);
    CHECK(introduced->gate.empty());
    const auto* permanent = find_flow(*p, "syslog", Direction::input);
    REQUIRE(permanent);
    CHECK(permanent->lifecycle == Lifecycle::permanent);
}

TEST_CASE("option errors: unknown migration, unknown gate, malformed gate") {
    PolicyBuilder b = ses_site();
    ResolveOptions options;
    options.phase_of["ses-27"] = Phase::final_;
    options.flipped_gates = {"ses-2_7.agents-migratd", "nogate", "sse-2_7.agents-migrated"};
    Diagnostics diags;
    CHECK_FALSE(resolve_policy(b.policy, options, diags));
    CHECK(messages(diags) == Ids{"no migration named 'ses-27'; did you mean 'ses-2_7'?",
                                 "flipped gate 'nogate' is not of the form 'migration.gate'",
                                 "gate 'agents-migratd' is not declared by migration 'ses-2_7'; "
                                 "did you mean 'agents-migrated'?",
                                 "no migration named 'sse-2_7'; did you mean 'ses-2_7'?"});
    for (const auto& d : diags.all()) CHECK_FALSE(d.span.valid());
}

TEST_CASE("a flipped gate in the policy must be one of the migration's gates") {
    PolicyBuilder b;
    b.migration("ses-2_7", {"backoffice-migrated", "agents-migrated"}, Phase::coexist,
                {"agents-migrated", "backofice-migrated"});
    Diagnostics diags;
    CHECK_FALSE(resolve_policy(b.policy, {}, diags));
    REQUIRE(diags.error_count() == 1);
    std::string line(b.file().line(1));
    auto column = line.find("backofice") + 1;
    CHECK(column > 100);
    CHECK(render(diags.all()[0]) ==
          "policy.toml:1:" + std::to_string(column) +
              ": error: gate 'backofice-migrated' is not declared by migration 'ses-2_7'; "
              "did you mean 'backoffice-migrated'?\n"
              "    1 | " +
              line +
              "\n"
              "      | " +
              std::string(column - 1, ' ') + "^~~~~~~~~~~~~~~~~~\n");
}

TEST_CASE("retired_by and introduced_by must name declared migrations and gates") {
    PolicyBuilder b;
    b.group("servers", {"10.20.0.0/24"}).service("s", {.tcp = {"1"}});
    b.migration("ses-2_7", {"backoffice-migrated", "agents-migrated"});
    b.flow({.id = "bad-gate",
            .from = "servers",
            .to = "servers",
            .services = {"s"},
            .retired_by = "ses-2_7.agents-migratd"});
    b.flow({.id = "bad-migration",
            .from = "servers",
            .to = "servers",
            .services = {"s"},
            .introduced_by = "x"});
    b.flow({.id = "both",
            .from = "servers",
            .to = "servers",
            .services = {"s"},
            .retired_by = "ses-2_7",
            .introduced_by = "ses-2_7"});
    Diagnostics diags;
    CHECK_FALSE(resolve_policy(b.policy, {}, diags));
    CHECK(messages(diags) ==
          Ids{"gate 'agents-migratd' is not declared by migration 'ses-2_7'; did you mean "
              "'agents-migrated'?",
              "no migration named 'x'",
              "flow 'both' has both 'retired_by' and 'introduced_by'; expected at most one"});
    REQUIRE(diags.all().size() == 3);
    CHECK(diags.all()[0].span.begin == b.flow_named("bad-gate").retired_by->span.begin);
    CHECK(diags.all()[1].span.begin == b.flow_named("bad-migration").introduced_by->span.begin);
    CHECK(diags.all()[2].span.begin == b.flow_named("both").span.begin);
}

TEST_CASE("flows are checked whatever the phase: an inactive flow's errors are reported") {
    PolicyBuilder b = ses_site();
    b.flow({.id = "old",
            .from = "agnets",
            .to = "servers",
            .services = {"ses-agent-msrpc"},
            .retired_by = kAgents});
    ResolveOptions options;
    options.phase = Phase::final_;
    Diagnostics diags;
    CHECK_FALSE(resolve_policy(b.policy, options, diags));
    CHECK(messages(diags) == Ids{"unknown group 'agnets'; did you mean 'agents'?"});
}
