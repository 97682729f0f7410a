// Gateway zones: which interfaces a forwarded flow enters and leaves by.
//
// A zone covers its evaluated `networks`; a zone without networks (an uplink)
// covers what no zone with networks covers. A flow crosses the gateway when
// some zone covering its source differs from some zone covering its
// destination; it enters by the interfaces of every zone covering its source
// and leaves by those of every zone covering its destination.
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

struct Crossing {
    std::vector<std::string> iifnames;  // sorted, unique
    std::vector<std::string> oifnames;
};

// How a flow from `src` to `dst` crosses the gateway; nullopt when it does not.
// Without zones every flow crosses, on any interface.
std::optional<Crossing> crossing(const std::vector<ResolvedZone>& zones, const net::AddrSet& src,
                                 const net::AddrSet& dst);

}  // namespace nftpolicy::resolve
