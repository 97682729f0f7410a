// Gateway zones: which interfaces a forwarded flow enters and leaves by.
//
// A zone covers its evaluated `networks`; a zone without networks (an uplink)
// covers what no zone with networks covers. A flow crosses the gateway when
// some zone covering its source differs from some zone covering its
// destination; it is forwarded between exactly those pairs of zones.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "net/addr.h"
#include "policy/model.h"
#include "resolve/groups.h"
#include "support/diagnostic.h"

namespace nftpolicy::resolve {

struct ResolvedZone {
    std::string name;
    std::vector<std::string> interfaces;
    net::AddrSet networks;
};

// The host's zones with their networks evaluated; nullopt after an error
// (an unknown group, networks that resolve to no address).
std::optional<std::vector<ResolvedZone>> resolve_zones(const policy::Host& host,
                                                       GroupEvaluator& groups);

// One way through the gateway: entering by any of `iifnames` and leaving by
// any of `oifnames` is a pair of different zones the flow crosses.
struct CrossingPath {
    std::vector<std::string> iifnames;  // sorted, unique
    std::vector<std::string> oifnames;
};

// How a flow from `src` to `dst` crosses the gateway: exactly its pairs of
// (source zone, different destination zone), grouped so that each path is a
// full product of its interfaces. A flow from zones A and B to zone B is the
// path A -> B alone: B -> B stays inside B and must not be forwarded (a
// union of interfaces, `iifname {A, B} oifname B`, would let it hairpin).
// Source zones that reach the same destination zones share a path. Empty when
// the flow does not cross; without zones one path on any interface.
std::vector<CrossingPath> crossing(const std::vector<ResolvedZone>& zones,
                                   const net::AddrSet& src, const net::AddrSet& dst);

}  // namespace nftpolicy::resolve
