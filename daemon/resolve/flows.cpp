// Flow references and address families (see flows.h).
#include "resolve/flows.h"

namespace nftpolicy::resolve {

using net::Family;

std::string describe_families(const net::AddrSet& set) {
    bool v4 = !set.empty(Family::ipv4);
    bool v6 = !set.empty(Family::ipv6);
    if (v4 && v6) return "IPv4 and IPv6";
    if (v4) return "IPv4 only";
    if (v6) return "IPv6 only";
    return "empty";
}

std::optional<ResolvedFlow> resolve_flow(const policy::Flow& flow, GroupEvaluator& groups,
                                         const ServiceTable& services, Diagnostics& diags) {
    // Everything is looked at before giving up, so one run reports it all.
    auto from = groups.evaluate_used(flow.from);
    auto to = groups.evaluate_used(flow.to);
    auto found = services.find_all(flow.services, diags);
    if (!from || !to || !found) return std::nullopt;

    ResolvedFlow resolved{&flow, *from, *to, *found, false, false};
    // A family is matched only if both ends have it, so that a flow never
    // opens IPv6 (or IPv4) wider than its endpoints say.
    resolved.ipv4 = !from->empty(Family::ipv4) && !to->empty(Family::ipv4);
    resolved.ipv6 = !from->empty(Family::ipv6) && !to->empty(Family::ipv6);
    if (!resolved.ipv4 && !resolved.ipv6) {
        diags.error(flow.span, "flow '" + flow.id + "' can match no address family: 'from' is " +
                                   describe_families(*from) + " and 'to' is " +
                                   describe_families(*to));
        return std::nullopt;
    }
    return resolved;
}

}  // namespace nftpolicy::resolve
