// ICMP/ICMPv6 names match nft's tables in both directions.
#include <catch2/catch.hpp>

#include "net/icmp.h"

using namespace nftpolicy::net;

TEST_CASE("icmp names map to nft's type numbers") {
    CHECK(icmp_type_by_name(Family::ipv4, "echo-request") == 8);
    CHECK(icmp_type_by_name(Family::ipv4, "destination-unreachable") == 3);
    CHECK(icmp_type_by_name(Family::ipv4, "address-mask-reply") == 18);
    CHECK(icmp_type_by_name(Family::ipv6, "echo-request") == 128);
    CHECK(icmp_type_by_name(Family::ipv6, "nd-neighbor-solicit") == 135);
    CHECK(icmp_type_by_name(Family::ipv6, "mld2-listener-report") == 143);
    CHECK(icmp_type_by_name(Family::ipv6, "mld-listener-reduction") == 132);
    CHECK_FALSE(icmp_type_by_name(Family::ipv4, "packet-too-big").has_value());
    CHECK_FALSE(icmp_type_by_name(Family::ipv6, "source-quench").has_value());
    CHECK_FALSE(icmp_type_by_name(Family::ipv4, "Echo-Request").has_value());
}

TEST_CASE("icmp types print by nft name, or as a number") {
    CHECK(icmp_type_name(Family::ipv4, 0) == "echo-reply");
    CHECK(icmp_type_name(Family::ipv4, 11) == "time-exceeded");
    CHECK(icmp_type_name(Family::ipv6, 2) == "packet-too-big");
    CHECK(icmp_type_name(Family::ipv6, 132) == "mld-listener-done");
    CHECK(icmp_type_name(Family::ipv4, 200) == "200");
    CHECK(icmp_type_name(Family::ipv6, 0) == "0");
}

TEST_CASE("name lists are complete, canonical and round-trip") {
    for (Family f : {Family::ipv4, Family::ipv6}) {
        auto names = icmp_type_names(f);
        CHECK(names.size() == (f == Family::ipv4 ? 15u : 18u));
        for (const auto& n : names) {
            auto t = icmp_type_by_name(f, n);
            REQUIRE(t.has_value());
            CHECK(icmp_type_name(f, *t) == n);
        }
    }
}
