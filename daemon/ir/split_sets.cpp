// Address sets split into a hash part and an interval part; see split_sets.h.
#include "ir/split_sets.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace nftpolicy::ir {

namespace {

// The two parts of one set. Chunks of the list that are all single
// addresses (or all prefixes and ranges) are shared, not copied: a
// million-address inventory costs no second 32 MB list, and a set rebuilt
// after a one-address edit shares all but a chunk with the last one.
struct Parts {
    net::IntervalList singles;
    net::IntervalList ranges;
};

Parts partition(const net::IntervalList& list) {
    auto [singles, ranges] = net::partition_singles(list);
    return {std::move(singles), std::move(ranges)};
}

// Splits `set` in place into its hash part; returns the interval part, if any.
std::optional<AddrSet> split_one(AddrSet& set) {
    Parts parts = partition(set.elements);
    set.elements = std::move(parts.singles);
    set.interval = false;
    set.size = hash_set_size(set.elements.size());
    if (parts.ranges.empty()) return std::nullopt;
    AddrSet ranges = set;
    ranges.name = ranges_set_name(set.name);
    ranges.elements = std::move(parts.ranges);
    ranges.interval = true;
    ranges.size = 0;
    return ranges;
}

// Whether `set` has enough single addresses to be worth splitting (each
// chunk of the list knows its count).
bool worth_splitting(const AddrSet& set, std::size_t min_singles) {
    return set.interval && set.elements.size() >= min_singles && set.elements.singles() >= min_singles;
}

// Splits the large sets; returns, by the hash part's name, the name of the
// interval part of those that have one (the rules matching them double).
std::map<std::string, std::string> split_sets(std::vector<AddrSet>& sets, std::size_t min_singles) {
    std::map<std::string, std::string> doubled;
    std::vector<AddrSet> out;
    out.reserve(sets.size());
    for (AddrSet& set : sets) {
        std::optional<AddrSet> ranges = worth_splitting(set, min_singles) ? split_one(set) : std::nullopt;
        out.push_back(std::move(set));
        if (!ranges) continue;
        doubled[out.back().name] = ranges->name;
        out.push_back(std::move(*ranges));
    }
    sets = std::move(out);
    return doubled;
}

// The first statement at or after `from` that matches a doubled set.
std::size_t next_doubled(const Rule& rule, std::size_t from, const std::map<std::string, std::string>& doubled) {
    for (std::size_t i = from; i < rule.stmts.size(); ++i) {
        const auto* m = std::get_if<MatchAddrSet>(&rule.stmts[i].kind);
        if (m != nullptr && doubled.count(m->set)) return i;
    }
    return rule.stmts.size();
}

// Appends the variants of `rule` from statement `from` on: each doubled
// set's hash part first, then its interval part.
void expand(Rule rule, std::size_t from, const std::map<std::string, std::string>& doubled, std::vector<Rule>& out) {
    const std::size_t i = next_doubled(rule, from, doubled);
    if (i == rule.stmts.size()) {
        out.push_back(std::move(rule));
        return;
    }
    Rule ranges = rule;
    auto& m = std::get<MatchAddrSet>(ranges.stmts[i].kind);
    m.set = doubled.at(m.set);
    expand(std::move(rule), i + 1, doubled, out);
    expand(std::move(ranges), i + 1, doubled, out);
}

void double_rules(Chain& chain, const std::map<std::string, std::string>& doubled) {
    std::vector<Rule> rules;
    rules.reserve(chain.rules.size());
    for (Rule& rule : chain.rules) expand(std::move(rule), 0, doubled, rules);
    chain.rules = std::move(rules);
}

}  // namespace

std::string ranges_set_name(const std::string& set) { return set + "_ranges"; }

std::uint32_t hash_set_size(std::size_t count) {
    std::uint64_t size = 1024;
    while (size < count + count / 2) size *= 2;
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(size, 1ull << 31));
}

Table split_address_sets(Table table, std::size_t min_singles) {
    const std::map<std::string, std::string> doubled = split_sets(table.sets, min_singles);
    if (doubled.empty()) return table;
    for (Chain& chain : table.chains) double_rules(chain, doubled);
    return table;
}

}  // namespace nftpolicy::ir
