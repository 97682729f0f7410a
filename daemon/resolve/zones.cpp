// Gateway zones (see zones.h).
#include "resolve/zones.h"

#include <algorithm>

namespace nftpolicy::resolve {

namespace {

std::vector<std::string> interface_names(const policy::Zone& zone) {
    std::vector<std::string> names;
    for (const auto& interface : zone.interfaces) names.push_back(interface.name);
    return names;
}

// Zones covering `side`, as indexes into `zones`.
std::vector<std::size_t> zones_covering(const std::vector<ResolvedZone>& zones,
                                        const net::AddrSet& side) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < zones.size(); ++i) {
        if (zones[i].networks.intersects(side)) out.push_back(i);
    }
    return out;
}

std::vector<std::string> interfaces_of(const std::vector<ResolvedZone>& zones,
                                       const std::vector<std::size_t>& which) {
    std::vector<std::string> names;
    for (std::size_t i : which) {
        names.insert(names.end(), zones[i].interfaces.begin(), zones[i].interfaces.end());
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

}  // namespace

std::optional<std::vector<ResolvedZone>> resolve_zones(const policy::Host& host,
                                                       GroupEvaluator& groups) {
    std::vector<ResolvedZone> zones;
    net::AddrSet covered;  // by zones that declare networks
    bool ok = true;
    for (const auto& zone : host.zones) {
        ResolvedZone resolved{zone.name, interface_names(zone), {}};
        if (zone.networks) {
            auto value = groups.evaluate_used(*zone.networks);
            ok = ok && value.has_value();
            if (value) resolved.networks = *value;
            covered = net::set_union(covered, resolved.networks);
        }
        zones.push_back(std::move(resolved));
    }
    // Zones without networks take the rest, once every declared network is known.
    net::AddrSet rest = net::set_difference(net::AddrSet::everything(), covered);
    for (std::size_t i = 0; i < zones.size(); ++i) {
        if (!host.zones[i].networks) zones[i].networks = rest;
    }
    if (!ok) return std::nullopt;
    return zones;
}

std::optional<Crossing> crossing(const std::vector<ResolvedZone>& zones, const net::AddrSet& src,
                                 const net::AddrSet& dst) {
    if (zones.empty()) return Crossing{};
    auto from = zones_covering(zones, src);
    auto to = zones_covering(zones, dst);
    // A flow whose only zone pairs are (z, z) stays on one side of the gateway.
    bool crosses = false;
    for (std::size_t a : from) {
        for (std::size_t b : to) crosses = crosses || a != b;
    }
    if (!crosses) return std::nullopt;
    return Crossing{interfaces_of(zones, from), interfaces_of(zones, to)};
}

}  // namespace nftpolicy::resolve
