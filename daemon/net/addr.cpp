// Address parsing and the interval-set algebra behind group expressions.
//
// Parsing delegates the address text itself to inet_pton (the libc parser
// every network tool agrees with) and adds what it cannot say: prefixes,
// ranges, and error messages that tell the user what was expected.
#include "net/addr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cctype>
#include <charconv>
#include <optional>

namespace nftpolicy::net {

namespace {

int family_bits(Family f) {
    return f == Family::ipv4 ? 32 : 128;
}

const char* family_name(Family f) {
    return f == Family::ipv4 ? "IPv4" : "IPv6";
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string quoted(std::string_view s) {
    return "'" + std::string(s) + "'";
}

// The mask of the host part of a /len prefix (all ones below the prefix).
U128 host_mask(Family f, int len) {
    int host = family_bits(f) - len;
    if (host == 0) return 0;
    if (host == 128) return ~U128{0};
    return (U128{1} << host) - 1;
}

// ::ffff:0:0/96 holds IPv4-mapped addresses; accepting them as IPv6 would
// silently open (or fail to open) the IPv4 address they stand for.
bool is_v4_mapped(U128 v) {
    return (v >> 32) == U128{0xffff};
}

// Strict dotted quad, as inet_pton(AF_INET) accepts it: four decimal
// numbers 0-255 without leading zeros. Written out because it runs once per
// line of a million-line address file.
std::optional<U128> dotted_quad(std::string_view text) {
    U128 v = 0;
    std::size_t i = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (i >= text.size() || text[i] != '.') return std::nullopt;
            ++i;
        }
        const std::size_t start = i;
        unsigned n = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 3) n = n * 10 + (text[i++] - '0');
        if (i == start || n > 255 || (text[start] == '0' && i - start > 1)) return std::nullopt;
        v = (v << 8) | n;
    }
    if (i != text.size()) return std::nullopt;
    return v;
}

Result<U128> parse_v4(std::string_view text) {
    if (auto v = dotted_quad(text)) return *v;
    if (std::any_of(text.begin(), text.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }))
        return fail(ErrorKind::invalid, quoted(text) + " is not an IP address; host names are not resolved "
                                                       "(expected an address like 10.0.0.1 or fd00::1)");
    return fail(ErrorKind::invalid, "invalid IPv4 address " + quoted(text) +
                                        " (expected four numbers 0-255 like 10.0.0.1)");
}

Result<U128> parse_v6(std::string_view text) {
    std::string s(text);
    std::array<unsigned char, 16> b{};
    if (inet_pton(AF_INET6, s.c_str(), b.data()) != 1) {
        std::string hint =
            s.find('%') != std::string::npos ? "; zone indexes like %eth0 are not allowed" : "";
        return fail(ErrorKind::invalid, "invalid IPv6 address " + quoted(text) +
                                            " (expected an address like fd00::1)" + hint);
    }
    U128 v = 0;
    for (unsigned char c : b) v = (v << 8) | c;
    return v;
}

// A bare address of either family; the family is decided by the presence of
// ':'. IPv4-mapped IPv6 is refused unless `allow_mapped` (the caller then
// words the error with the prefix length it knows).
Result<AddressEntry> parse_one(std::string_view text, bool allow_mapped = false) {
    text = trim(text);
    if (text.empty())
        return fail(ErrorKind::invalid, "empty address (expected an IPv4 or IPv6 address)");
    Family f = text.find(':') != std::string_view::npos ? Family::ipv6 : Family::ipv4;
    auto v = f == Family::ipv4 ? parse_v4(text) : parse_v6(text);
    if (!v) return tl::unexpected(v.error());
    if (f == Family::ipv6 && is_v4_mapped(*v) && !allow_mapped)
        return fail(ErrorKind::invalid, quoted(text) + " is an IPv4-mapped IPv6 address; write " +
                                            format_address(Family::ipv4, *v & 0xffffffffu) +
                                            " for IPv4");
    return AddressEntry{f, {*v, *v}};
}

Result<int> parse_prefix_len(Family f, std::string_view text) {
    text = trim(text);
    int bits = family_bits(f);
    std::string expected = "(expected 0-" + std::to_string(bits) + ")";
    int len = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), len);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
        return fail(ErrorKind::invalid, std::string("invalid ") + family_name(f) +
                                            " prefix length " + quoted(text) + " " + expected);
    if (len < 0 || len > bits)
        return fail(ErrorKind::invalid, std::string("invalid ") + family_name(f) +
                                            " prefix length " + std::to_string(len) + " " +
                                            expected);
    return len;
}

// "::ffff:10.20.0.0/120 is IPv4-mapped; write 10.20.0.0/24": the suggestion
// keeps the prefix, shortened by the 96 bits of the mapping.
Result<AddressEntry> mapped_prefix_error(std::string_view text, U128 addr, int len) {
    std::string msg = quoted(trim(text)) + " is an IPv4-mapped IPv6 prefix";
    if (len >= 96) {
        msg += "; write " + format_address(Family::ipv4, addr & 0xffffffffu) + "/" + std::to_string(len - 96) +
               " for IPv4";
    }
    return fail(ErrorKind::invalid, msg);
}

Result<AddressEntry> parse_prefix(std::string_view text, std::size_t slash) {
    auto base = parse_one(text.substr(0, slash), true);
    if (!base) return base;
    auto len = parse_prefix_len(base->family, text.substr(slash + 1));
    if (!len) return tl::unexpected(len.error());
    if (base->family == Family::ipv6 && is_v4_mapped(base->range.lo)) {
        return mapped_prefix_error(text, base->range.lo, *len);
    }
    U128 mask = host_mask(base->family, *len);
    U128 addr = base->range.lo;
    if ((addr & mask) != 0) {
        std::string fixed = format_address(base->family, addr & ~mask) + "/" + std::to_string(*len);
        return fail(ErrorKind::invalid, "host bits set in " + std::string(trim(text)) +
                                            "; did you mean " + fixed + "?");
    }
    return AddressEntry{base->family, {addr, addr | mask}};
}

Result<AddressEntry> parse_range(std::string_view text, std::size_t dash) {
    auto lo = parse_one(text.substr(0, dash));
    if (!lo) return lo;
    auto hi = parse_one(text.substr(dash + 1));
    if (!hi) return hi;
    if (lo->family != hi->family) return fail(ErrorKind::invalid, "range mixes IPv4 and IPv6");
    if (lo->range.lo > hi->range.lo)
        return fail(ErrorKind::invalid, "range start " + format_address(lo->family, lo->range.lo) +
                                            " is above its end " +
                                            format_address(hi->family, hi->range.lo));
    return AddressEntry{lo->family, {lo->range.lo, hi->range.lo}};
}

// Inserts `iv` into a sorted, disjoint, merged list, keeping it so.
IntervalList insert_interval(const IntervalList& list, Interval iv) {
    IntervalList::Builder out;
    bool placed = false;
    for (const Interval& cur : list) {
        // Disjoint and not adjacent: keep as is (note hi+1 cannot overflow when hi < iv.lo).
        if (cur.hi < iv.lo && cur.hi + 1 < iv.lo) {
            out.push_back(cur);
        } else if (iv.hi < cur.lo && iv.hi + 1 < cur.lo) {
            if (!placed) out.push_back(iv), placed = true;
            out.push_back(cur);
        } else {
            iv = {std::min(iv.lo, cur.lo), std::max(iv.hi, cur.hi)};
        }
    }
    if (!placed) out.push_back(iv);
    return std::move(out).finish();
}

// Builds a list from intervals sorted by `lo`, merging each into the last
// one when they overlap or touch. `iv.lo` must not be below the last `lo`.
class Merger {
public:
    void add(const Interval& iv) {
        if (last_ && last_->hi + 1 == 0) return;  // already reaches the top of the 128-bit space
        if (last_ && iv.lo <= last_->hi + 1) {
            last_->hi = std::max(last_->hi, iv.hi);
            return;
        }
        if (last_) out_.push_back(*last_);
        last_ = iv;
    }
    IntervalList finish() && {
        if (last_) out_.push_back(*last_);
        return std::move(out_).finish();
    }

private:
    IntervalList::Builder out_;
    std::optional<Interval> last_;
};

// Linear merge of two normalized lists.
IntervalList list_union(const IntervalList& a, const IntervalList& b) {
    Merger out;
    auto i = a.begin(), j = b.begin();
    while (i != a.end() || j != b.end()) {
        const bool take_a = j == b.end() || (i != a.end() && i->lo <= j->lo);
        out.add(take_a ? *i++ : *j++);
    }
    return std::move(out).finish();
}

}  // namespace

// Sorts and merges in place: O(n log n), no second copy of a large list.
void normalize(std::vector<Interval>& list) {
    auto by_lo = [](const Interval& x, const Interval& y) { return x.lo < y.lo; };
    if (!std::is_sorted(list.begin(), list.end(), by_lo)) std::sort(list.begin(), list.end(), by_lo);  // lists often come sorted
    std::size_t out = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
        Interval& last = list[out == 0 ? 0 : out - 1];
        if (out > 0 && (last.hi + 1 == 0 || list[i].lo <= last.hi + 1)) {
            if (last.hi + 1 != 0) last.hi = std::max(last.hi, list[i].hi);
        } else {
            list[out++] = list[i];
        }
    }
    list.resize(out);
}

void IntervalCollector::add(const Interval& iv) {
    if (sorted_ && (!last_ || (last_->hi < iv.lo && last_->hi + 1 < iv.lo))) {
        built_.push_back(iv);
        last_ = iv;
        return;
    }
    if (sorted_) loose_ = std::move(built_).finish().flat(), sorted_ = false;
    loose_.push_back(iv);
}

IntervalList IntervalCollector::finish() && {
    if (sorted_) return std::move(built_).finish();
    normalize(loose_);
    return loose_;
}

namespace {

// Two-pointer sweep over both sorted lists.
IntervalList list_intersection(const IntervalList& a, const IntervalList& b) {
    IntervalList::Builder out;
    auto i = a.begin(), j = b.begin();
    while (i != a.end() && j != b.end()) {
        const U128 lo = std::max(i->lo, j->lo);
        const U128 hi = std::min(i->hi, j->hi);
        if (lo <= hi) out.push_back({lo, hi});
        if (i->hi < j->hi)
            ++i;
        else
            ++j;
    }
    return std::move(out).finish();
}

// Removes every interval of `b` from each interval of `a`.
IntervalList list_difference(const IntervalList& a, const IntervalList& b) {
    IntervalList::Builder out;
    auto j = b.begin();
    for (Interval cur : a) {
        while (j != b.end() && j->hi < cur.lo) ++j;
        bool alive = true;
        for (auto k = j; k != b.end() && k->lo <= cur.hi; ++k) {
            if (k->lo > cur.lo) out.push_back({cur.lo, k->lo - 1});
            if (k->hi >= cur.hi) {
                alive = false;
                break;
            }
            cur.lo = k->hi + 1;
        }
        if (alive) out.push_back(cur);
    }
    return std::move(out).finish();
}

bool lists_intersect(const IntervalList& a, const IntervalList& b) {
    return !list_intersection(a, b).empty();
}

}  // namespace

Result<AddressEntry> parse_address(std::string_view text) {
    if (text.find('/') != std::string_view::npos || text.find('-') != std::string_view::npos)
        return fail(ErrorKind::invalid,
                    "expected a single address, not a prefix or range: " + quoted(trim(text)));
    return parse_one(text);
}

Result<AddressEntry> parse_address_entry(std::string_view text) {
    if (auto dash = text.find('-'); dash != std::string_view::npos) {
        if (text.find('/') != std::string_view::npos)
            return fail(ErrorKind::invalid, "invalid address range " + quoted(trim(text)) +
                                                " (expected a-b of two addresses, no prefix)");
        return parse_range(text, dash);
    }
    if (auto slash = text.find('/'); slash != std::string_view::npos)
        return parse_prefix(text, slash);
    return parse_one(text);
}

AddrSet AddrSet::of(const AddressEntry& e) {
    AddrSet s;
    s.add(e);
    return s;
}

AddrSet AddrSet::everything() {
    AddrSet s;
    s.add(Family::ipv4, {0, max_value(Family::ipv4)});
    s.add(Family::ipv6, {0, max_value(Family::ipv6)});
    return s;
}

void AddrSet::add(const AddressEntry& e) {
    add(e.family, e.range);
}

AddrSet AddrSet::from_entries(const std::vector<AddressEntry>& entries) {
    IntervalCollector v4, v6;
    for (const auto& e : entries) (e.family == Family::ipv4 ? v4 : v6).add(e.range);
    return {std::move(v4).finish(), std::move(v6).finish()};
}

void AddrSet::add(Family f, Interval iv) {
    assert(iv.lo <= iv.hi && iv.hi <= max_value(f));
    IntervalList& list = f == Family::ipv4 ? v4 : v6;
    list = insert_interval(list, iv);
}

bool AddrSet::full(Family f) const {
    const auto& l = family(f);
    return l.size() == 1 && l[0].lo == 0 && l[0].hi == max_value(f);
}

bool AddrSet::contains(Family f, U128 addr) const {
    return family(f).contains(addr);
}

bool AddrSet::intersects(const AddrSet& other) const {
    return lists_intersect(v4, other.v4) || lists_intersect(v6, other.v6);
}

AddrSet set_union(const AddrSet& a, const AddrSet& b) {
    return {list_union(a.v4, b.v4), list_union(a.v6, b.v6)};
}

AddrSet set_intersection(const AddrSet& a, const AddrSet& b) {
    return {list_intersection(a.v4, b.v4), list_intersection(a.v6, b.v6)};
}

AddrSet set_difference(const AddrSet& a, const AddrSet& b) {
    return {list_difference(a.v4, b.v4), list_difference(a.v6, b.v6)};
}

U128 max_value(Family f) {
    return f == Family::ipv4 ? U128{0xffffffffu} : ~U128{0};
}

// inet_ntop is what nft itself prints addresses with, so the text matches
// `nft list` byte for byte (RFC 5952 compression, lower-case hex).
std::string format_address(Family f, U128 addr) {
    auto bytes = address_bytes(f, addr);
    char buf[INET6_ADDRSTRLEN] = {};
    const char* r =
        inet_ntop(f == Family::ipv4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    assert(r != nullptr);
    (void)r;
    return buf;
}

std::string format_interval(Family f, const Interval& iv) {
    if (iv.lo == iv.hi) return format_address(f, iv.lo);
    for (int len = 0; len <= family_bits(f); ++len) {
        U128 mask = host_mask(f, len);
        if ((iv.lo & mask) == 0 && (iv.lo | mask) == iv.hi)
            return format_address(f, iv.lo) + "/" + std::to_string(len);
    }
    return format_address(f, iv.lo) + "-" + format_address(f, iv.hi);
}

std::vector<std::uint8_t> address_bytes(Family f, U128 addr) {
    std::size_t n = f == Family::ipv4 ? 4 : 16;
    std::vector<std::uint8_t> out(n);
    for (std::size_t i = 0; i < n; ++i) out[n - 1 - i] = static_cast<std::uint8_t>(addr >> (8 * i));
    return out;
}

}  // namespace nftpolicy::net
