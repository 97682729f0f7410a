// Kernel round trips: commit IR tables over netlink in a scratch network
// namespace and check what `nft` lists, what a re-apply sends, and that
// nothing outside our table moves.
#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>
#include <sstream>
#include <vector>

#include "kernel/apply.h"
#include "kernel/netlink_kernel.h"
#include "kernel/ir_samples.h"
#include "kernel/netns_guard.h"

using namespace nftpolicy;
using namespace nftpolicy::testing;

namespace {

std::unique_ptr<kernel::NetlinkKernel> open_kernel() {
    REQUIRE(in_scratch_netns());
    auto k = kernel::NetlinkKernel::open();
    REQUIRE(k);
    return std::move(*k);
}

kernel::ApplyReport apply_ok(kernel::RulesetKernel& k, const ir::Table& t) {
    auto r = kernel::apply(k, t);
    if (!r) FAIL(r.error().message);
    return *r;
}

std::string list(const std::string& what) { return sh("nft list " + what + " 2>&1").out; }

// `nft --debug=netlink list` of a table with rule handles and positions
// dropped: the expressions and set elements the kernel holds.
std::string kernel_objects(const std::string& table) {
    std::string out = sh("nft --debug=netlink list table " + table + " 2>&1").out;
    out = std::regex_replace(out, std::regex(R"(^(inet \S+ \S+)( \d+)+$)", std::regex::multiline), "$1");
    // Hash sets dump in hash order: sort each run of element lines.
    std::istringstream in(out);
    std::string line, result;
    std::vector<std::string> run;
    auto flush = [&] {
        std::sort(run.begin(), run.end());
        for (const auto& l : run) result += l + "\n";
        run.clear();
    };
    while (std::getline(in, line)) {
        if (line.rfind("\telement ", 0) == 0) {
            run.push_back(line);
            continue;
        }
        flush();
        result += line + "\n";
    }
    flush();
    return result;
}

void reset_ruleset() { REQUIRE(sh("nft flush ruleset").status == 0); }

}  // namespace

TEST_CASE("a committed table holds what nft itself makes of its listing", "[kernel]") {
    auto k = open_kernel();
    reset_ruleset();
    const ir::Table t = rich_table();
    auto report = apply_ok(*k, t);
    CHECK(report.committed);
    const std::string listed = list("table inet nftpolicy");
    const std::string objects = kernel_objects("inet nftpolicy");
    INFO(listed);
    // Load nft's own listing of our table with nft and compare: same text,
    // same expressions and elements.
    REQUIRE(sh("nft delete table inet nftpolicy").status == 0);
    REQUIRE(sh("printf '%s' '" + listed + "' | nft -f -").status == 0);
    CHECK(list("table inet nftpolicy") == listed);
    CHECK(kernel_objects("inet nftpolicy") == objects);
    reset_ruleset();
}

TEST_CASE("re-applying the same table sends nothing", "[kernel]") {
    auto k = open_kernel();
    reset_ruleset();
    const ir::Table t = rich_table();
    apply_ok(*k, t);
    auto again = apply_ok(*k, t);
    INFO(again.changes.size());
    for (const auto& c : again.changes) INFO(c);
    CHECK(again.changes.empty());
    CHECK(again.messages == 0);
    CHECK_FALSE(again.committed);
    reset_ruleset();
}
