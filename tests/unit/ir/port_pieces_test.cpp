// Port ranges are cut into disjoint pieces at every boundary, each piece
// knowing which flows cover it.
#include <catch2/catch.hpp>

#include "ir/port_pieces.h"

using namespace nftpolicy::ir;

TEST_CASE("overlapping ranges split at every boundary") {
    auto pieces = split_port_ranges({{3023, 4023, 0}, {3500, 3500, 1}});
    REQUIRE(pieces.size() == 3);
    CHECK(pieces[0] == PortPiece{3023, 3499, {0}});
    CHECK(pieces[1] == PortPiece{3500, 3500, {0, 1}});
    CHECK(pieces[2] == PortPiece{3501, 4023, {0}});
}

TEST_CASE("partial overlaps, gaps and identical ranges") {
    auto pieces = split_port_ranges({{100, 200, 2}, {150, 300, 0}, {400, 400, 1}, {150, 300, 1}});
    REQUIRE(pieces.size() == 4);
    CHECK(pieces[0] == PortPiece{100, 149, {2}});
    CHECK(pieces[1] == PortPiece{150, 200, {0, 1, 2}});
    CHECK(pieces[2] == PortPiece{201, 300, {0, 1}});
    CHECK(pieces[3] == PortPiece{400, 400, {1}});
}

TEST_CASE("adjacent pieces of the same owners merge; the top port works") {
    auto pieces = split_port_ranges(
        {{80, 80, 0}, {81, 90, 0}, {91, 91, 1}, {65000, 65535, 0}, {65535, 65535, 1}});
    REQUIRE(pieces.size() == 4);
    CHECK(pieces[0] == PortPiece{80, 90, {0}});
    CHECK(pieces[1] == PortPiece{91, 91, {1}});
    CHECK(pieces[2] == PortPiece{65000, 65534, {0}});
    CHECK(pieces[3] == PortPiece{65535, 65535, {0, 1}});
    CHECK(split_port_ranges({}).empty());
    auto whole = split_port_ranges({{0, 65535, 3}});
    REQUIRE(whole.size() == 1);
    CHECK(whole[0] == PortPiece{0, 65535, {3}});
}
