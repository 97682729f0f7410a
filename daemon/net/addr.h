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
#include <string>
#include <string_view>
#include <vector>

#include "support/result.h"

namespace nftpolicy::net {

using U128 = unsigned __int128;

enum class Family { ipv4, ipv6 };

// Inclusive interval [lo, hi] of one family.
struct Interval {
    U128 lo = 0;
    U128 hi = 0;
    friend bool operator==(const Interval&, const Interval&) = default;
};

// A sorted list of intervals with shared, copy-on-write storage. Stages hand
// address sets to one another by value (model -> projection -> IR); with a
// million intervals a deep copy is 32 MB, so copies share one immutable
// vector and only a writer pays for its own.
class IntervalList {
public:
    using const_iterator = std::vector<Interval>::const_iterator;

    IntervalList() = default;
    IntervalList(std::vector<Interval> v)  // NOLINT: implicit, a list is its intervals
        : data_(v.empty() ? nullptr : std::make_shared<std::vector<Interval>>(std::move(v))) {}
    IntervalList(std::initializer_list<Interval> il) : IntervalList(std::vector<Interval>(il)) {}

    const std::vector<Interval>& vec() const { return data_ ? *data_ : empty_vector(); }
    operator const std::vector<Interval>&() const { return vec(); }  // NOLINT: read-only view

    const_iterator begin() const { return vec().begin(); }
    const_iterator end() const { return vec().end(); }
    std::size_t size() const { return vec().size(); }
    bool empty() const { return vec().empty(); }
    const Interval& operator[](std::size_t i) const { return vec()[i]; }
    const Interval& front() const { return vec().front(); }
    const Interval& back() const { return vec().back(); }

    // The vector to change; detaches from other copies first.
    std::vector<Interval>& mut();
    void push_back(const Interval& iv) { mut().push_back(iv); }
    void reserve(std::size_t n) { mut().reserve(n); }

    friend bool operator==(const IntervalList& a, const IntervalList& b) {
        return a.data_ == b.data_ || a.vec() == b.vec();
    }

private:
    static const std::vector<Interval>& empty_vector();
    std::shared_ptr<std::vector<Interval>> data_;  // null: empty
};

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
inline void normalize(IntervalList& list) { normalize(list.mut()); }

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
