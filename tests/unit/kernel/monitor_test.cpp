// The event parser on datagrams captured from a real kernel (see
// monitor_capture.h): each `nft` command is one batch with its generation,
// committing process and typed changes.
#include <catch2/catch.hpp>

#include <linux/netfilter.h>

#include <string>
#include <vector>

#include "kernel/monitor.h"
#include "monitor_capture.h"

using namespace nftpolicy;
using namespace nftpolicy::kernel;

namespace {

std::vector<std::uint8_t> unhex(const std::string& hex) {
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

std::vector<MonitorBatch> parse_step(EventParser& parser, const testing::CapturedStep& step) {
    std::vector<MonitorBatch> out;
    for (const char* gram : step.datagrams) {
        if (gram == nullptr) break;
        const std::vector<std::uint8_t> bytes = unhex(gram);
        parser.feed(bytes.data(), bytes.size(), out);
    }
    return out;
}

// "family table: description" per change.
std::vector<std::string> summary(const MonitorBatch& b) {
    std::vector<std::string> out;
    for (const Change& c : b.changes) {
        const char* family = c.family == NFPROTO_INET ? "inet" : c.family == NFPROTO_IPV4 ? "ip" : "?";
        out.push_back(std::string(family) + " " + c.table + ": " + describe(c));
    }
    return out;
}

using Lines = std::vector<std::string>;

// What each captured command must parse to, in capture order.
const std::vector<Lines> kExpected = {
    {"inet t: table added"},
    {"inet t: chain input added"},
    {"inet t: rule added in chain input"},
    {"inet t: set s added"},
    // nft opens an interval set with an end marker at 0.0.0.0.
    {"inet t: element 0.0.0.0 (interval end) added to set s", "inet t: element 10.0.0.1 added to set s",
     "inet t: element 10.0.0.2 (interval end) added to set s",
     "inet t: element 10.1.0.0 added to set s", "inet t: element 10.2.0.0 (interval end) added to set s"},
    {"inet t: element 10.0.0.1 removed from set s", "inet t: element 10.0.0.2 (interval end) removed from set s"},
    {"inet t: set s6 added"},
    {"inet t: element fd00::1 added to set s6"},
    {"inet t: set cc added"},
    {"inet t: element 0x0a00000000500000-0x0affffff005a0000 added to set cc"},
    {"inet t: object c added"},
    {"inet t: rule deleted in chain input"},
    {"inet t: rule added in chain input"},
    {"inet t: rule deleted in chain input"},
    {"ip other: table added"},
    {"inet t: set s deleted", "inet t: set s6 deleted", "inet t: set cc deleted", "inet t: object c deleted",
     "inet t: chain input deleted", "inet t: table deleted"},
    {"ip other: table deleted"},
};

}  // namespace

TEST_CASE("each captured nft command parses to one batch of typed changes") {
    EventParser parser;
    const std::size_t steps = std::size(testing::kCapturedSteps);
    REQUIRE(steps == kExpected.size());
    std::uint32_t genid = 0;
    for (std::size_t i = 0; i < steps; ++i) {
        const testing::CapturedStep& step = testing::kCapturedSteps[i];
        INFO(step.command);
        const std::vector<MonitorBatch> batches = parse_step(parser, step);
        REQUIRE(batches.size() == 1);
        const MonitorBatch& b = batches[0];
        CHECK(summary(b) == kExpected[i]);
        CHECK(b.proc == "nft");
        // nft's only netlink socket is bound to its pid.
        CHECK(b.pid != 0);
        CHECK(b.portid == b.pid);
        if (i > 0) CHECK(b.genid == genid + 1);
        genid = b.genid;
    }
}

TEST_CASE("rule and chain events carry their handles") {
    EventParser parser;
    std::vector<MonitorBatch> batches;
    for (const auto& step : testing::kCapturedSteps) {
        for (auto& b : parse_step(parser, step)) batches.push_back(std::move(b));
    }
    REQUIRE(batches.size() > 11);
    const Change& added = batches[2].changes.at(0);
    const Change& deleted = batches[11].changes.at(0);
    CHECK(added.handle != 0);
    CHECK(deleted.handle == added.handle);
    CHECK(batches[1].changes.at(0).handle != 0);
}

TEST_CASE("changes wait for their NEWGEN; dropped pending changes never reach a batch") {
    const testing::CapturedStep& step = testing::kCapturedSteps[2];  // add rule
    const std::vector<std::uint8_t> change = unhex(step.datagrams[0]);
    const std::vector<std::uint8_t> gen = unhex(step.datagrams[1]);
    EventParser parser;
    std::vector<MonitorBatch> out;
    parser.feed(change.data(), change.size(), out);
    CHECK(out.empty());
    parser.drop_pending();
    parser.feed(gen.data(), gen.size(), out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].changes.empty());
}

TEST_CASE("truncated and foreign messages are ignored") {
    const std::vector<std::uint8_t> gen = unhex(testing::kCapturedSteps[0].datagrams[1]);
    EventParser parser;
    std::vector<MonitorBatch> out;
    for (std::size_t len = 0; len < gen.size(); ++len) parser.feed(gen.data(), len, out);
    CHECK(out.empty());
    std::vector<std::uint8_t> other = gen;
    other[5] = 1;  // subsystem ctnetlink, not nf_tables
    parser.feed(other.data(), other.size(), out);
    CHECK(out.empty());
}

TEST_CASE("filters: a batch touches our table only by family and name; own commits by pid or port") {
    MonitorBatch b;
    b.pid = 42;
    b.portid = 7;
    b.changes.push_back(Change{ObjectKind::rule, ChangeOp::removed, NFPROTO_IPV4, "nftpolicy", "input", "", 3, {}});
    CHECK_FALSE(touches(b, NFPROTO_INET, "nftpolicy"));
    b.changes.push_back(Change{ObjectKind::table, ChangeOp::removed, NFPROTO_INET, "nftpolicy", "", "", 1, {}});
    CHECK(touches(b, NFPROTO_INET, "nftpolicy"));
    CHECK_FALSE(touches(b, NFPROTO_INET, "other"));
    CHECK(is_own(b, Committer{42, 0}));
    CHECK(is_own(b, Committer{1000, 7}));
    CHECK_FALSE(is_own(b, Committer{1000, 8}));
    CHECK_FALSE(is_own(b, Committer{0, 0}));
}
