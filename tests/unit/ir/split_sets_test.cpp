// Splitting large address sets into a hash part (single addresses) and an
// interval part (ranges and prefixes): the parts, the doubled rules, and the
// sets left alone.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ir/split_sets.h"

using namespace nftpolicy;
using namespace nftpolicy::ir;

namespace {

// `singles` isolated addresses 10.0.0.0 + 2i, then `ranges` /30 prefixes.
net::IntervalList addresses(std::size_t singles, std::size_t ranges) {
    std::vector<net::Interval> v;
    for (std::size_t i = 0; i < singles; ++i) v.push_back({0x0a000000u + 2 * i, 0x0a000000u + 2 * i});
    for (std::size_t i = 0; i < ranges; ++i) v.push_back({0x0b000000u + 4 * i, 0x0b000000u + 4 * i + 3});
    return v;
}

Rule match_rule(const std::string& src, const std::string& dst = "") {
    Rule r;
    r.stmts.push_back(MatchAddrSet{net::Family::ipv4, MatchAddrSet::Field::saddr, src});
    if (!dst.empty()) r.stmts.push_back(MatchAddrSet{net::Family::ipv4, MatchAddrSet::Field::daddr, dst});
    r.stmts.push_back(CounterStmt{"flow_f"});
    r.stmts.push_back(Verdict{});
    r.comment = "flow:f";
    return r;
}

Table table_with(std::vector<AddrSet> sets, std::vector<Rule> rules) {
    Table t;
    t.sets = std::move(sets);
    t.chains.push_back(Chain{"in_tcp_22", std::nullopt, std::move(rules), {}});
    return t;
}

AddrSet set(std::string name, net::IntervalList elements) {
    return AddrSet{std::move(name), net::Family::ipv4, std::move(elements), "", {}, {}};
}

// The sets each rule of the chain matches, in order, joined by '+'.
std::vector<std::string> matched(const Table& t) {
    std::vector<std::string> out;
    for (const Rule& r : t.chains.at(0).rules) {
        std::string names;
        for (const Stmt& s : r.stmts) {
            if (const auto* m = std::get_if<MatchAddrSet>(&s.kind)) names += (names.empty() ? "" : "+") + m->set;
        }
        out.push_back(names);
    }
    return out;
}

}  // namespace

TEST_CASE("a small set stays one interval set") {
    const Table t = split_address_sets(table_with({set("g_a_v4", addresses(10, 2))}, {match_rule("g_a_v4")}), 16);
    REQUIRE(t.sets.size() == 1);
    CHECK(t.sets[0].interval);
    CHECK(t.sets[0].elements == addresses(10, 2));
    CHECK(matched(t) == std::vector<std::string>{"g_a_v4"});
}

TEST_CASE("a large set of single addresses becomes one hash set, its list shared") {
    const net::IntervalList list = addresses(20, 0);
    const Table t = split_address_sets(table_with({set("g_a_v4", list)}, {match_rule("g_a_v4")}), 16);
    REQUIRE(t.sets.size() == 1);
    CHECK_FALSE(t.sets[0].interval);
    CHECK(t.sets[0].name == "g_a_v4");
    REQUIRE(t.sets[0].elements.chunks().size() == list.chunks().size());
    CHECK(t.sets[0].elements.chunks()[0] == list.chunks()[0]);  // not copied
    CHECK(matched(t) == std::vector<std::string>{"g_a_v4"});
}

TEST_CASE("a large mixed set splits into disjoint parts and its rules double, hash part first") {
    const Table t = split_address_sets(table_with({set("g_a_v4", addresses(20, 3))}, {match_rule("g_a_v4")}), 16);
    REQUIRE(t.sets.size() == 2);
    CHECK(t.sets[0].name == "g_a_v4");
    CHECK_FALSE(t.sets[0].interval);
    CHECK(t.sets[0].elements == addresses(20, 0));
    CHECK(t.sets[0].size == 1024);
    CHECK(t.sets[1].name == "g_a_v4_ranges");
    CHECK(t.sets[1].size == 0);
    CHECK(t.sets[1].interval);
    CHECK(t.sets[1].elements.size() == 3);
    CHECK(t.sets[1].elements[0] == net::Interval{0x0b000000u, 0x0b000003u});
    CHECK(matched(t) == std::vector<std::string>{"g_a_v4", "g_a_v4_ranges"});
    const Rule& second = t.chains[0].rules[1];
    CHECK(second.comment == "flow:f");
    CHECK(std::get<CounterStmt>(second.stmts[1].kind).name == "flow_f");
}

TEST_CASE("a rule matching two split sets is written four times; other rules stay") {
    Table t = table_with({set("g_a_v4", addresses(20, 1)), set("g_b_v4", addresses(30, 2)), set("g_c_v4", addresses(2, 1))},
                         {match_rule("g_c_v4"), match_rule("g_a_v4", "g_b_v4"), match_rule("g_c_v4", "g_b_v4")});
    t = split_address_sets(std::move(t), 16);
    std::vector<std::string> names;
    for (const AddrSet& s : t.sets) names.push_back(s.name + (s.interval ? " interval" : " hash"));
    CHECK(names == std::vector<std::string>{"g_a_v4 hash", "g_a_v4_ranges interval", "g_b_v4 hash",
                                            "g_b_v4_ranges interval", "g_c_v4 interval"});
    CHECK(matched(t) == std::vector<std::string>{"g_c_v4", "g_a_v4+g_b_v4", "g_a_v4+g_b_v4_ranges",
                                                 "g_a_v4_ranges+g_b_v4", "g_a_v4_ranges+g_b_v4_ranges",
                                                 "g_c_v4+g_b_v4", "g_c_v4+g_b_v4_ranges"});
}

TEST_CASE("the default threshold splits from 1024 single addresses") {
    const Table below = split_address_sets(table_with({set("g_a_v4", addresses(1023, 1))}, {match_rule("g_a_v4")}));
    CHECK(below.sets.size() == 1);
    const Table at = split_address_sets(table_with({set("g_a_v4", addresses(1024, 1))}, {match_rule("g_a_v4")}));
    CHECK(at.sets.size() == 2);
}

TEST_CASE("a hash set's size leaves room for half as many again, in powers of two") {
    CHECK(hash_set_size(0) == 1024);
    CHECK(hash_set_size(682) == 1024);
    CHECK(hash_set_size(684) == 2048);
    CHECK(hash_set_size(1000000) == 2097152);
    CHECK(hash_set_size(1500000) == 4194304);
}
