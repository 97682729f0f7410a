// The whole site at once, for no particular host: every flow of the policy
// with its services and address families, and whether it is active in the
// chosen phases and gates. `nftpolicy matrix` reads the site from here; the
// per-host projection (resolve_policy) is what the rulesets are built from.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "policy/model.h"
#include "resolve/projection.h"
#include "support/diagnostic.h"

namespace nftpolicy::resolve {

// One flow of the site. Its group expressions point into the policy, which
// must outlive the Site; its services are copies (the built-in `ssh` lives in
// no policy).
struct SiteFlow {
    std::string id;
    const policy::GroupExpr* from = nullptr;
    const policy::GroupExpr* to = nullptr;  // nullptr: every host (the management access)
    std::vector<policy::Service> services;
    bool ipv4 = false;  // families the flow covers (both sides have them)
    bool ipv6 = false;
    bool active = false;  // exists in the chosen phases and gates
    std::optional<policy::GateRef> retired_by = {};
    std::optional<policy::GateRef> introduced_by = {};
};

struct Site {
    std::map<std::string, policy::Phase> phases;  // effective phase per migration
    std::set<std::string> flipped_gates;          // "migration.gate"
    std::vector<SiteFlow> flows;       // management first, then policy order; active or not
    std::vector<OmittedFlow> omitted;  // optional flows left out, policy order
};

// Model -> site. Checks the groups, services, gates and flows as
// resolve_policy does (not the hosts: no host is chosen; `options.host` is
// ignored) and reports every problem; nullopt if there was any error.
std::optional<Site> resolve_site(const policy::Policy& policy, const ResolveOptions& options,
                                 Diagnostics& diags);

}  // namespace nftpolicy::resolve
