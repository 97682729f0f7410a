// Address parsing (accepted forms and the exact error messages users see),
// the interval-set algebra, and the text forms nft prints.
#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <array>

#include "net/addr.h"

using namespace nftpolicy::net;

namespace {

AddressEntry entry(std::string_view text) {
    auto e = parse_address_entry(text);
    INFO(text);
    REQUIRE(e.has_value());
    return *e;
}

std::string error_of(std::string_view text) {
    auto e = parse_address_entry(text);
    INFO(text);
    REQUIRE_FALSE(e.has_value());
    return e.error().message;
}

AddrSet set_of(std::initializer_list<std::string_view> texts) {
    AddrSet s;
    for (auto t : texts) s.add(entry(t));
    return s;
}

U128 v6(std::string_view text) {
    return entry(text).range.lo;
}

}  // namespace

TEST_CASE("single addresses, prefixes and ranges parse to intervals") {
    auto a = entry("10.0.0.1");
    CHECK(a.family == Family::ipv4);
    CHECK(a.range == Interval{0x0a000001, 0x0a000001});

    auto p = entry("10.0.0.0/24");
    CHECK(p.range == Interval{0x0a000000, 0x0a0000ff});

    auto r = entry("10.0.0.1-10.0.0.9");
    CHECK(r.range == Interval{0x0a000001, 0x0a000009});
    CHECK(entry("10.0.0.1 - 10.0.0.9").range == r.range);

    auto all = entry("0.0.0.0/0");
    CHECK(all.range == Interval{0, 0xffffffffu});
    CHECK(entry("10.0.0.1/32").range == a.range);

    auto s6 = entry("fd00::1");
    CHECK(s6.family == Family::ipv6);
    CHECK(s6.range.lo == ((U128{0xfd00} << 112) | 1));

    auto p6 = entry("fd00::/48");
    CHECK(p6.range.lo == (U128{0xfd00} << 112));
    CHECK(p6.range.hi == ((U128{0xfd00} << 112) | ((U128{1} << 80) - 1)));
    CHECK(entry("::/0").range == Interval{0, ~U128{0}});
    CHECK(entry("fd00::1-fd00::9").range == Interval{v6("fd00::1"), v6("fd00::9")});
}

TEST_CASE("parse errors say what was expected") {
    CHECK(error_of("10.0.0.0/33") == "invalid IPv4 prefix length 33 (expected 0-32)");
    CHECK(error_of("fd00::/129") == "invalid IPv6 prefix length 129 (expected 0-128)");
    CHECK(error_of("10.0.0.0/x") == "invalid IPv4 prefix length 'x' (expected 0-32)");
    CHECK(error_of("10.0.0.0/") == "invalid IPv4 prefix length '' (expected 0-32)");
    CHECK(error_of("10.0.0.1/24") == "host bits set in 10.0.0.1/24; did you mean 10.0.0.0/24?");
    CHECK(error_of("fd00::1/64") == "host bits set in fd00::1/64; did you mean fd00::/64?");
    CHECK(error_of("10.0.0.9-10.0.0.1") == "range start 10.0.0.9 is above its end 10.0.0.1");
    CHECK(error_of("10.0.0.1-fd00::1") == "range mixes IPv4 and IPv6");
    CHECK(error_of("::ffff:10.0.0.1") ==
          "'::ffff:10.0.0.1' is an IPv4-mapped IPv6 address; write 10.0.0.1 for IPv4");
    CHECK(error_of("10.0.0.256") ==
          "invalid IPv4 address '10.0.0.256' (expected four numbers 0-255 like 10.0.0.1)");
    CHECK(error_of("10.0.0") ==
          "invalid IPv4 address '10.0.0' (expected four numbers 0-255 like 10.0.0.1)");
    CHECK(error_of("fd00:::1") ==
          "invalid IPv6 address 'fd00:::1' (expected an address like fd00::1)");
    CHECK(error_of("fe80::1%eth0") ==
          "invalid IPv6 address 'fe80::1%eth0' (expected an address like fd00::1); "
          "zone indexes like %eth0 are not allowed");
    CHECK(error_of("") == "empty address (expected an IPv4 or IPv6 address)");
    CHECK(
        error_of("10.0.0.0/24-10.0.1.0") ==
        "invalid address range '10.0.0.0/24-10.0.1.0' (expected a-b of two addresses, no prefix)");
}

TEST_CASE("IPv4 addresses are strict dotted quads, as inet_pton reads them") {
    CHECK(entry("0.0.0.0").range.lo == 0);
    CHECK(entry("255.255.255.255").range.lo == 0xffffffffu);
    CHECK(entry("10.64.0.2").range.lo == 0x0a400002u);
    CHECK(entry("100.200.1.0").range.lo == 0x64c80100u);
    for (const char* bad : {"1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.00", "256.1.1.1", "1234.1.1.1", "1..2.3",
                            ".1.2.3", "1.2.3.", "1.2.3.4x", "+1.2.3.4", "1.2.3.-4", "1.2.3.4.", "0x1.2.3.4"}) {
        INFO(bad);
        CHECK_FALSE(parse_address_entry(bad).has_value());
        std::array<unsigned char, 4> b{};
        CHECK(inet_pton(AF_INET, bad, b.data()) != 1);  // the same verdict as the C library
    }
}

TEST_CASE("parse_address accepts only a single address") {
    CHECK(parse_address("192.168.1.1").has_value());
    CHECK(parse_address("fd00::1").value().family == Family::ipv6);
    auto e = parse_address("10.0.0.0/8");
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().message == "expected a single address, not a prefix or range: '10.0.0.0/8'");
}

TEST_CASE("sets are normalized: sorted, disjoint, adjacent merged") {
    auto s = set_of({"10.0.0.5", "10.0.0.0/30", "10.0.0.4", "10.0.1.0/24", "10.0.0.2-10.0.0.3"});
    REQUIRE(s.v4.size() == 2);
    CHECK(s.v4[0] == Interval{0x0a000000, 0x0a000005});
    CHECK(s.v4[1] == Interval{0x0a000100, 0x0a0001ff});
    CHECK(s == set_of({"10.0.1.0/24", "10.0.0.0-10.0.0.5"}));
    CHECK(s.v6.empty());
    CHECK_FALSE(s.empty());
    CHECK(s.empty(Family::ipv6));
    // a wide interval swallows several narrower ones
    s.add(entry("10.0.0.0/16"));
    REQUIRE(s.v4.size() == 1);
    CHECK(s.v4[0] == entry("10.0.0.0/16").range);
}

TEST_CASE("union, intersection and difference") {
    auto a = set_of({"10.0.0.0/24", "fd00::/64"});
    auto b = set_of({"10.0.0.128/25", "10.0.1.0/24", "fd00::1"});
    auto u = set_union(a, b);
    CHECK(u == set_of({"10.0.0.0/23", "fd00::/64"}));
    auto i = set_intersection(a, b);
    CHECK(i == set_of({"10.0.0.128/25", "fd00::1"}));
    auto d = set_difference(a, b);
    CHECK(d == set_of({"10.0.0.0/25", "fd00::-fd00::0", "fd00::2-fd00::ffff:ffff:ffff:ffff"}));
    CHECK(set_difference(b, a) == set_of({"10.0.1.0/24"}));
    CHECK(set_difference(a, a).empty());
    // a hole in the middle splits one interval into two
    auto holed =
        set_difference(set_of({"10.0.0.0/24"}), set_of({"10.0.0.10-10.0.0.20", "10.0.0.30"}));
    CHECK(holed == set_of({"10.0.0.0-10.0.0.9", "10.0.0.21-10.0.0.29", "10.0.0.31-10.0.0.255"}));
    CHECK(a.intersects(b));
    CHECK_FALSE(set_of({"10.0.0.0/24"}).intersects(set_of({"10.0.1.0/24", "fd00::/8"})));
}

TEST_CASE("full, everything and contains, including the ends of the space") {
    auto all = AddrSet::everything();
    CHECK(all.full(Family::ipv4));
    CHECK(all.full(Family::ipv6));
    CHECK(all.contains(Family::ipv6, ~U128{0}));
    CHECK(all.contains(Family::ipv4, 0xffffffffu));
    CHECK_FALSE(set_of({"0.0.0.0/1"}).full(Family::ipv4));
    CHECK(set_of({"0.0.0.0/1", "128.0.0.0/1"}).full(Family::ipv4));
    auto rest = set_difference(all, set_of({"255.255.255.255", "::"}));
    CHECK_FALSE(rest.contains(Family::ipv4, 0xffffffffu));
    CHECK(rest.contains(Family::ipv4, 0xfffffffeu));
    CHECK_FALSE(rest.contains(Family::ipv6, 0));
    CHECK(rest.contains(Family::ipv6, 1));
    auto s = set_of({"10.0.0.0/24", "10.0.2.0/24"});
    CHECK(s.contains(Family::ipv4, 0x0a0002ff));
    CHECK_FALSE(s.contains(Family::ipv4, 0x0a000100));
    CHECK_FALSE(s.contains(Family::ipv6, 0x0a000001));
    CHECK(max_value(Family::ipv4) == 0xffffffffu);
}

TEST_CASE("addresses and intervals print the way nft lists them") {
    CHECK(format_address(Family::ipv4, 0x0a000001) == "10.0.0.1");
    CHECK(format_address(Family::ipv6, v6("fd00:0:0:0:0:0:0:1")) == "fd00::1");
    CHECK(format_address(Family::ipv6, v6("2001:db8:0:0:1:0:0:1")) == "2001:db8::1:0:0:1");
    CHECK(format_address(Family::ipv6, v6("2001:0db8:0000:1:1:1:1:1")) == "2001:db8:0:1:1:1:1:1");
    CHECK(format_address(Family::ipv6, 0) == "::");
    CHECK(format_interval(Family::ipv4, entry("10.0.0.7").range) == "10.0.0.7");
    CHECK(format_interval(Family::ipv4, entry("10.0.0.0/24").range) == "10.0.0.0/24");
    CHECK(format_interval(Family::ipv4, entry("0.0.0.0/0").range) == "0.0.0.0/0");
    CHECK(format_interval(Family::ipv4, entry("10.0.0.0-10.0.0.1").range) == "10.0.0.0/31");
    CHECK(format_interval(Family::ipv4, entry("10.0.0.1-10.0.0.9").range) == "10.0.0.1-10.0.0.9");
    CHECK(format_interval(Family::ipv6, entry("fd00::/48").range) == "fd00::/48");
    CHECK(format_interval(Family::ipv6, entry("::/0").range) == "::/0");
    CHECK(format_interval(Family::ipv6, entry("fd00::1-fd00::9").range) == "fd00::1-fd00::9");
}

TEST_CASE("address bytes are big-endian") {
    CHECK(address_bytes(Family::ipv4, 0x0a000102) == std::vector<std::uint8_t>{10, 0, 1, 2});
    auto b = address_bytes(Family::ipv6, v6("fd00::102"));
    REQUIRE(b.size() == 16);
    CHECK(b[0] == 0xfd);
    CHECK(b[1] == 0);
    CHECK(b[14] == 1);
    CHECK(b[15] == 2);
}
