// One policy flow with its references followed: both endpoints evaluated,
// services looked up, address families intersected. Every flow of the policy
// goes through here, active or not, so that a policy is fully checked
// whatever the phase and whichever host it is compiled for.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "net/addr.h"
#include "policy/model.h"
#include "resolve/groups.h"
#include "resolve/projection.h"
#include "resolve/services.h"
#include "support/diagnostic.h"

namespace nftpolicy::resolve {

struct ResolvedFlow {
    const policy::Flow* flow = nullptr;
    net::AddrSet from;
    net::AddrSet to;
    std::vector<const policy::Service*> services;
    bool ipv4 = false;  // both endpoints have addresses of the family
    bool ipv6 = false;
};

// A flow either resolves, or (an optional flow with an empty side) is left out.
using FlowOutcome = std::variant<ResolvedFlow, OmittedFlow>;

// nullopt after reporting every problem of the flow. An empty side is an
// error for a required flow (its note says how to disable the flow) and
// leaves an optional one out.
std::optional<FlowOutcome> resolve_flow(const policy::Flow& flow, GroupEvaluator& groups,
                                         const ServiceTable& services, Diagnostics& diags);

// The ids in the policy's `disabled_flows`, each checked to name a flow
// (an unknown id is reported).
std::set<std::string> disabled_ids(const policy::Policy& policy, Diagnostics& diags);

// "IPv4 only", "IPv6 only", "IPv4 and IPv6" (or "empty").
std::string describe_families(const net::AddrSet& set);

}  // namespace nftpolicy::resolve
