// Host membership in group expressions (see membership.h for the two kinds of host).
#include "resolve/membership.h"

#include "resolve/suggest.h"

namespace nftpolicy::resolve {

using policy::GroupExpr;

HostMembership::HostMembership(const policy::Host& host, GroupEvaluator& groups, Diagnostics& diags)
    : host_(host), groups_(groups) {
    for (const auto& role : host.roles) {
        if (!groups.is_defined(role.name)) {
            diags.error(role.span, "role '" + role.name + "' of host '" + host.name +
                                       "' is not a defined group" +
                                       did_you_mean(role.name, groups.names()));
            continue;
        }
        roles_.insert(role.name);
        GroupExpr ref;
        ref.name = role.name;
        ref.span = role.span;
        if (auto value = groups.evaluate(ref)) own_ = net::set_union(own_, *value);
    }
    for (const auto& address : host.addresses) own_.add(address.entry);
}

bool HostMembership::member_of(const GroupExpr& expr, const net::AddrSet& value) const {
    // Declared roles win over addresses: a host that has both (the loader
    // rejects that) is taken at its word.
    if (!host_.roles.empty()) {
        std::set<std::string> visiting;
        return plays(expr, visiting);
    }
    if (!host_.addresses.empty()) return own_.intersects(value);
    return false;
}

bool HostMembership::plays(const GroupExpr& expr, std::set<std::string>& visiting) const {
    switch (expr.op) {
        case GroupExpr::Op::ref:
            break;
        case GroupExpr::Op::union_:
            return plays(expr.operands[0], visiting) || plays(expr.operands[1], visiting);
        case GroupExpr::Op::intersection:
            return plays(expr.operands[0], visiting) && plays(expr.operands[1], visiting);
        case GroupExpr::Op::difference:
            return plays(expr.operands[0], visiting) && !plays(expr.operands[1], visiting);
    }
    if (expr.name == policy::kGroupAny || roles_.count(expr.name)) return true;
    const GroupExpr* definition = groups_.expression_of(expr.name);
    // A cycle has been reported by the evaluator; here it just means "no".
    if (!definition || !visiting.insert(expr.name).second) return false;
    bool result = plays(*definition, visiting);
    visiting.erase(expr.name);
    return result;
}

}  // namespace nftpolicy::resolve
