// The pending-confirmation record (service/confirm_record.h): a round trip of
// both states, and hostile or damaged files refused with the file and line,
// never a crash or a guess.
#include <catch2/catch.hpp>

#include "service/confirm_record.h"

using namespace nftpolicy;
using namespace nftpolicy::service;

namespace {

ConfirmRecord pending_record() {
    ConfirmRecord r;
    r.armed = 1764680000;
    r.deadline = 1764680030;
    r.applied = "0123456789abcdef";
    r.restore = "fedcba9876543210";
    r.table = "nftpolicy";
    r.policy = "/etc/nftpolicy/site.toml";
    r.enforcer = Enforcer::waiter;
    r.enforcer_id = "4242";
    return r;
}

std::string error_of(const std::string& text) {
    auto r = parse_confirm(text, "confirm");
    REQUIRE_FALSE(r);
    return r.error().message;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    return text;
}

}  // namespace

TEST_CASE("a pending record round-trips") {
    ConfirmRecord r = pending_record();
    auto back = parse_confirm(serialize_confirm(r), "confirm");
    REQUIRE(back);
    CHECK(*back == r);
}

TEST_CASE("a rolled-back record round-trips with when and why") {
    ConfirmRecord r = pending_record();
    r.state = ConfirmState::rolled_back;
    r.rolled_back_at = 1764680031;
    r.reason = "deadline passed";
    r.enforcer = Enforcer::daemon;
    r.enforcer_id.clear();
    const std::string text = serialize_confirm(r);
    CHECK(text.find("reason deadline passed\n") != std::string::npos);
    auto back = parse_confirm(text, "confirm");
    REQUIRE(back);
    CHECK(*back == r);
}

TEST_CASE("hostile or damaged records are clear errors naming file and line") {
    const std::string good = serialize_confirm(pending_record());
    CHECK(error_of("") == "confirm:1: not a confirmation record (expected 'nftpolicy-confirm 1')");
    CHECK(error_of("nftpolicy-confirm 2\n") ==
          "confirm:1: not a confirmation record (expected 'nftpolicy-confirm 1')");
    CHECK(error_of(replaced(good, "state pending", "state maybe")) ==
          "confirm:2: state: 'maybe': expected pending or rolled-back");
    CHECK(error_of(replaced(good, "deadline 1764680030", "deadline 99999999999999999999999")) ==
          "confirm:4: deadline: '99999999999999999999999' is not a time in unix seconds");
    CHECK(error_of(replaced(good, "deadline 1764680030", "deadline -5")) ==
          "confirm:4: deadline: '-5' is not a time in unix seconds");
    CHECK(error_of(replaced(good, "deadline 1764680030", "deadline 12abc")) ==
          "confirm:4: deadline: '12abc' is not a time in unix seconds");
    CHECK(error_of(replaced(good, "applied 0123456789abcdef", "applied ../../etc/passwd")) ==
          "confirm:5: applied: '../../etc/passwd' is not a ruleset hash (16 hex digits)");
    CHECK(error_of(replaced(good, "enforcer waiter", "enforcer rm -rf /")) ==
          "confirm:9: enforcer: 'rm -rf /': expected nftpolicyd, systemd or waiter");
    CHECK(error_of(good + "state pending\n") == "confirm:11: 'state' given twice");
    CHECK(error_of(good + "colour blue\n") == "confirm:11: unknown key 'colour'");
    CHECK(error_of(replaced(good, "restore fedcba9876543210\n", "")) ==
          "confirm:9: 'restore' is missing");
    CHECK(error_of(replaced(good, "deadline 1764680030", "deadline 1764670000")) ==
          "confirm:10: the deadline lies before the time it was armed");
    CHECK(error_of(good + std::string("\0", 1)) == "confirm:1: contains a NUL byte");
}

TEST_CASE("a missing record reads as none, an unreadable one as an error") {
    auto none = read_confirm("/nonexistent-dir-nftpolicy/confirm");
    REQUIRE(none);
    CHECK_FALSE(*none);
    auto dir = read_confirm("/");
    CHECK_FALSE(dir);
}
