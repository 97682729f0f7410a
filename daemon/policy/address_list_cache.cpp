// Address lists updated from the lines that changed; see address_list_cache.h.
#include "policy/address_list_cache.h"

#include <algorithm>
#include <span>
#include <vector>

#include "support/common_ends.h"

namespace nftpolicy::policy {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// The lines that differ: [begin, old_end) of the old text and [begin,
// new_end) of the new one, both whole lines; the rest is common.
struct ChangedLines {
    std::size_t begin = 0;
    std::size_t old_end = 0;
    std::size_t new_end = 0;
};

std::size_t line_start_before(std::string_view text, std::size_t pos) {
    if (pos == 0) return 0;
    const std::size_t nl = text.rfind('\n', pos - 1);
    return nl == std::string_view::npos ? 0 : nl + 1;
}

ChangedLines changed_lines(std::string_view a, std::string_view b) {
    const std::size_t n = std::min(a.size(), b.size());
    const std::size_t p = common_prefix<char>(a, b);
    const std::size_t s = common_suffix<char>(a, b, n - p);
    ChangedLines c{line_start_before(a, p), a.size() - s, b.size() - s};
    if (c.old_end > c.begin && a[c.old_end - 1] != '\n') {  // the common tail starts mid-line
        const std::size_t nl = a.find('\n', c.old_end);
        const std::size_t end = nl == std::string_view::npos ? a.size() : nl + 1;
        c.new_end += end - c.old_end;
        c.old_end = end;
    }
    return c;
}

// The entries of whole lines, by family; false when a line does not parse.
struct Entries {
    std::vector<net::Interval> v4, v6;
    std::size_t count = 0;
};

bool parse_region(std::string_view text, Entries& out) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        const std::string_view entry = entry_text(text.substr(pos, nl - pos));
        pos = nl + 1;
        if (entry.empty()) continue;
        auto e = net::parse_address_entry(entry);
        if (!e) return false;
        (e->family == net::Family::ipv4 ? out.v4 : out.v6).push_back(e->range);
        ++out.count;
    }
    return true;
}

// `a` sorted before `b` (a.lo <= b.lo): they overlap or are adjacent.
bool touch(const net::Interval& a, const net::Interval& b) { return b.lo <= a.hi || b.lo - a.hi == 1; }

// Drops the intervals both lists hold (a line that is in both regions).
void cancel_common(std::vector<net::Interval>& removed, std::vector<net::Interval>& added) {
    auto by_lo = [](const net::Interval& x, const net::Interval& y) { return x.lo < y.lo || (x.lo == y.lo && x.hi < y.hi); };
    std::sort(removed.begin(), removed.end(), by_lo);
    std::sort(added.begin(), added.end(), by_lo);
    std::vector<net::Interval> r, a;
    std::set_difference(removed.begin(), removed.end(), added.begin(), added.end(), std::back_inserter(r), by_lo);
    std::set_difference(added.begin(), added.end(), removed.begin(), removed.end(), std::back_inserter(a), by_lo);
    removed = std::move(r);
    added = std::move(a);
}

// Appends `iv` to a list that must stay simple (no two entries touching).
bool push_simple(std::vector<net::Interval>& out, const net::Interval& iv) {
    if (!out.empty() && touch(out.back(), iv)) return false;
    out.push_back(iv);
    return true;
}

// Appends a run of a simple list: only its first entry can touch what is
// before it.
bool push_run(std::vector<net::Interval>& out, std::span<const net::Interval> run) {
    if (run.empty()) return true;
    if (!push_simple(out, run.front())) return false;
    out.insert(out.end(), run.begin() + 1, run.end());
    return true;
}

// The first entry of `old` at or after `i` that the next removed or added
// entry may concern (all before it are copied as they are).
std::size_t next_edit(const std::vector<net::Interval>& old, std::size_t i, const net::Interval* removed,
                      const net::Interval* added) {
    net::U128 key = ~net::U128(0);
    if (removed != nullptr) key = removed->lo;
    if (added != nullptr) key = std::min(key, added->lo);
    auto below = [](const net::Interval& iv, net::U128 k) { return iv.lo < k; };
    return static_cast<std::size_t>(std::lower_bound(old.begin() + static_cast<long>(i), old.end(), key, below) -
                                    old.begin());
}

// `old` (simple) without `removed` (each one of its intervals) and with
// `added` (both sorted), if the result is simple too. The runs of `old`
// between edits are copied whole.
bool merge_edit(const std::vector<net::Interval>& old, const std::vector<net::Interval>& removed,
                const std::vector<net::Interval>& added, std::vector<net::Interval>& out) {
    out.reserve(old.size() - std::min(old.size(), removed.size()) + added.size());
    std::size_t i = 0, r = 0, a = 0;
    while (i < old.size() || a < added.size()) {
        const std::size_t j = next_edit(old, i, r < removed.size() ? &removed[r] : nullptr,
                                        a < added.size() ? &added[a] : nullptr);
        if (!push_run(out, std::span(old).subspan(i, j - i))) return false;
        i = j;
        if (i == old.size() && a == added.size()) break;
        if (a < added.size() && (i == old.size() || added[a].lo < old[i].lo)) {
            if (!push_simple(out, added[a++])) return false;
        } else if (r < removed.size() && old[i] == removed[r]) {
            ++i, ++r;
        } else if (r < removed.size() && removed[r].lo <= old[i].lo) {
            return false;  // a removed entry that is not one of the list's intervals
        } else if (!push_simple(out, old[i++])) {
            return false;
        }
    }
    return r == removed.size();
}

// One family's list after the edit; nullopt when it would not be simple.
std::optional<net::IntervalList> edit_family(const net::IntervalList& old, std::vector<net::Interval> removed,
                                             std::vector<net::Interval> added) {
    cancel_common(removed, added);
    if (removed.empty() && added.empty()) return old;  // shared, not copied
    std::vector<net::Interval> out;
    if (!merge_edit(old.vec(), removed, added, out)) return std::nullopt;
    return net::IntervalList(std::move(out));
}

}  // namespace

std::string_view entry_text(std::string_view line) { return trim(line.substr(0, line.find('#'))); }

std::optional<ParsedList> update_list(std::string_view old_text, const ParsedList& old, std::string_view text) {
    if (!old.simple) return std::nullopt;
    const ChangedLines c = changed_lines(old_text, text);
    Entries removed, added;
    if (!parse_region(old_text.substr(c.begin, c.old_end - c.begin), removed)) return std::nullopt;
    if (!parse_region(text.substr(c.begin, c.new_end - c.begin), added)) return std::nullopt;
    auto v4 = edit_family(old.addrs.v4, std::move(removed.v4), std::move(added.v4));
    auto v6 = edit_family(old.addrs.v6, std::move(removed.v6), std::move(added.v6));
    if (!v4 || !v6) return std::nullopt;
    return ParsedList{net::AddrSet{std::move(*v4), std::move(*v6)}, old.entries - removed.count + added.count, true};
}

std::optional<ParsedList> AddressListCache::lookup(const std::string& path, std::string_view text) const {
    auto it = entries_.find(path);
    if (it == entries_.end()) return std::nullopt;
    return update_list(it->second.text, it->second.parsed, text);
}

void AddressListCache::remember(const std::string& path, std::string text, ParsedList parsed) {
    entries_[path] = Entry{std::move(text), std::move(parsed)};
}

}  // namespace nftpolicy::policy
