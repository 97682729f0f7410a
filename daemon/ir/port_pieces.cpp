// See port_pieces.h. The sweep is quadratic in the number of ranges of one
// protocol and direction, which is at most a few hundred in any policy; the
// cost is paid once per compile, never per packet.
#include "ir/port_pieces.h"

#include <algorithm>

namespace nftpolicy::ir {

namespace {

// Every port where coverage may change: each range start and the port after
// each range end (65536 for a range ending at 65535, hence 32 bits).
std::vector<std::uint32_t> boundaries(const std::vector<OwnedPortRange>& ranges) {
    std::vector<std::uint32_t> points;
    for (const auto& r : ranges) {
        points.push_back(r.lo);
        points.push_back(std::uint32_t{r.hi} + 1);
    }
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());
    return points;
}

std::vector<std::size_t> owners_of(const std::vector<OwnedPortRange>& ranges, std::uint32_t port) {
    std::vector<std::size_t> owners;
    for (const auto& r : ranges)
        if (r.lo <= port && port <= r.hi) owners.push_back(r.owner);
    std::sort(owners.begin(), owners.end());
    owners.erase(std::unique(owners.begin(), owners.end()), owners.end());
    return owners;
}

}  // namespace

std::vector<PortPiece> split_port_ranges(const std::vector<OwnedPortRange>& ranges) {
    std::vector<PortPiece> pieces;
    auto points = boundaries(ranges);
    for (std::size_t i = 0; i + 1 < points.size(); ++i) {
        auto owners = owners_of(ranges, points[i]);
        if (owners.empty()) continue;  // a gap between ranges
        auto lo = static_cast<std::uint16_t>(points[i]);
        auto hi = static_cast<std::uint16_t>(points[i + 1] - 1);
        if (!pieces.empty() && pieces.back().owners == owners && pieces.back().hi + 1 == lo)
            pieces.back().hi = hi;
        else
            pieces.push_back({lo, hi, std::move(owners)});
    }
    return pieces;
}

}  // namespace nftpolicy::ir
