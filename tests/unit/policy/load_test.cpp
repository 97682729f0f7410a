// The loader: TOML text -> typed Policy, schema errors with locations,
// includes and overrides.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "policy/load.h"

using namespace nftpolicy;
using namespace nftpolicy::policy;

namespace {

struct Loaded {
    SourceManager sources;
    Diagnostics diags;
    std::optional<Policy> policy;
    std::string first_error() const {
        auto d = diags.first_error();
        return d ? d->span.where() + ": " + d->message : "";
    }
};

std::unique_ptr<Loaded> load_text(const std::string& text, std::vector<std::string> search = {}) {
    auto l = std::make_unique<Loaded>();
    l->policy = load_policy_text("site.toml", text, LoadOptions{std::move(search)}, l->sources, l->diags);
    return l;
}

// A scratch directory of policy files, removed afterwards.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/nftpolicy-test-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        auto p = path / name;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p) << text;
        return p.string();
    }
};

}  // namespace

TEST_CASE("a complete policy loads into typed values with spans") {
    auto l = load_text(R"(
[groups]
agents = ["10.10.0.0/16", "fd00:10::/48"]
handler = ["10.20.0.11", "10.20.0.20-10.20.0.29"]
colocated = "handler & agents"

[services]
msrpc = { tcp = [17000] }
sql = { tcp = [1433, "3023-4023"], udp = 1434, icmp = ["echo-request"] }

[[flows]]
id = "agent-legacy"
from = "agents"
to = "handler"
services = ["msrpc"]
retired_by = "ses.agents-migrated"

[migrations.ses]
gates = ["agents-migrated"]
phase = "coexist"

[hosts.h1]
roles = ["handler"]

[baseline]
egress = true
log_rate = "3/second"
)");
    REQUIRE(l->first_error() == "");
    REQUIRE(l->policy);
    const Policy& p = *l->policy;
    REQUIRE(p.groups.size() == 3);
    auto& agents = std::get<std::vector<AddressLiteral>>(p.groups.at("agents").definition);
    CHECK(agents.size() == 2);
    CHECK(agents[1].entry.family == net::Family::ipv6);
    CHECK(agents[0].span.begin.line == 3);
    CHECK(agents[0].span.begin.column == 11);
    auto& expr = std::get<GroupExpr>(p.groups.at("colocated").definition);
    CHECK(expr.op == GroupExpr::Op::intersection);
    CHECK(expr.operands[1].name == "agents");
    CHECK(expr.operands[1].span.begin.column == 24);
    auto& sql = p.services.at("sql");
    REQUIRE(sql.tcp.size() == 2);
    CHECK(sql.tcp[1].lo == 3023);
    CHECK(sql.tcp[1].hi == 4023);
    REQUIRE(sql.udp.size() == 1);
    CHECK(sql.udp[0].lo == 1434);
    CHECK(sql.icmp[0].type == 8);
    REQUIRE(p.flows.size() == 1);
    CHECK(p.flows[0].retired_by->gate == "agents-migrated");
    CHECK(p.flows[0].id_span.begin.line == 12);
    CHECK(p.migrations.at("ses").phase == Phase::coexist);
    CHECK(p.hosts.at("h1").roles[0].name == "handler");
    CHECK(p.baseline.egress);
    CHECK(p.baseline.log_rate.count == 3);
    CHECK(p.baseline.log_rate.unit == RateUnit::second);
}

TEST_CASE("group expression precedence: & binds tighter than | and -") {
    auto l = load_text("[groups]\na = [\"10.0.0.1\"]\nb = [\"10.0.0.2\"]\nc = [\"10.0.0.3\"]\n"
                       "x = \"a | b & c - a\"\n");
    REQUIRE(l->policy);
    auto& e = std::get<GroupExpr>(l->policy->groups.at("x").definition);
    // (a | (b & c)) - a
    REQUIRE(e.op == GroupExpr::Op::difference);
    CHECK(e.operands[1].name == "a");
    REQUIRE(e.operands[0].op == GroupExpr::Op::union_);
    CHECK(e.operands[0].operands[1].op == GroupExpr::Op::intersection);
    CHECK(e.operands[0].operands[1].text == "b & c");
}

TEST_CASE("schema errors name the location and what was expected") {
    SECTION("unknown key with a suggestion") {
        auto l = load_text("[groups]\na = [\"10.0.0.1\"]\n[sevices]\n");
        CHECK(l->first_error() == "site.toml:3:2: unknown key 'sevices' in policy file; did you mean 'services'?");
    }
    SECTION("wrong type") {
        auto l = load_text("[baseline]\negress = \"yes\"\n");
        CHECK(l->first_error() == "site.toml:2:10: 'egress' must be true or false, not string");
    }
    SECTION("port out of range, both ends") {
        auto l = load_text("[services]\na = { tcp = [0] }\nb = { udp = [65536] }\n");
        REQUIRE(l->diags.error_count() == 2);
        CHECK(l->first_error() == "site.toml:2:14: port 0 is out of range (expected 1-65535)");
        CHECK(l->diags.all()[1].message == "port 65536 is out of range (expected 1-65535)");
    }
    SECTION("bad CIDR") {
        auto l = load_text("[groups]\na = [\"10.0.0.1/24\"]\n");
        CHECK(l->first_error().starts_with("site.toml:2:6: invalid address '10.0.0.1/24': "));
    }
    SECTION("TOML syntax error") {
        auto l = load_text("[groups]\na = [\"10.0.0.1\"\n");
        INFO(l->first_error());
        CHECK(l->first_error() == "site.toml:2:17: invalid TOML: Error while parsing array: encountered end-of-file");
    }
    SECTION("every error of the stage is reported, in source order") {
        auto l = load_text("[services]\nb = { tcp = [99999] }\n[[flows]]\nid = \"x\"\nfrom = \"a\"\n");
        REQUIRE(l->diags.error_count() == 3);
        CHECK(l->diags.all()[0].span.begin.line == 2);
        CHECK(l->diags.all()[1].message == "[[flows]] entry is missing required key 'to'");
        CHECK(l->diags.all()[2].message == "[[flows]] entry is missing required key 'services'");
    }
    SECTION("duplicate flow ids") {
        auto l = load_text("[[flows]]\nid = \"x\"\nfrom = \"any\"\nto = \"any\"\nservices = [\"ssh\"]\n"
                           "[[flows]]\nid = \"x\"\nfrom = \"any\"\nto = \"any\"\nservices = [\"ssh\"]\n");
        CHECK(l->first_error() == "site.toml:7:6: duplicate flow id 'x'");
    }
    SECTION("group expression syntax") {
        auto l = load_text("[groups]\nx = \"a & (b | \"\n");
        CHECK(l->first_error() == "site.toml:2:15: group expression ends early; expected a group name or '('");
    }
}

TEST_CASE("includes: search path, overrides, cycles and missing files") {
    TempDir dir;
    dir.write("profiles/vendor.toml", R"(
[groups]
servers = []
[services]
sql = { tcp = [1433] }
web = { tcp = [443] }
[[flows]]
id = "to-sql"
from = "servers"
to = "servers"
services = ["sql"]
[migrations.m]
gates = ["g1"]
)");
    SECTION("site overrides a profile service and adds a phase") {
        auto site = dir.write("site.toml", R"(
include = ["vendor"]
[services]
sql = { tcp = [1533] }
[migrations.m]
phase = "coexist"
)");
        Loaded l;
        l.policy = load_policy(site, LoadOptions{{(dir.path / "profiles").string()}}, l.sources, l.diags);
        REQUIRE(l.first_error() == "");
        CHECK(l.policy->services.at("sql").tcp[0].lo == 1533);
        CHECK(l.policy->services.at("web").tcp[0].lo == 443);
        CHECK(l.policy->flows.size() == 1);
        CHECK(l.policy->migrations.at("m").gates.size() == 1);
        CHECK(l.policy->migrations.at("m").phase == Phase::coexist);
    }
    SECTION("missing include names the searched places") {
        auto site = dir.write("site.toml", "include = [\"nosuch\"]\n");
        Loaded l;
        l.policy = load_policy(site, {}, l.sources, l.diags);
        CHECK_FALSE(l.policy);
        CHECK(l.diags.first_error()->message == "cannot find included policy 'nosuch'");
        CHECK(l.diags.first_error()->span.begin == SourcePos{1, 12});
    }
    SECTION("include cycle") {
        dir.write("a.toml", "include = [\"b.toml\"]\n");
        dir.write("b.toml", "include = [\"a.toml\"]\n");
        Loaded l;
        l.policy = load_policy((dir.path / "a.toml").string(), {}, l.sources, l.diags);
        CHECK_FALSE(l.policy);
        CHECK(l.diags.first_error()->message.starts_with("include cycle: "));
    }
    SECTION("siblings that disagree need the includer to choose") {
        dir.write("x.toml", "[services]\nweb = { tcp = [80] }\n");
        dir.write("y.toml", "[services]\nweb = { tcp = [8080] }\n");
        auto site = dir.write("s.toml", "include = [\"x.toml\", \"y.toml\"]\n");
        Loaded l;
        l.policy = load_policy(site, {}, l.sources, l.diags);
        CHECK_FALSE(l.policy);
        CHECK(l.diags.first_error()->message ==
              "service 'web' is defined by two included policies; define it in the including file to choose");
        auto fixed = dir.write("t.toml", "include = [\"x.toml\", \"y.toml\"]\n[services]\nweb = { tcp = [81] }\n");
        Loaded l2;
        l2.policy = load_policy(fixed, {}, l2.sources, l2.diags);
        REQUIRE(l2.policy);
        CHECK(l2.policy->services.at("web").tcp[0].lo == 81);
    }
}

TEST_CASE("address list files: entries merged, errors located in the list") {
    TempDir dir;
    dir.write("lists/agents.txt", "# exported from IPAM\n10.0.0.1\n10.0.0.2   # adjacent: merged\n\n"
                                  "fd00::/64\n10.1.0.0/16\n");
    SECTION("a valid list becomes one normalized set") {
        auto site = dir.write("site.toml", "[groups]\nagents = { file = \"lists/agents.txt\" }\n");
        Loaded l;
        l.policy = load_policy(site, {}, l.sources, l.diags);
        REQUIRE(l.first_error() == "");
        const auto& f = std::get<AddressFile>(l.policy->groups.at("agents").definition);
        CHECK(f.entries == 4);
        REQUIRE(f.addrs.v4.size() == 2);
        CHECK(net::format_interval(net::Family::ipv4, f.addrs.v4[0]) == "10.0.0.1-10.0.0.2");
        CHECK(f.addrs.v6.size() == 1);
    }
    SECTION("a bad line is reported at its own file:line:col") {
        dir.write("lists/bad.txt", "10.0.0.1\n  10.0.0.300\n");
        auto site = dir.write("site.toml", "[groups]\nagents = { file = \"lists/bad.txt\" }\n");
        Loaded l;
        l.policy = load_policy(site, {}, l.sources, l.diags);
        CHECK_FALSE(l.policy);
        REQUIRE(l.diags.first_error());
        CHECK(l.diags.first_error()->span.file->path.ends_with("lists/bad.txt"));
        CHECK(l.diags.first_error()->span.begin == SourcePos{2, 3});
        CHECK(l.diags.first_error()->message.starts_with("invalid IPv4 address '10.0.0.300' "));
    }
    SECTION("a missing list is an error at the file value") {
        auto site = dir.write("site.toml", "[groups]\nagents = { file = \"nope.txt\" }\n");
        Loaded l;
        l.policy = load_policy(site, {}, l.sources, l.diags);
        CHECK_FALSE(l.policy);
        CHECK(l.diags.first_error()->span.begin == SourcePos{2, 19});
        CHECK(l.diags.first_error()->message.starts_with("cannot read address list '"));
    }
}

TEST_CASE("seen sets: defaults, durations in nft's spelling, and a site overriding a profile") {
    auto defaults = load_text("[migrations.m]\ngates = [\"g\"]\n");
    REQUIRE(defaults->first_error() == "");
    const SeenSettings& d = defaults->policy->migrations.at("m").seen;
    CHECK(d.timeout == 7 * 86400);
    CHECK(d.size == 65536);
    CHECK(d.span.begin == SourcePos{1, 13});  // the migration's name

    const std::pair<const char*, std::uint32_t> spellings[] = {
        {"7d", 7 * 86400}, {"12h", 12 * 3600}, {"1d12h", 36 * 3600}, {"90m", 5400}, {"1h30m15s", 5415}, {"1s", 1},
        {"365d", 365 * 86400}};
    for (auto [text, secs] : spellings) {
        auto l = load_text(std::string("[migrations.m]\nseen_timeout = \"") + text + "\"\nseen_size = 4096\n");
        INFO(text);
        REQUIRE(l->first_error() == "");
        CHECK(l->policy->migrations.at("m").seen.timeout == secs);
        CHECK(l->policy->migrations.at("m").seen.size == 4096);
    }
    for (const char* bad : {"", "7", "d", "0s", "366d", "7x", "12h1d", "1d1d", "7 d", "-1d", "1000000000s"}) {
        auto l = load_text(std::string("[migrations.m]\nseen_timeout = \"") + bad + "\"\n");
        INFO(bad);
        CHECK_FALSE(l->policy);
        CHECK(l->first_error().find("site.toml:2:16: invalid seen_timeout") == 0);
    }

    TempDir dir;
    dir.write("vendor.toml", "[migrations.m]\ngates = [\"g\"]\nseen_timeout = \"30d\"\nseen_size = 1000\n");
    auto site = dir.write("site.toml", "include = [\"vendor.toml\"]\n[migrations.m]\nseen_size = 2000\n");
    Loaded l;
    l.policy = load_policy(site, {}, l.sources, l.diags);
    REQUIRE(l.first_error() == "");
    CHECK(l.policy->migrations.at("m").seen.timeout == 30 * 86400);
    CHECK(l.policy->migrations.at("m").seen.size == 2000);
}

TEST_CASE("[settings] drift: repair by default, report when asked, the site over a profile") {
    const std::string groups = "[groups]\nadmins = [\"10.0.0.0/24\"]\n";
    auto plain = load_text(groups);
    REQUIRE(plain->first_error() == "");
    CHECK(plain->policy->drift.mode == DriftMode::repair);
    CHECK_FALSE(plain->policy->drift.span.valid());
    auto report = load_text(groups + "[settings]\ndrift = \"report\"\n");
    REQUIRE(report->first_error() == "");
    CHECK(report->policy->drift.mode == DriftMode::report);
    CHECK(report->policy->drift.span.where() == "site.toml:4:9");
    CHECK(load_text(groups + "[settings]\ndrift = \"Repair\"\n")->first_error().rfind(
              "site.toml:4:9: unknown drift mode 'Repair'", 0) == 0);

    TempDir dir;
    dir.write("profiles/vendor.toml", groups + "[settings]\ndrift = \"report\"\n");
    auto site = dir.write("site.toml", "include = [\"vendor\"]\n[settings]\ndrift = \"repair\"\n");
    Loaded l;
    l.policy = load_policy(site, LoadOptions{{(dir.path / "profiles").string()}}, l.sources, l.diags);
    REQUIRE(l.first_error() == "");
    CHECK(l.policy->drift.mode == DriftMode::repair);
}
