// IP addresses as intervals, and normalized interval sets with the set algebra
// that group expressions need (union, intersection, difference).
//
// Both families use unsigned __int128 values; an IPv4 address occupies the low
// 32 bits. An AddrSet keeps each family's intervals sorted, disjoint and with
// adjacent intervals merged, so two equal sets compare equal.
//
// Example:
//   auto a = parse_address_entry("10.0.0.0/24");    // Interval 10.0.0.0-10.0.0.255
//   AddrSet s; s.add(*a);
//   s = set_difference(s, AddrSet::of(*parse_address_entry("10.0.0.128/25")));
//   format_interval(Family::ipv4, s.v4[0]) == "10.0.0.0/25"
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/interval_list.h"
#include "support/result.h"

namespace nftpolicy::net {

enum class Family { ipv4, ipv6 };

// One parsed address entry: a single address, a CIDR prefix or a range "a-b".
struct AddressEntry {
    Family family = Family::ipv4;
    Interval range;
};

// Parses "10.0.0.1", "10.0.0.0/24", "10.0.0.1-10.0.0.9", "fd00::1",
// "fd00::/48", "fd00::1-fd00::9". Errors (as Error::message, no location):
// malformed address, prefix length out of range, host bits set in a prefix
// ("did you mean 10.0.0.0/24?"), range with lo > hi, range mixing families,
// IPv4-mapped IPv6 written as IPv6 (ambiguous family).
Result<AddressEntry> parse_address_entry(std::string_view text);

// Parses a single address (no prefix, no range) of either family.
Result<AddressEntry> parse_address(std::string_view text);

// Normalized set of intervals for both families.
struct AddrSet {
    IntervalList v4;
    IntervalList v6;

    static AddrSet of(const AddressEntry& e);
    static AddrSet everything();  // 0.0.0.0/0 and ::/0
    // Builds a set from many entries in O(n log n) (add() is O(n) each).
    static AddrSet from_entries(const std::vector<AddressEntry>& entries);
    void add(const AddressEntry& e);
    void add(Family f, Interval iv);

    const IntervalList& family(Family f) const { return f == Family::ipv4 ? v4 : v6; }
    bool empty() const { return v4.empty() && v6.empty(); }
    bool empty(Family f) const { return family(f).empty(); }
    // True when the family's set is the whole address space.
    bool full(Family f) const;
    bool contains(Family f, U128 addr) const;
    bool intersects(const AddrSet& other) const;
    friend bool operator==(const AddrSet&, const AddrSet&) = default;
};

// Sorts and merges an unordered list of one family's intervals, in place.
void normalize(std::vector<Interval>& list);

// Collects one family's intervals into a normalized list: straight into
// chunks while they come sorted and apart (an IPAM export of hosts: no
// second copy of a million-interval list), else into a vector to normalize.
class IntervalCollector {
public:
    void add(const Interval& iv);
    IntervalList finish() &&;

private:
    IntervalList::Builder built_;
    std::optional<Interval> last_;
    std::vector<Interval> loose_;
    bool sorted_ = true;
};

AddrSet set_union(const AddrSet& a, const AddrSet& b);
AddrSet set_intersection(const AddrSet& a, const AddrSet& b);
AddrSet set_difference(const AddrSet& a, const AddrSet& b);

// The largest value of a family (0xffffffff or 2^128-1).
U128 max_value(Family f);

// Text of one address ("10.0.0.1", "fd00::1", RFC 5952 compressed form, as nft prints).
std::string format_address(Family f, U128 addr);
// Text of one interval the way `nft list` prints an interval-set element:
// "10.0.0.1" for a single address, "10.0.0.0/24" when it is exactly a prefix,
// otherwise "10.0.0.1-10.0.0.9".
std::string format_interval(Family f, const Interval& iv);

// Big-endian bytes of an address (4 or 16), for netlink set elements.
std::vector<std::uint8_t> address_bytes(Family f, U128 addr);

}  // namespace nftpolicy::net
