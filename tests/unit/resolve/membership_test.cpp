// Host membership: role-based hosts evaluate expressions as booleans over
// their roles, address-based hosts intersect their addresses with the
// expression's set.
#include <catch2/catch.hpp>

#include "policy_builder.h"
#include "resolve/membership.h"

using namespace nftpolicy;
using namespace nftpolicy::resolve;
using namespace nftpolicy::resolve::testing;

namespace {

PolicyBuilder inventory() {
    PolicyBuilder b;
    b.group("agent_handler", {"10.20.0.11", "10.20.0.12"})
        .group("backend", {"10.20.0.11", "10.20.0.20"})
        .group("sql", {"10.20.0.30"})
        .group_expr("colocated", "backend & agent_handler");
    return b;
}

// Whether the (only) host of `b` is in `text`.
bool member(PolicyBuilder& b, const std::string& text) {
    Diagnostics diags;
    GroupEvaluator groups(b.policy, diags);
    HostMembership host(b.policy.hosts.begin()->second, groups, diags);
    auto expr = parse_expr(text, &b.file(), 99, 1);
    auto value = groups.evaluate(expr);
    REQUIRE(value);
    REQUIRE_FALSE(diags.has_errors());
    return host.member_of(expr, *value);
}

}  // namespace

TEST_CASE("role-based host: expressions are boolean over the roles") {
    PolicyBuilder b = inventory();
    b.host_roles("srv11", {"backend", "agent_handler"});
    CHECK(member(b, "backend"));
    CHECK(member(b, "backend & agent_handler"));
    CHECK(member(b, "sql | backend"));
    CHECK(member(b, "any"));
    CHECK(member(b, "any - sql"));
    CHECK_FALSE(member(b, "sql"));
    CHECK_FALSE(member(b, "backend - agent_handler"));
    CHECK_FALSE(member(b, "backend & sql"));
    CHECK_FALSE(member(b, "any - (backend | sql)"));
}

TEST_CASE("role-based host: expression groups are looked through") {
    PolicyBuilder b = inventory();
    b.host_roles("srv11", {"backend", "agent_handler"});
    CHECK(member(b, "colocated"));
    PolicyBuilder only_backend = inventory();
    only_backend.host_roles("srv20", {"backend"});
    CHECK_FALSE(member(only_backend, "colocated"));
    CHECK(member(only_backend, "backend - colocated"));
}

TEST_CASE("role-based host: a role naming an expression group counts as played") {
    PolicyBuilder b = inventory();
    b.host_roles("srv11", {"colocated"});
    CHECK(member(b, "colocated"));
    CHECK(member(b, "colocated | sql"));
    CHECK_FALSE(member(b, "backend"));  // roles are what the host declares
}

TEST_CASE("address-based host: member when its addresses intersect the set") {
    PolicyBuilder b = inventory();
    b.host_addresses("srv11", {"10.20.0.11", "fd00::11"});
    CHECK(member(b, "backend & agent_handler"));
    CHECK(member(b, "colocated"));
    CHECK(member(b, "any"));
    CHECK_FALSE(member(b, "backend - agent_handler"));
    CHECK_FALSE(member(b, "sql"));
}

TEST_CASE("a host with neither roles nor addresses is in no group") {
    PolicyBuilder b = inventory();
    b.host_addresses("bare", {});
    CHECK_FALSE(member(b, "any"));
    CHECK_FALSE(member(b, "backend"));
}

TEST_CASE("a role must be a defined group") {
    PolicyBuilder b = inventory();
    b.host_roles("srv11", {"bakend", "sql"});
    Diagnostics diags;
    GroupEvaluator groups(b.policy, diags);
    HostMembership host(b.policy.hosts.at("srv11"), groups, diags);
    REQUIRE(diags.error_count() == 1);
    CHECK(render(diags.all()[0]) ==
          "policy.toml:5:25: error: role 'bakend' of host 'srv11' is not a defined group; did you "
          "mean "
          "'backend'?\n"
          "    5 | [hosts.srv11] roles = [\"bakend\", \"sql\"]\n"
          "      | " +
              std::string(24, ' ') + "^~~~~~\n");
    // The valid role still counts.
    auto expr = parse_expr("sql", &b.file(), 99, 1);
    CHECK(host.member_of(expr, *groups.evaluate(expr)));
}

TEST_CASE("own addresses: the host's addresses, or the union of its role groups") {
    PolicyBuilder by_role = inventory();
    by_role.host_roles("srv", {"backend", "sql"});
    Diagnostics diags;
    GroupEvaluator groups(by_role.policy, diags);
    HostMembership role_host(by_role.policy.hosts.at("srv"), groups, diags);
    CHECK(role_host.own_addresses() == addrs({"10.20.0.11", "10.20.0.20", "10.20.0.30"}));

    PolicyBuilder by_address = inventory();
    by_address.host_addresses("srv", {"10.20.0.11", "fd00::11"});
    GroupEvaluator groups2(by_address.policy, diags);
    HostMembership address_host(by_address.policy.hosts.at("srv"), groups2, diags);
    CHECK(address_host.own_addresses() == addrs({"10.20.0.11", "fd00::11"}));
}
