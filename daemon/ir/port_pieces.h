// Splitting overlapping port ranges into disjoint pieces.
//
// A verdict map cannot hold overlapping intervals, yet flows overlap freely
// (one opens 3023-4023, another 3500). Lowering therefore cuts the port space
// at every range boundary and gives each piece the list of flows that cover
// it: 3023-4023 (A) and 3500 (B) become 3023-3499 [A], 3500 [A, B],
// 3501-4023 [A]. Adjacent pieces with the same owners are merged back, so
// a flow written as [80, 81-90] still costs one piece.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nftpolicy::ir {

// One input range and the index of the flow it belongs to.
struct OwnedPortRange {
    std::uint16_t lo = 0;
    std::uint16_t hi = 0;
    std::size_t owner = 0;
};

struct PortPiece {
    std::uint16_t lo = 0;
    std::uint16_t hi = 0;
    std::vector<std::size_t> owners;  // ascending, no duplicates
    friend bool operator==(const PortPiece&, const PortPiece&) = default;
};

// Disjoint pieces covering exactly the union of `ranges`, sorted by port.
std::vector<PortPiece> split_port_ranges(const std::vector<OwnedPortRange>& ranges);

}  // namespace nftpolicy::ir
