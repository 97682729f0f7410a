// Cutting established connections (`nftpolicy migration complete
// --cut-established`): the conntrack table is read over ctnetlink
// (libnetfilter_conntrack) and exactly the entries a caller selects by their
// original-direction tuple are deleted. Without this, conntrack keeps a
// connection that a removed rule once accepted alive under `ct state
// established` until it closes. A deleted entry's next packet is seen as
// new, meets the ruleset without the legacy rule, and is dropped.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "net/addr.h"
#include "support/result.h"

namespace nftpolicy::kernel {

// The original-direction tuple of a TCP or UDP conntrack entry.
struct ConnTuple {
    net::Family family = net::Family::ipv4;
    net::U128 src = 0;
    net::U128 dst = 0;
    std::uint8_t proto = 0;  // IPPROTO_TCP or IPPROTO_UDP
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    friend bool operator==(const ConnTuple&, const ConnTuple&) = default;
};

using ConnSelector = std::function<bool(const ConnTuple&)>;

struct CutReport {
    std::vector<ConnTuple> selected;  // entries the selector chose
    std::size_t deleted = 0;          // of those, deleted now (others had closed meanwhile)
};

// Dumps the conntrack table (TCP and UDP, IPv4 and IPv6) of this network
// namespace and deletes the entries `select` chooses; with `dry_run`, only
// reports them. Nothing else in the table is touched.
Result<CutReport> cut_connections(const ConnSelector& select, bool dry_run);

}  // namespace nftpolicy::kernel
