// The drift tracker and the CLI adoption rule, on hand-made monitor batches.
#include <catch2/catch.hpp>

#include <linux/netfilter.h>

#include "drift/adopt.h"
#include "drift/assess.h"

using namespace nftpolicy;
using namespace nftpolicy::drift;
using kernel::Change;
using kernel::ChangeOp;
using kernel::MonitorBatch;
using kernel::MonitorRead;
using kernel::ObjectKind;

namespace {

constexpr std::uint32_t kOurPid = 500;
constexpr std::uint32_t kOurPort = 9000;

Watch watch(Mode mode = Mode::repair) {
    return Watch{NFPROTO_INET, "nftpolicy", kernel::Committer{kOurPid, kOurPort}, mode};
}

Change change(ObjectKind kind, ChangeOp op, std::string table = "nftpolicy", std::uint8_t family = NFPROTO_INET) {
    Change c;
    c.kind = kind;
    c.op = op;
    c.family = family;
    c.table = std::move(table);
    if (kind == ObjectKind::rule || kind == ObjectKind::chain) c.chain = "input";
    if (kind == ObjectKind::set || kind == ObjectKind::element) c.name = "agents_v4";
    return c;
}

MonitorBatch batch(std::uint32_t genid, std::vector<Change> changes, std::uint32_t pid = 777,
                   std::string proc = "nft") {
    return MonitorBatch{genid, pid, std::move(proc), pid, std::move(changes)};
}

MonitorRead read_of(std::vector<MonitorBatch> batches, bool overrun = false) {
    return MonitorRead{std::move(batches), overrun, false};
}

std::optional<kernel::KnownElements> known_at(std::uint32_t genid) {
    kernel::KnownElements k{"nftpolicy", "boot:1", genid, {}, nullptr};
    k.sets["agents_v4"] = emit::IntervalContent{};
    k.sets["servers_v4"] = emit::IntervalContent{};
    return k;
}

}  // namespace

TEST_CASE("own commits and other tables are ignored; known elements follow the generation") {
    Tracker t(watch(), 10);
    auto known = known_at(10);
    const MonitorRead r = read_of({
        batch(11, {change(ObjectKind::rule, ChangeOp::added)}, kOurPid, "nftpolicyd"),
        batch(12, {change(ObjectKind::rule, ChangeOp::removed, "docker", NFPROTO_IPV4)}),
        batch(13, {change(ObjectKind::table, ChangeOp::removed, "nftpolicy", NFPROTO_IPV4)}),  // ip nftpolicy: not ours
    });
    const Assessment a = t.assess(r, std::nullopt, known);
    CHECK(a.action == Action::none);
    CHECK(a.own == 1);
    CHECK(a.ignored == 2);
    CHECK(t.cursor() == 13);
    // Our own commit (11) is not carried over: the daemon takes known
    // elements from its apply report instead.
    CHECK(known->genid == 10);

    std::optional<kernel::KnownElements> fresh = known_at(13);
    fresh->rest = std::make_shared<const emit::ObservedTable>();
    t.assess(read_of({batch(14, {change(ObjectKind::chain, ChangeOp::added, "libvirt", NFPROTO_INET)})}), std::nullopt,
             fresh);
    CHECK(fresh->genid == 14);
    CHECK(fresh->sets.size() == 2);
    CHECK(fresh->rest);  // another table's change leaves ours as it was
    CHECK(a.sets_untouched == std::vector<std::pair<std::uint32_t, std::uint32_t>>{{11, 12}, {12, 13}});
}

TEST_CASE("a commit by our socket counts as ours even under another pid (PID namespaces)") {
    Tracker t(watch(), 1);
    std::optional<kernel::KnownElements> known;
    MonitorBatch b = batch(2, {change(ObjectKind::rule, ChangeOp::removed)}, 12345, "nftpolicyd");
    b.portid = kOurPort;
    CHECK(t.assess(read_of({b}), std::nullopt, known).action == Action::none);
}

TEST_CASE("a foreign rule deletion in our table is repaired, or only reported") {
    for (auto mode : {Mode::repair, Mode::report}) {
        Tracker t(watch(mode), 40);
        auto known = known_at(40);
        known->rest = std::make_shared<const emit::ObservedTable>();
        const Assessment a = t.assess(read_of({batch(41, {change(ObjectKind::rule, ChangeOp::removed)})}),
                                      std::nullopt, known);
        CHECK(a.action == (mode == Mode::repair ? Action::repair : Action::report));
        REQUIRE(a.foreign.size() == 1);
        CHECK(a.foreign[0].genid == 41);
        CHECK(a.foreign[0].pid == 777);
        CHECK(a.foreign[0].proc == "nft");
        CHECK(a.foreign[0].changes == std::vector<std::string>{"rule deleted in chain input"});
        CHECK_FALSE(a.foreign[0].table_deleted);
        // Sets untouched: the repair need not read them back; the rest of
        // the table, changed, must be read.
        CHECK(known->genid == 41);
        CHECK(known->sets.size() == 2);
        CHECK_FALSE(known->rest);
        CHECK(a.sets_untouched == std::vector<std::pair<std::uint32_t, std::uint32_t>>{{40, 41}});
    }
}

TEST_CASE("a foreign element change drops that set from the known elements, and only that set") {
    Tracker t(watch(), 5);
    auto known = known_at(5);
    Change c = change(ObjectKind::element, ChangeOp::removed);
    c.elements.push_back(kernel::ElementKey{{10, 0, 0, 1}, {}, false});
    c.elements.push_back(kernel::ElementKey{{10, 0, 0, 2}, {}, true});
    const Assessment a = t.assess(read_of({batch(6, {c})}), std::nullopt, known);
    CHECK(a.action == Action::repair);
    CHECK(a.foreign.at(0).changes ==
          std::vector<std::string>{"elements 10.0.0.1, 10.0.0.2 (interval end) removed from set agents_v4"});
    CHECK(a.foreign.at(0).sets == std::set<std::string>{"agents_v4"});
    REQUIRE(known);
    CHECK(known->genid == 6);
    CHECK(known->sets.count("agents_v4") == 0);
    CHECK(known->sets.count("servers_v4") == 1);
    CHECK(a.sets_untouched.empty());
}

TEST_CASE("a deleted table is one line with what went with it, and forgets every known set") {
    Tracker t(watch(), 7);
    auto known = known_at(7);
    const Assessment a = t.assess(read_of({batch(8, {change(ObjectKind::rule, ChangeOp::removed),
                                                      change(ObjectKind::rule, ChangeOp::removed),
                                                      change(ObjectKind::set, ChangeOp::removed),
                                                      change(ObjectKind::chain, ChangeOp::removed),
                                                      change(ObjectKind::table, ChangeOp::removed),
                                                      change(ObjectKind::table, ChangeOp::removed, "other")})}),
                                  std::nullopt, known);
    CHECK(a.action == Action::repair);
    REQUIRE(a.foreign.size() == 1);
    CHECK(a.foreign[0].table_deleted);
    CHECK(a.foreign[0].changes == std::vector<std::string>{"table deleted (1 chains, 2 rules, 1 sets with it)"});
    CHECK_FALSE(known);
}

TEST_CASE("long change lists are cut") {
    Tracker t(watch(), 1);
    std::optional<kernel::KnownElements> known;
    std::vector<Change> many(kMaxListed + 10, change(ObjectKind::rule, ChangeOp::added));
    const Assessment a = t.assess(read_of({batch(2, many)}), std::nullopt, known);
    REQUIRE(a.foreign.at(0).changes.size() == kMaxListed + 1);
    CHECK(a.foreign[0].changes.back() == "... and 10 more");
}

TEST_CASE("transactions already covered by a read or our own commit are old news") {
    Tracker t(watch(), 20);
    t.synced_at(25);
    t.own_commit(26);
    t.synced_at(3);  // never moves back
    CHECK(t.cursor() == 26);
    std::optional<kernel::KnownElements> known;
    const Assessment a = t.assess(read_of({batch(24, {change(ObjectKind::rule, ChangeOp::removed)}),
                                           batch(26, {change(ObjectKind::rule, ChangeOp::removed)})}),
                                  std::nullopt, known);
    CHECK(a.action == Action::none);
    CHECK(a.foreign.empty());
}

TEST_CASE("an overrun while only our own commit ran loses nothing") {
    // Our 1M-element commit floods the monitor with element events; by the
    // time we read, own_commit() has accounted for its generation.
    Tracker t(watch(), 100);
    t.own_commit(101);
    auto known = known_at(101);
    const Assessment a = t.assess(read_of({batch(101, {}, kOurPid)}, true), 101, known);
    CHECK(a.action == Action::none);
    CHECK_FALSE(a.lost);
    CHECK(known);
}

TEST_CASE("an overrun after which the ruleset moved on is a resync, even when the batches look harmless") {
    for (auto mode : {Mode::repair, Mode::report}) {
        Tracker t(watch(mode), 100);
        auto known = known_at(100);
        // Generation 101 arrived without its changes (they were dropped).
        const Assessment a = t.assess(read_of({batch(101, {})}, true), 101, known);
        CHECK(a.lost);
        CHECK(a.action == (mode == Mode::repair ? Action::resync : Action::report));
        CHECK_FALSE(known);
        CHECK(a.sets_untouched.empty());
    }
    Tracker t(watch(), 100);
    std::optional<kernel::KnownElements> known;
    CHECK(t.assess(read_of({}, true), std::nullopt, known).action == Action::resync);  // generation unknown
}

TEST_CASE("a generation skipped without an overrun is a loss too") {
    Tracker t(watch(), 50);
    auto known = known_at(50);
    const Assessment a = t.assess(read_of({batch(52, {change(ObjectKind::rule, ChangeOp::added, "docker")})}),
                                  std::nullopt, known);
    CHECK(a.lost);
    CHECK(a.action == Action::resync);
    CHECK_FALSE(known);
    CHECK(a.sets_untouched.empty());  // never carried across the missing generation
}

TEST_CASE("generation ids wrap") {
    CHECK(after(0, 0xffffffffu));
    CHECK(after(5, 0xfffffff0u));
    CHECK_FALSE(after(0xffffffffu, 0));
    Tracker t(watch(), 0xffffffffu);
    std::optional<kernel::KnownElements> known;
    const Assessment a = t.assess(read_of({batch(0, {change(ObjectKind::rule, ChangeOp::added)})}), std::nullopt, known);
    CHECK_FALSE(a.lost);
    CHECK(a.action == Action::repair);
}

namespace {

kernel::ApplyRecord record(std::uint32_t genid, std::int64_t at, std::string table = "nftpolicy") {
    kernel::ApplyRecord r;
    r.table = std::move(table);
    r.genid = genid;
    r.applied_at = at;
    return r;
}

Assessment repair_of(std::uint32_t genid, std::string proc) {
    Assessment a;
    a.action = Action::repair;
    a.foreign.push_back(Foreign{genid, 900, std::move(proc), {"rule added in chain input"}, false, {}});
    return a;
}

}  // namespace

TEST_CASE("an apply by the CLI is adopted, not repaired back") {
    const std::int64_t since = 1000;
    SECTION("the record names the generation") {
        const Resolution r = resolve(repair_of(61, "nftpolicy"), record(61, 1001), "nftpolicy", since);
        CHECK(r.adopt);
        CHECK(r.repair);
        CHECK(r.adopted == std::vector<std::uint32_t>{61});
    }
    SECTION("the CLI read a later generation back, another commit slipped in") {
        CHECK(resolve(repair_of(61, "nftpolicy"), record(62, 1001), "nftpolicy", since).adopt);
        CHECK_FALSE(resolve(repair_of(61, "nft"), record(62, 1001), "nftpolicy", since).adopt);
    }
    SECTION("a record of another table, an old record or an earlier generation is not the CLI's doing") {
        CHECK_FALSE(resolve(repair_of(61, "nftpolicy"), record(61, 1001, "other"), "nftpolicy", since).adopt);
        CHECK_FALSE(resolve(repair_of(61, "nftpolicy"), record(61, 999), "nftpolicy", since).adopt);
        CHECK_FALSE(resolve(repair_of(61, "nftpolicy"), record(60, 1001), "nftpolicy", since).adopt);
        CHECK(resolve(repair_of(61, "nft"), std::nullopt, "nftpolicy", since).repair);
    }
    SECTION("after lost events a fresh record is adopted") {
        Assessment a;
        a.action = Action::resync;
        a.lost = true;
        CHECK(resolve(a, record(70, 1001), "nftpolicy", since).adopt);
        CHECK_FALSE(resolve(a, record(70, 999), "nftpolicy", since).adopt);
        CHECK(resolve(a, std::nullopt, "nftpolicy", since).repair);
    }
    SECTION("report mode and quiet reads never converge") {
        Assessment a = repair_of(61, "nftpolicy");
        a.action = Action::report;
        CHECK_FALSE(resolve(a, record(61, 1001), "nftpolicy", since).repair);
        CHECK_FALSE(resolve(Assessment{}, std::nullopt, "nftpolicy", since).repair);
    }
}
