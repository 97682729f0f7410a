// The status record's ruleset hash: taken from the IR without printing big
// sets, yet sensitive to every element and every statement.
#include <catch2/catch.hpp>

#include "kernel/apply_record.h"

using namespace nftpolicy;

namespace {

ir::Table table_with(std::vector<net::Interval> elements, std::string comment = "c") {
    ir::Table t;
    t.name = "t";
    t.sets.push_back(ir::AddrSet{"s_v4", net::Family::ipv4, net::IntervalList(std::move(elements)), comment, {}});
    ir::Chain input{"input", ir::BaseChain{}, {}, {}};
    input.rules.push_back(ir::Rule{{ir::MatchAddrSet{net::Family::ipv4, ir::MatchAddrSet::Field::saddr, "s_v4"},
                                    ir::Verdict{ir::Verdict::Kind::accept, ""}},
                                   "", {}});
    t.chains.push_back(std::move(input));
    return t;
}

}  // namespace

TEST_CASE("ruleset hash of the IR: stable, and changed by any element or statement") {
    auto a = table_with({{0x0a000001, 0x0a000001}, {0x0a000003, 0x0a000003}});
    auto same = table_with({{0x0a000001, 0x0a000001}, {0x0a000003, 0x0a000003}});
    CHECK(kernel::ruleset_hash(a) == kernel::ruleset_hash(same));
    CHECK(kernel::ruleset_hash(a).size() == 16);
    auto one_address = table_with({{0x0a000001, 0x0a000001}, {0x0a000005, 0x0a000005}});
    CHECK(kernel::ruleset_hash(a) != kernel::ruleset_hash(one_address));
    auto other_comment = table_with({{0x0a000001, 0x0a000001}, {0x0a000003, 0x0a000003}}, "d");
    CHECK(kernel::ruleset_hash(a) != kernel::ruleset_hash(other_comment));
    auto drop = a;
    std::get<ir::Verdict>(drop.chains[0].rules[0].stmts[1].kind).kind = ir::Verdict::Kind::drop;
    CHECK(kernel::ruleset_hash(a) != kernel::ruleset_hash(drop));
    // Hashing left the caller's sets untouched.
    CHECK(a.sets[0].elements.size() == 2);
}
