// The reachability matrix (no kernel): nodes split at unions, exact cells
// per phase and gate, the steps of a migration with what each adds and
// removes, the host filter, and optional flows left out.
#include <catch2/catch.hpp>

#include "matrix/matrix.h"
#include "policy_builder.h"

using namespace nftpolicy;
using namespace nftpolicy::matrix;
using policy::Phase;
using resolve::testing::PolicyBuilder;

namespace {

// agents -> handler: msrpc (legacy until m.agents), https (new since m);
// handler | console -> backend: old443 (legacy until m.backoffice), alt
// 8443 (new once m.backoffice flips); backend -> sql (permanent);
// console -> "backend & handler" optional, empty here.
PolicyBuilder site(std::optional<Phase> phase, const std::vector<std::string>& flipped = {}) {
    PolicyBuilder b;
    b.group("agents", {"10.10.0.0/16", "fd00:10::/48"})
        .group("handler", {"10.20.0.11"})
        .group("console", {"10.30.0.5"})
        .group("backend", {"10.20.0.20"})
        .group("sql", {"10.20.0.30"});
    b.service("msrpc", {.tcp = {"17000"}})
        .service("https", {.tcp = {"443"}})
        .service("alt", {.tcp = {"8443"}})
        .service("sql", {.tcp = {"1433"}, .udp = {"1434"}});
    b.migration("m", {"backoffice", "agents"}, phase, flipped);
    b.flow({.id = "msrpc",
            .from = "agents",
            .to = "handler",
            .services = {"msrpc"},
            .retired_by = "m.agents"});
    b.flow({.id = "agent-https",
            .from = "agents",
            .to = "handler",
            .services = {"https"},
            .introduced_by = "m"});
    b.flow({.id = "old443",
            .from = "handler | console",
            .to = "backend",
            .services = {"https"},
            .retired_by = "m.backoffice"});
    b.flow({.id = "alt",
            .from = "handler | console",
            .to = "backend",
            .services = {"alt"},
            .introduced_by = "m.backoffice"});
    b.flow({.id = "sql", .from = "backend", .to = "sql", .services = {"sql"}});
    b.flow({.id = "colocated",
            .from = "console",
            .to = "backend & handler",
            .services = {"alt"},
            .optional = true});
    b.host_roles("h1", {"handler"}).host_roles("b1", {"backend"});
    return b;
}

Matrix matrix_of(const policy::Policy& p, const resolve::ResolveOptions& options = {}) {
    Diagnostics diags;
    auto m = site_matrix(p, options, diags);
    INFO(render_all(diags));
    REQUIRE(m);
    REQUIRE_FALSE(diags.has_errors());
    return std::move(*m);
}

std::vector<std::string> node_names(const Matrix& m) {
    std::vector<std::string> out;
    for (const auto& n : m.nodes) out.push_back(n.name);
    return out;
}

// "from -> to: flow/status" for every cell entry, in order.
std::vector<std::string> cells(const Matrix& m) {
    std::vector<std::string> out;
    for (const auto& c : m.cells) {
        for (const auto& e : c.entries) {
            out.push_back(m.nodes[c.from].name + " -> " + m.nodes[c.to].name + ": " + e.flow + "/" +
                          status_name(e.status));
        }
    }
    return out;
}

std::vector<std::string> changes(const Matrix& m, const std::vector<Change>& list) {
    std::vector<std::string> out;
    for (const auto& c : list)
        out.push_back(m.nodes[c.from].name + " -> " + m.nodes[c.to].name + ": " + c.entry.flow);
    return out;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("matrix: nodes in first use order, unions split into their operands") {
    PolicyBuilder b = site(Phase::coexist);
    Matrix m = matrix_of(b.policy);
    CHECK(node_names(m) == Strings{"agents", "handler", "console", "backend", "sql"});
    CHECK(m.host.empty());
    REQUIRE(m.omitted.size() == 1);
    CHECK(m.omitted[0].id == "colocated");
}

TEST_CASE("matrix: exact cells in each phase and gate state") {
    SECTION("legacy: the old ports only") {
        PolicyBuilder b = site(Phase::legacy);
        CHECK(cells(matrix_of(b.policy)) == Strings{
                                                "agents -> handler: msrpc/legacy",
                                                "handler -> backend: old443/legacy",
                                                "console -> backend: old443/legacy",
                                                "backend -> sql: sql/permanent",
                                            });
    }
    SECTION("coexist, no gate flipped: old and new where the migration brings them") {
        PolicyBuilder b = site(Phase::coexist);
        CHECK(cells(matrix_of(b.policy)) == Strings{
                                                "agents -> handler: msrpc/legacy",
                                                "agents -> handler: agent-https/introduced",
                                                "handler -> backend: old443/legacy",
                                                "console -> backend: old443/legacy",
                                                "backend -> sql: sql/permanent",
                                            });
    }
    SECTION("coexist, backoffice flipped: 443 to the backend replaced by 8443") {
        PolicyBuilder b = site(Phase::coexist, {"backoffice"});
        CHECK(cells(matrix_of(b.policy)) == Strings{
                                                "agents -> handler: msrpc/legacy",
                                                "agents -> handler: agent-https/introduced",
                                                "handler -> backend: alt/introduced",
                                                "console -> backend: alt/introduced",
                                                "backend -> sql: sql/permanent",
                                            });
    }
    SECTION("final: the new ports only, whatever the gates") {
        PolicyBuilder b = site(Phase::final_);
        CHECK(cells(matrix_of(b.policy)) == Strings{
                                                "agents -> handler: agent-https/introduced",
                                                "handler -> backend: alt/introduced",
                                                "console -> backend: alt/introduced",
                                                "backend -> sql: sql/permanent",
                                            });
    }
    SECTION("options win over the policy: --phase legacy") {
        PolicyBuilder b = site(Phase::final_);
        resolve::ResolveOptions options;
        options.phase = Phase::legacy;
        CHECK(cells(matrix_of(b.policy, options)).size() == 4);
    }
}

TEST_CASE("matrix: each step of a migration says what it adds and removes") {
    PolicyBuilder b = site(Phase::coexist, {"backoffice"});
    Matrix m = matrix_of(b.policy);
    REQUIRE(m.migrations.size() == 1);
    const auto& steps = m.migrations[0].steps;
    REQUIRE(steps.size() == 4);
    CHECK(steps[0].kind == StepKind::coexist);
    CHECK(steps[0].done);
    CHECK(changes(m, steps[0].added) == Strings{"agents -> handler: agent-https"});
    CHECK(steps[0].removed.empty());
    CHECK(steps[1].gate == "m.backoffice");
    CHECK(steps[1].done);
    CHECK(changes(m, steps[1].removed) ==
          Strings{"handler -> backend: old443", "console -> backend: old443"});
    CHECK(changes(m, steps[1].added) ==
          Strings{"handler -> backend: alt", "console -> backend: alt"});
    CHECK(steps[2].gate == "m.agents");
    CHECK_FALSE(steps[2].done);
    CHECK(changes(m, steps[2].removed) == Strings{"agents -> handler: msrpc"});
    CHECK(steps[2].added.empty());
    CHECK(steps[3].kind == StepKind::final_);
    CHECK_FALSE(steps[3].done);
    CHECK(steps[3].removed.empty());  // nothing is retired by the whole migration
}

TEST_CASE("matrix: in phase legacy no step is done, in final every one is") {
    PolicyBuilder legacy = site(Phase::legacy, {"backoffice"});
    const Matrix in_legacy = matrix_of(legacy.policy);  // a range-for over a temporary's member dangles
    for (const auto& step : in_legacy.migrations[0].steps) CHECK_FALSE(step.done);
    PolicyBuilder final_ = site(Phase::final_);
    const Matrix in_final = matrix_of(final_.policy);
    for (const auto& step : in_final.migrations[0].steps) CHECK(step.done);
}

TEST_CASE("matrix: a service's ports and the flow's families reach the cell") {
    PolicyBuilder b = site(Phase::coexist);
    Matrix m = matrix_of(b.policy);
    const Cell& sql = m.cells.back();
    CHECK(m.nodes[sql.from].name == "backend");
    REQUIRE(sql.entries.size() == 1);
    CHECK(sql.entries[0].service.tcp.at(0).lo == 1433);
    CHECK(sql.entries[0].service.udp.at(0).lo == 1434);
    CHECK(sql.entries[0].ipv4);
    CHECK_FALSE(sql.entries[0].ipv6);  // backend and sql have IPv4 only
    const Cell& agents = m.cells.front();
    CHECK(agents.entries[0].ipv4);
    CHECK_FALSE(agents.entries[0].ipv6);  // the handler has no IPv6 address
}

TEST_CASE("matrix: --host keeps only what the host enforces, steps included") {
    PolicyBuilder b = site(Phase::coexist);
    b.management("console");
    resolve::ResolveOptions options;
    options.host = "b1";
    Matrix m = matrix_of(b.policy, options);
    CHECK(m.host == "b1");
    CHECK(node_names(m) == Strings{"handler", "console", "backend", kEveryHost});
    CHECK(cells(m) == Strings{
                          "handler -> backend: old443/legacy",
                          "console -> backend: old443/legacy",
                          "console -> (every host): management/permanent",
                      });
    CHECK(m.migrations[0].steps[0].added.empty());  // agents -> handler is not b1's
    CHECK(changes(m, m.migrations[0].steps[1].added).size() == 2);
}

TEST_CASE("matrix: the management access goes to every host, its nodes last") {
    PolicyBuilder b = site(Phase::legacy);
    b.management("console");
    Matrix m = matrix_of(b.policy);
    CHECK(node_names(m).back() == kEveryHost);
    // Cells are in (from, to) node order: console's row comes before backend's.
    CHECK(cells(m) == Strings{
                          "agents -> handler: msrpc/legacy",
                          "handler -> backend: old443/legacy",
                          "console -> backend: old443/legacy",
                          "console -> (every host): management/permanent",
                          "backend -> sql: sql/permanent",
                      });
}

TEST_CASE("matrix: disabled flows are not in it; errors stop it") {
    PolicyBuilder b = site(Phase::coexist);
    b.disable({"sql"});
    Matrix m = matrix_of(b.policy);
    CHECK(node_names(m) == Strings{"agents", "handler", "console", "backend"});

    PolicyBuilder bad = site(Phase::coexist);
    bad.flow({.id = "broken", .from = "nobody", .to = "sql", .services = {"sql"}});
    Diagnostics diags;
    CHECK_FALSE(site_matrix(bad.policy, {}, diags));
    CHECK(diags.has_errors());

    PolicyBuilder unknown_host = site(Phase::coexist);
    resolve::ResolveOptions options;
    options.host = "nope";
    Diagnostics host_diags;
    CHECK_FALSE(site_matrix(unknown_host.policy, options, host_diags));
    CHECK(host_diags.has_errors());
}
