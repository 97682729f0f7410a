// Provenance lookups and the flowtable-less variant of the IR; see ruleset.h.
#include "ir/ruleset.h"

#include <algorithm>

namespace nftpolicy::ir {

SourceSpan element_span(const AddrSet& set, net::U128 addr) {
    for (const ElementSource& s : set.sources) {
        if (s.addrs.contains(addr)) return s.span;
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
