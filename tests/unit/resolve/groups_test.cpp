// Group evaluation: literal groups, the algebra (including the colocated
// `backend & agent_handler` case), the built-in `any`, cycles, unknown names,
// and expressions that resolve to no address.
#include <catch2/catch.hpp>

#include "policy_builder.h"
#include "resolve/groups.h"

using namespace nftpolicy;
using namespace nftpolicy::resolve;
using namespace nftpolicy::resolve::testing;

namespace {

// The SES-like inventory of the design brief: .11 runs a handler and a backend.
PolicyBuilder inventory() {
    PolicyBuilder b;
    b.group("agent_handler", {"10.20.0.11", "10.20.0.12"})
        .group("backend", {"10.20.0.11", "10.20.0.20"})
        .group("agents", {"10.10.0.0/16", "fd00:10::/48"})
        .group("sql", {"10.20.0.30"});
    return b;
}

std::optional<net::AddrSet> eval(PolicyBuilder& b, Diagnostics& diags, const std::string& text) {
    GroupEvaluator groups(b.policy, diags);
    return groups.evaluate(parse_expr(text, &b.file(), 90, 1));
}

}  // namespace

TEST_CASE("literal groups are the union of their entries") {
    PolicyBuilder b;
    b.group("lan", {"10.0.0.0/25", "10.0.0.128/25", "fd00::1"});
    Diagnostics diags;
    auto value = eval(b, diags, "lan");
    REQUIRE(value);
    CHECK(*value == addrs({"10.0.0.0/24", "fd00::1"}));
    CHECK_FALSE(diags.has_errors());
}

TEST_CASE("group algebra: union, intersection, difference") {
    PolicyBuilder b = inventory();
    Diagnostics diags;
    CHECK(*eval(b, diags, "backend & agent_handler") == addrs({"10.20.0.11"}));
    CHECK(*eval(b, diags, "backend | agent_handler") ==
          addrs({"10.20.0.11", "10.20.0.12", "10.20.0.20"}));
    CHECK(*eval(b, diags, "backend - agent_handler") == addrs({"10.20.0.20"}));
    CHECK(*eval(b, diags, "agent_handler - backend") == addrs({"10.20.0.12"}));
    CHECK_FALSE(diags.has_errors());
}

TEST_CASE("& binds tighter than | and -, which are left-associative") {
    PolicyBuilder b = inventory();
    Diagnostics diags;
    // sql | (backend & agent_handler)
    CHECK(*eval(b, diags, "sql | backend & agent_handler") == addrs({"10.20.0.11", "10.20.0.30"}));
    // (backend | agent_handler) - backend
    CHECK(*eval(b, diags, "backend | agent_handler - backend") == addrs({"10.20.0.12"}));
    // (backend - agent_handler) | agent_handler
    CHECK(*eval(b, diags, "backend - agent_handler | agent_handler") ==
          addrs({"10.20.0.11", "10.20.0.12", "10.20.0.20"}));
    CHECK(*eval(b, diags, "backend - (agent_handler | sql)") == addrs({"10.20.0.20"}));
    CHECK_FALSE(diags.has_errors());
}

TEST_CASE("expression groups are evaluated through other groups") {
    PolicyBuilder b = inventory();
    b.group_expr("colocated", "backend & agent_handler").group_expr("servers", "colocated | sql");
    Diagnostics diags;
    CHECK(*eval(b, diags, "servers") == addrs({"10.20.0.11", "10.20.0.30"}));
    CHECK(*eval(b, diags, "agents - colocated") == addrs({"10.10.0.0/16", "fd00:10::/48"}));
}

TEST_CASE("the built-in group any is every address of both families") {
    PolicyBuilder b = inventory();
    Diagnostics diags;
    auto value = eval(b, diags, "any");
    REQUIRE(value);
    CHECK(value->full(net::Family::ipv4));
    CHECK(value->full(net::Family::ipv6));
    CHECK(*eval(b, diags, "any - agents") ==
          net::set_difference(net::AddrSet::everything(), addrs({"10.10.0.0/16", "fd00:10::/48"})));
}

TEST_CASE("an unknown group is reported at the name with a suggestion") {
    PolicyBuilder b = inventory();
    Diagnostics diags;
    auto e = parse_expr("agents | agent_handlr", &b.file(), 3, 10);
    GroupEvaluator groups(b.policy, diags);
    CHECK_FALSE(groups.evaluate(e));
    REQUIRE(diags.error_count() == 1);
    const Diagnostic& d = diags.all()[0];
    CHECK(d.message == "unknown group 'agent_handlr'; did you mean 'agent_handler'?");
    CHECK(d.span.begin == SourcePos{3, 19});
    CHECK(d.span.end == SourcePos{3, 30});
}

TEST_CASE("every unknown name of an expression is reported, not only the first") {
    PolicyBuilder b = inventory();
    Diagnostics diags;
    CHECK_FALSE(eval(b, diags, "nope & (zzzz | sql)"));
    CHECK(messages(diags) ==
          std::vector<std::string>{"unknown group 'nope'", "unknown group 'zzzz'"});
}

TEST_CASE("a cycle is reported once, at the group it starts from, with the path") {
    PolicyBuilder b;
    b.group("x", {"10.0.0.1"}).group_expr("a", "b | x").group_expr("b", "a").group_expr("c", "a");
    Diagnostics diags;
    GroupEvaluator groups(b.policy, diags);
    groups.evaluate_all();
    CHECK_FALSE(groups.evaluate(parse_expr("c", &b.file(), 9, 1)));
    REQUIRE(diags.error_count() == 1);
    CHECK(render(diags.all()[0]) ==
          "policy.toml:2:1: error: group cycle: a -> b -> a\n"
          "    2 | a = \"b | x\"\n"
          "      | ^\n"
          "policy.toml:3:6: note: 'b' refers back to 'a' here\n"
          "    3 | b = \"a\"\n"
          "      |      ^\n");
}

TEST_CASE("a group that refers to itself is a cycle") {
    PolicyBuilder b;
    b.group("x", {"10.0.0.1"}).group_expr("self", "x | self");
    Diagnostics diags;
    GroupEvaluator groups(b.policy, diags);
    groups.evaluate_all();
    CHECK(messages(diags) == std::vector<std::string>{"group cycle: self -> self"});
}

TEST_CASE("unused groups may be empty, but their references are still checked") {
    PolicyBuilder b;
    b.group("placeholder", {}).group_expr("broken", "placeholder | typo");
    Diagnostics diags;
    GroupEvaluator groups(b.policy, diags);
    groups.evaluate_all();
    groups.evaluate_all();  // memoized: nothing is reported twice
    CHECK(messages(diags) == std::vector<std::string>{"unknown group 'typo'"});
}

TEST_CASE("an expression in use that resolves to no address is an error") {
    PolicyBuilder b;
    b.group("agent_handler", {"10.20.0.12"}).group("backend", {"10.20.0.20"}).group("sql", {});
    Diagnostics diags;
    GroupEvaluator groups(b.policy, diags);

    SECTION("an empty intersection names the groups it combines") {
        auto e = parse_expr("backend & agent_handler", &b.file(), 2, 5);
        CHECK_FALSE(groups.evaluate_used(e));
        REQUIRE(diags.error_count() == 1);
        const Diagnostic& d = diags.all()[0];
        CHECK(d.message == "group expression 'backend & agent_handler' resolves to no address");
        CHECK(d.span.begin == SourcePos{2, 5});
        CHECK(d.span.end == SourcePos{2, 27});
        REQUIRE(d.notes.size() == 1);
        CHECK(d.notes[0].message == "the expression combines groups 'backend', 'agent_handler'");
    }
    SECTION("an empty group is pointed at") {
        CHECK_FALSE(groups.evaluate_used(parse_expr("sql", &b.file(), 2, 5)));
        REQUIRE(diags.error_count() == 1);
        const Diagnostic& d = diags.all()[0];
        CHECK(d.message == "group expression 'sql' resolves to no address");
        REQUIRE(d.notes.size() == 1);
        CHECK(d.notes[0].message == "group 'sql' has no address");
        CHECK(d.notes[0].span.where() == "policy.toml:3:1");
    }
    SECTION("plain evaluation of the same expression is not an error") {
        auto value = groups.evaluate(parse_expr("backend & agent_handler", &b.file(), 2, 5));
        REQUIRE(value);
        CHECK(value->empty());
        CHECK_FALSE(diags.has_errors());
    }
}

TEST_CASE("referenced_groups lists each name once, in order") {
    PolicyBuilder b;
    auto e = parse_expr("(a | b) & a - c", &b.file(), 1, 1);
    CHECK(referenced_groups(e) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("the sources of an expression are the literal entries of every group it reaches") {
    PolicyBuilder b = inventory();
    b.group_expr("handlers_or_sql", "agent_handler | sql");
    Diagnostics diags;
    GroupEvaluator groups(b.policy, diags);
    const policy::GroupExpr expr = parse_expr("handlers_or_sql - backend", &b.file(), 90, 1);
    REQUIRE(groups.evaluate(expr));
    std::vector<AddrSource> sources = groups.sources(expr);
    // agent_handler's two entries and sql's one (through the expression
    // group), then backend's two; each with its literal's own span.
    REQUIRE(sources.size() == 5);
    CHECK(sources[0].addrs == addrs({"10.20.0.11"}));
    CHECK(sources[2].addrs == addrs({"10.20.0.30"}));
    CHECK(sources[4].addrs == addrs({"10.20.0.20"}));
    const auto& literals = std::get<std::vector<policy::AddressLiteral>>(b.policy.groups.at("sql").definition);
    CHECK(sources[2].span.begin == literals[0].span.begin);
    CHECK(sources[2].span.valid());
    CHECK(groups.sources(parse_expr("any", &b.file(), 91, 1)).empty());
}
