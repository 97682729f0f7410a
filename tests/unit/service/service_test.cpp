// nftpolicyd's pure parts: the last good ruleset file (every IR kind
// survives the round trip, a changed or truncated file is refused) and the
// control socket's reply format.
#include <catch2/catch.hpp>

#include "emit/nft_text.h"
#include "kernel/apply_record.h"
#include "kernel/ir_samples.h"
#include "service/control.h"
#include "service/fallback.h"
#include "service/ruleset_file.h"

using namespace nftpolicy;

namespace {

service::SavedRuleset saved(ir::Table t) {
    service::SavedRuleset s;
    s.hash = kernel::ruleset_hash(t);
    s.table = std::move(t);
    s.host = "h";
    s.phases = {{"m", policy::Phase::coexist}};
    s.flipped_gates = {"m.g"};
    s.flows = 3;
    return s;
}

// The built-in ruleset holds the whole baseline: ct state, ICMP types,
// limits, logging, interfaces, a service map and chains.
ir::Table builtin() {
    pipeline::PolicyRequest request;
    request.policy = "/nonexistent/site.toml";
    return service::builtin_ruleset(request).compiled->table;
}

}  // namespace

TEST_CASE("last good file: the IR survives the round trip", "[service]") {
    for (const ir::Table& t : {testing::rich_table(), builtin()}) {
        auto text = service::serialize_ruleset(saved(t));
        auto back = service::parse_ruleset(text, "last-good");
        REQUIRE(back);
        CHECK(emit::nft_text(back->table) == emit::nft_text(t));
        CHECK(back->hash == kernel::ruleset_hash(t));
        CHECK(back->host == "h");
        CHECK(back->phases.at("m") == policy::Phase::coexist);
        CHECK(back->flipped_gates == std::set<std::string>{"m.g"});
        CHECK(back->flows == 3);
        CHECK(service::serialize_ruleset(*back) == text);
    }
}

TEST_CASE("last good file: a changed or truncated file is refused", "[service]") {
    const auto text = service::serialize_ruleset(saved(testing::rich_table()));
    const auto last = text.rfind('\n', text.size() - 2);
    REQUIRE(last != std::string::npos);

    SECTION("one address changed") {
        std::string changed = text;
        char& digit = changed[text.size() - 2];
        digit = digit == '1' ? '2' : '1';
        auto r = service::parse_ruleset(changed, "lg");
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains("the file was changed"));
    }
    SECTION("the last element missing") {
        auto r = service::parse_ruleset(text.substr(0, last + 1), "lg");
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains("is missing or malformed"));
    }
    SECTION("not a ruleset file") {
        auto r = service::parse_ruleset("hello\n{}\n", "lg");
        REQUIRE_FALSE(r);
        CHECK(r.error().message == "lg: line 1: expected 'nftpolicy-ruleset 1 HASH'");
    }
    SECTION("broken JSON") {
        std::string broken = text;
        broken.replace(text.find('{'), 1, "[");
        CHECK_FALSE(service::parse_ruleset(broken, "lg"));
    }
}

TEST_CASE("the built-in ruleset: management only, input and forward dropped", "[service]") {
    const std::string text = emit::nft_text(builtin());
    CHECK_THAT(text, Catch::Contains("tcp . 22 : jump"));
    CHECK_THAT(text, Catch::Contains("hook input priority filter; policy drop;"));
    CHECK_THAT(text, Catch::Contains("hook forward priority filter; policy drop;"));
}

TEST_CASE("control replies round trip", "[service]") {
    service::Reply r;
    r.failure = pipeline::FailureKind::invalid_policy;
    r.generation = 7;
    r.status = "gen 7 policy; error: site.toml:3:1: x";
    r.diagnostics = "site.toml:3:1: error: x\n    3 | x\n      | ^\n";
    auto back = service::parse_reply(service::format_reply(r));
    REQUIRE(back);
    CHECK(back->failure == r.failure);
    CHECK(back->generation == 7);
    CHECK(back->status == r.status);
    CHECK(back->diagnostics == r.diagnostics);

    r.failure.reset();
    back = service::parse_reply(service::format_reply(r));
    REQUIRE(back);
    CHECK_FALSE(back->failure);
    CHECK_FALSE(service::parse_reply("something else\n"));
    CHECK_FALSE(service::parse_reply("nftpolicyd 1\nresult maybe\n\n"));
}
