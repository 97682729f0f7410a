// Projection of resolved flows onto one host or gateway: which chain each
// flow lands in and which of its sides must be matched there.
//
//  - input: the host is in `to`; the source is matched, the destination (the
//    host itself) is not.
//  - output (egress filtering only): the host is in `from`; the destination
//    is matched, the source is not.
//  - forward (gateways): the flow crosses the gateway between two zones; both
//    sides are matched, on the zones' interfaces.
// A gateway is a host too: flows to (and, with egress, from) the gateway
// itself also become input (output) flows.
// A side that is the whole address space in both families is never matched.
#pragma once

#include <optional>
#include <vector>

#include "policy/model.h"
#include "resolve/flows.h"
#include "resolve/membership.h"
#include "resolve/phases.h"
#include "resolve/projection.h"
#include "resolve/zones.h"

namespace nftpolicy::resolve {

// What projection needs to know about the machine it compiles for.
struct Target {
    const HostMembership* host = nullptr;
    policy::HostMode mode = policy::HostMode::host;
    bool egress = false;
    const std::vector<ResolvedZone>* zones = nullptr;  // gateways only
};

// Appends the projections of one active flow (zero, one or several) to `out`.
void project_flow(const ResolvedFlow& flow, const Target& target, std::vector<ProjectedFlow>& out);

// The always-allowed management input, from `from` (evaluated `from_set`) to
// the host itself; nullopt after reporting that it can match no family.
std::optional<ProjectedFlow> management_flow(const policy::Management& management,
                                             const net::AddrSet& from_set,
                                             const std::vector<const policy::Service*>& services,
                                             const HostMembership& host, Diagnostics& diags);

}  // namespace nftpolicy::resolve
