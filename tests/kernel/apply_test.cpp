// Kernel round trips: commit IR tables over netlink in a scratch network
// namespace and check what `nft` lists, what a re-apply sends, and that
// nothing outside our table moves.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

#include "emit/nft_text.h"
#include "kernel/apply.h"
#include "kernel/netlink_kernel.h"
#include "kernel/ir_samples.h"
#include "kernel/netns_guard.h"

using namespace nftpolicy;
using namespace nftpolicy::testing;

namespace {

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
        if (line.rfind("inet ", 0) == 0) {
            // "inet T CHAIN HANDLE [POSITION]": keep the first three fields.
            std::istringstream fields(line);
            std::string family, name, chain;
            fields >> family >> name >> chain;
            line = family + " " + name + " " + chain;
        }
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

// Whitespace runs collapsed: nft wraps long element lists at its own column.
std::string normalized(const std::string& text) {
    std::string out;
    for (char c : text) {
        const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
        if (!space) {
            out += c;
        } else if (out.empty() || out.back() != ' ') {
            out += ' ';
        }
    }
    return out;
}

// The normalized text split at each chain, sorted: a comparison that ignores
// the order of chains.
std::vector<std::string> chain_blocks(const std::string& text) {
    const std::string n = normalized(text);
    std::vector<std::string> blocks;
    std::size_t start = 0;
    for (std::size_t pos = n.find(" chain ", 1); pos != std::string::npos; pos = n.find(" chain ", pos + 1)) {
        blocks.push_back(n.substr(start, pos - start));
        start = pos;
    }
    blocks.push_back(n.substr(start));
    // The last block ends with the table's closing brace.
    blocks.back().erase(blocks.back().find_last_of('}'));
    for (std::string& b : blocks) {
        while (!b.empty() && b.back() == ' ') b.pop_back();
    }
    std::sort(blocks.begin(), blocks.end());
    return blocks;
}

}  // namespace

TEST_CASE("a committed table holds what nft itself makes of its listing", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
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
    flush_scratch_ruleset();
}

TEST_CASE("re-applying the same table sends nothing", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    const ir::Table t = rich_table();
    apply_ok(*k, t);
    auto again = apply_ok(*k, t);
    INFO(again.changes.size());
    for (const auto& c : again.changes) INFO(c);
    CHECK(again.changes.empty());
    CHECK(again.messages == 0);
    CHECK_FALSE(again.committed);
    flush_scratch_ruleset();
}

namespace {

// Variations on the rich table: no sets or maps, only IPv6, many elements.
std::vector<ir::Table> round_trip_tables() {
    std::vector<ir::Table> out{rich_table()};
    ir::Table bare = rich_table();
    bare.sets.clear();
    bare.maps.clear();
    bare.counters.clear();
    bare.chains.erase(bare.chains.begin(), bare.chains.begin() + 2);
    bare.chains[0].rules.erase(bare.chains[0].rules.begin() + 10);  // the vmap
    out.push_back(bare);
    ir::Table many = rich_table("other_name");
    for (std::uint32_t i = 0; i < 300; ++i) {
        const net::U128 a = v4("172.16.0.0").lo + 4 * i;
        many.sets[2].elements.push_back({a, a + 1});
    }
    auto by_lo = [](const net::Interval& a, const net::Interval& b) { return a.lo < b.lo; };
    edit_list(many.sets[2].elements, [&](auto& v) { std::sort(v.begin(), v.end(), by_lo); });  // the IR keeps them sorted
    many.sets[1].elements.push_back(v6("fe80::/10"));
    out.push_back(many);
    return out;
}

}  // namespace

TEST_CASE("after a netlink commit, nft lists exactly what the text emitter prints", "[kernel]") {
    auto k = open_scratch_kernel();
    for (const ir::Table& t : round_trip_tables()) {
        flush_scratch_ruleset();
        apply_ok(*k, t);
        const std::string listed = sh("nft -s list table inet " + t.name).out;
        const std::string text = emit::nft_text(t, emit::TextOptions{false});
        INFO(listed);
        INFO(text);
        CHECK(normalized(listed) == normalized(text));
    }
    flush_scratch_ruleset();
}

TEST_CASE("a chain policy change updates the chain; a priority change recreates it", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    ir::Table t = rich_table();
    apply_ok(*k, t);
    t.chains[3].base->policy = ir::ChainPolicy::drop;  // output: accept -> drop
    auto r = apply_ok(*k, t);
    CHECK(r.changes == std::vector<std::string>{"~ chain output: policy changed"});
    CHECK(r.messages == 1);
    CHECK(list("chain inet nftpolicy output").find("policy drop;") != std::string::npos);

    t.chains[2].base->priority = -5;  // input
    r = apply_ok(*k, t);
    CHECK(r.changes == std::vector<std::string>{"~ chain input: hook changed, recreated"});
    CHECK(list("chain inet nftpolicy input").find("priority filter - 5;") != std::string::npos);
    // A recreated chain is listed last (the kernel keeps creation order);
    // apart from the order, the table is what the text emitter prints.
    CHECK(chain_blocks(sh("nft -s list table inet nftpolicy").out) ==
          chain_blocks(emit::nft_text(t, emit::TextOptions{false})));
    CHECK(apply_ok(*k, t).changes.empty());
    flush_scratch_ruleset();
}
