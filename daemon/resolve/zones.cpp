// Gateway zones (see zones.h).
#include "resolve/zones.h"

#include <algorithm>
#include <map>

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

std::vector<CrossingPath> crossing(const std::vector<ResolvedZone>& zones,
                                   const net::AddrSet& src, const net::AddrSet& dst) {
    if (zones.empty()) return {CrossingPath{}};
    const auto to = zones_covering(zones, dst);
    // Destination zones per source zone, then source zones per destination set.
    std::map<std::vector<std::size_t>, std::vector<std::size_t>> sources_by_targets;
    for (std::size_t a : zones_covering(zones, src)) {
        std::vector<std::size_t> targets;
        for (std::size_t b : to) {
            if (b != a) targets.push_back(b);
        }
        if (!targets.empty()) sources_by_targets[targets].push_back(a);
    }
    std::vector<CrossingPath> paths;
    for (const auto& [targets, sources] : sources_by_targets) {
        paths.push_back(CrossingPath{interfaces_of(zones, sources), interfaces_of(zones, targets)});
    }
    return paths;
}

}  // namespace nftpolicy::resolve
