// Which groups this host belongs to. A host declares its roles (group names)
// or its own addresses:
//  - role-based: membership is the boolean value of the expression, a name
//    being true when it is one of the roles (or `any`); a group defined by an
//    expression is looked through, so roles [backend, agent_handler] make the
//    host a member of `colocated = "backend & agent_handler"`.
//  - address-based: the host is a member when its addresses intersect the
//    expression's address set.
// A host with neither (the loader rejects it) is in no group.
#pragma once

#include <set>
#include <string>

#include "net/addr.h"
#include "policy/model.h"
#include "resolve/groups.h"
#include "support/diagnostic.h"

namespace nftpolicy::resolve {

class HostMembership {
  public:
    // Reports roles that are not defined groups.
    HostMembership(const policy::Host& host, GroupEvaluator& groups, Diagnostics& diags);

    // Whether the host is in `expr`, whose address set is `value`.
    bool member_of(const policy::GroupExpr& expr, const net::AddrSet& value) const;

    // The host's own addresses: its `addresses`, or the union of its role
    // groups. Empty when unknown.
    const net::AddrSet& own_addresses() const { return own_; }
    const policy::Host& host() const { return host_; }

  private:
    bool plays(const policy::GroupExpr& expr, std::set<std::string>& visiting) const;

    const policy::Host& host_;
    GroupEvaluator& groups_;
    std::set<std::string> roles_;
    net::AddrSet own_;
};

}  // namespace nftpolicy::resolve
