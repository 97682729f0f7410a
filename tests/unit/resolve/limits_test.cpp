// The nesting limits of policy/limits.h, at the limit: a policy that uses
// every level allowed loads and resolves (with a host whose membership is
// computed through the whole chain). Under ASan, whose frames are several
// times larger, this is what shows the limits leave room on the stack.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "policy/limits.h"
#include "policy/load.h"
#include "resolve/projection.h"

using namespace nftpolicy;
namespace limits = nftpolicy::policy::limits;

namespace {

// g0 = "(((... g1 | x ...)))" down to a literal: each group spends the
// paren limit and one operator, so the chain reaches the evaluation limit
// with the most recursion per level the parser allows.
std::string deepest_policy() {
    std::string text = "[groups]\nx = [\"10.0.0.2\"]\n";
    const std::size_t groups = limits::kGroupDepth / 2;  // a reference and an operator per group
    for (std::size_t i = 0; i < groups; ++i) {
        std::string open(limits::kExprParens, '('), close(limits::kExprParens, ')');
        text += fmt::format("g{} = \"{}g{} | x{}\"\n", i, open, i + 1, close);
    }
    text += fmt::format("g{} = [\"10.0.0.1\"]\n", groups);
    // A flow's own expression adds its operators on top of the chain.
    std::string wide = "g0";
    for (std::size_t i = 0; i < limits::kExprOperators; ++i) wide += " | x";
    text += "[services]\nssh = { tcp = [22] }\n";
    text += "[[flows]]\nid = \"f\"\nfrom = \"" + wide + "\"\nto = \"g0\"\nservices = [\"ssh\"]\n";
    text += "[hosts.h]\nroles = [\"g0\"]\n";
    return text;
}

}  // namespace

TEST_CASE("a policy at every nesting limit loads and resolves") {
    SourceManager sources;
    Diagnostics diags;
    auto policy = policy::load_policy_text("site.toml", deepest_policy(), {}, sources, diags);
    INFO(render_all(diags));
    REQUIRE(policy);
    auto projection = resolve::resolve_policy(*policy, {}, diags);
    REQUIRE(projection);
    CHECK_FALSE(projection->flows.empty());
}

TEST_CASE("one level more is an error at the reference, not a crash") {
    SourceManager sources;
    Diagnostics diags;
    std::string text = deepest_policy();
    // Put the chain one level deeper: the literal at its end becomes a reference.
    const std::size_t last = limits::kGroupDepth / 2;
    std::string literal = fmt::format("g{} = [\"10.0.0.1\"]\n", last);
    text.replace(text.find(literal), literal.size(),
                 fmt::format("g{} = \"g{}\"\ng{} = \"g{}\"\ng{} = [\"10.0.0.1\"]\n", last, last + 1, last + 1,
                             last + 2, last + 2));
    auto policy = policy::load_policy_text("site.toml", text, {}, sources, diags);
    CHECK_FALSE(policy);
    REQUIRE(diags.first_error());
    CHECK_THAT(diags.first_error()->message, Catch::StartsWith("groups nest more than 512 levels deep here"));
}
