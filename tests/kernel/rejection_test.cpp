// Kernel rejections rendered as policy diagnostics. A policy is compiled
// from TOML, one object of its IR is made into something the kernel refuses
// (a map element jumping to no chain, a lookup of no set, an element
// overlapping another), and apply runs in this scratch namespace: the error
// must carry a diagnostic that renders, location, source line and caret,
// under the TOML value that produced the refused object; and the kernel
// must hold what it held before.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "ir/lower.h"
#include "ir_samples.h"
#include "kernel/apply.h"
#include "kernel/netns_guard.h"
#include "policy/load.h"
#include "resolve/projection.h"

using namespace nftpolicy;
using namespace nftpolicy::testing;

namespace {

constexpr const char* kPolicy = R"([groups]
clients = ["10.10.0.0/16", "10.30.0.5"]
web = ["10.20.0.11"]

[services]
https = { tcp = [443, 8443] }

[[flows]]
id = "clients-web"
from = "clients"
to = "web"
services = ["https"]

[hosts.web1]
roles = ["web"]
)";

ir::Table compile(SourceManager& sources) {
    Diagnostics diags;
    auto policy = policy::load_policy_text("site.toml", kPolicy, {}, sources, diags);
    INFO(render_all(diags));
    REQUIRE(policy);
    auto projection = resolve::resolve_policy(*policy, resolve::ResolveOptions{}, diags);
    REQUIRE(projection);
    return ir::lower(*projection);
}

// Applies `t`, which the kernel must refuse; the rendered diagnostics.
std::string rejected(kernel::RulesetKernel& k, const ir::Table& t) {
    const std::string before = sh("nft list ruleset").out;
    auto r = kernel::apply(k, t);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::kernel);
    CHECK(sh("nft list ruleset").out == before);
    std::string out;
    for (const Diagnostic& d : r.error().diagnostics) out += render(d);
    return out;
}

ir::Rule& first_rule_of(ir::Table& t, const std::string& chain) {
    auto it = std::find_if(t.chains.begin(), t.chains.end(), [&](const ir::Chain& c) { return c.name == chain; });
    REQUIRE(it != t.chains.end());
    REQUIRE(!it->rules.empty());
    return it->rules.front();
}

}  // namespace

TEST_CASE("a refused map element renders under its port", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    SourceManager sources;
    ir::Table t = compile(sources);
    REQUIRE(t.maps.size() == 1);
    REQUIRE(t.maps[0].elements.size() == 2);
    t.maps[0].elements[1].chain = "no_such_chain";  // tcp . 8443
    CHECK(rejected(*k, t) ==
          "site.toml:6:23: error: kernel rejected element tcp . 8443 of map in_svc: No such file or directory\n"
          "    6 | https = { tcp = [443, 8443] }\n"
          "      |                       ^~~~\n");
    flush_scratch_ruleset();
}

TEST_CASE("a refused expression renders under its statement, with the flow as a note", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    SourceManager sources;
    ir::Table t = compile(sources);
    REQUIRE(kernel::apply(*k, t));  // then a changed rule in a second apply
    ir::Rule& r = first_rule_of(t, "in_tcp_443");
    auto match = std::find_if(r.stmts.begin(), r.stmts.end(),
                              [](const ir::Stmt& s) { return std::holds_alternative<ir::MatchAddrSet>(s.kind); });
    REQUIRE(match != r.stmts.end());
    std::get<ir::MatchAddrSet>(match->kind).set = "no_such_set";
    CHECK(rejected(*k, t) ==
          "site.toml:10:9: error: kernel rejected rule 1 of chain in_tcp_443, expression 4 (lookup): "
          "No such file or directory\n"
          "   10 | from = \"clients\"\n"
          "      |         ^~~~~~~\n"
          "site.toml:8:1: note: in rule 1 of chain in_tcp_443, made from here\n"
          "    8 | [[flows]]\n"
          "      | ^~~~~~~~~\n");
    flush_scratch_ruleset();
}

TEST_CASE("a refused address element renders under the entry that holds it", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    SourceManager sources;
    ir::Table t = compile(sources);
    REQUIRE(!t.sets.empty());
    ir::AddrSet& clients = t.sets[0];
    REQUIRE(clients.name == "g_clients_v4");
    // 10.10.3.0/24 inside 10.10.0.0/16: intervals the kernel will not overlap.
    edit_list(clients.elements, [](auto& elements) {
        elements.insert(elements.begin() + 1, net::Interval{elements[0].lo + 0x300, elements[0].lo + 0x3ff});
    });
    CHECK(rejected(*k, t) ==
          "site.toml:2:12: error: kernel rejected element 10.10.3.0 of set g_clients_v4: File exists\n"
          "    2 | clients = [\"10.10.0.0/16\", \"10.30.0.5\"]\n"
          "      |            ^~~~~~~~~~~~~~\n"
          "site.toml:10:9: note: in elements of set g_clients_v4, made from here\n"
          "   10 | from = \"clients\"\n"
          "      |         ^~~~~~~\n");
    flush_scratch_ruleset();
}
