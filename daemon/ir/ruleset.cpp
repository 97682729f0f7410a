// Provenance lookups and the flowtable-less variant of the IR; see ruleset.h.
#include "ir/ruleset.h"

#include <algorithm>

namespace nftpolicy::ir {

namespace {

bool holds(const net::IntervalList& list, net::U128 addr) {
    const auto& v = list.vec();
    auto it = std::upper_bound(v.begin(), v.end(), addr,
                               [](net::U128 a, const net::Interval& iv) { return a < iv.lo; });
    return it != v.begin() && std::prev(it)->hi >= addr;
}

}  // namespace

SourceSpan element_span(const AddrSet& set, net::U128 addr) {
    for (const ElementSource& s : set.sources) {
        if (holds(s.addrs, addr)) return s.span;
    }
    return set.span;
}

namespace {

bool offloads(const Rule& rule) {
    return std::any_of(rule.stmts.begin(), rule.stmts.end(),
                       [](const Stmt& s) { return std::holds_alternative<FlowOffload>(s.kind); });
}

}  // namespace

Table without_flowtable(Table table) {
    table.flowtable.reset();
    for (Chain& c : table.chains) std::erase_if(c.rules, offloads);
    return table;
}

}  // namespace nftpolicy::ir
