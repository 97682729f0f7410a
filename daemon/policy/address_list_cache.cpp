// Address lists updated from the lines that changed; see address_list_cache.h.
#include "policy/address_list_cache.h"

#include <algorithm>
#include <optional>
#include <span>
#include <vector>

#include "support/file_read.h"

namespace nftpolicy::policy {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

std::size_t line_start_before(std::string_view text, std::size_t pos) {
    if (pos == 0) return 0;
    const std::size_t nl = text.rfind('\n', pos - 1);
    return nl == std::string_view::npos ? 0 : nl + 1;
}

// The whole lines that differ, old and new, around a change of the new
// `text`: the change widened to the start of its first line and to the end
// of its last (in the common tail, the same in both texts).
struct ChangedLines {
    std::string removed;
    std::string_view added;
};

ChangedLines changed_lines(std::string_view text, const TextChange& c) {
    const std::size_t begin = line_start_before(text, c.begin);
    std::size_t new_end = c.new_end;
    const char last_old = !c.removed.empty() ? c.removed.back() : c.begin > 0 ? text[c.begin - 1] : '\n';
    if (c.begin + c.removed.size() > begin && last_old != '\n') {  // the common tail starts mid-line
        const std::size_t nl = text.find('\n', c.new_end);
        new_end = nl == std::string_view::npos ? text.size() : nl + 1;
    }
    std::string removed(text.substr(begin, c.begin - begin));
    removed += c.removed;
    removed += text.substr(c.new_end, new_end - c.new_end);
    return {std::move(removed), text.substr(begin, new_end - begin)};
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

// A list being built that must stay simple (no two entries touching).
class SimpleBuilder {
public:
    bool push(const net::Interval& iv) {
        if (last_ && touch(*last_, iv)) return false;
        out_.push_back(iv);
        last_ = iv;
        return true;
    }
    // Appends old[from, to): only its first entry can touch what is before
    // it; whole chunks are shared.
    bool push_run(const net::IntervalList& old, std::size_t from, std::size_t to) {
        if (from == to) return true;
        if (last_ && touch(*last_, old[from])) return false;
        out_.append_range(old, from, to);
        last_ = old[to - 1];
        return true;
    }
    net::IntervalList finish() && { return std::move(out_).finish(); }

private:
    net::IntervalList::Builder out_;
    std::optional<net::Interval> last_;
};

// The first entry of `old` at or after `i` that the next removed or added
// entry may concern (all before it are copied as they are).
std::size_t next_edit(const net::IntervalList& old, std::size_t i, const net::Interval* removed,
                      const net::Interval* added) {
    net::U128 key = ~net::U128(0);
    if (removed != nullptr) key = removed->lo;
    if (added != nullptr) key = std::min(key, added->lo);
    const std::size_t first_at_key = key == 0 ? 0 : old.upper_bound_lo(key - 1);
    return std::max(i, first_at_key);
}

// `old` (simple) without `removed` (each one of its intervals) and with
// `added` (both sorted), if the result is simple too. The runs of `old`
// between edits are shared, chunk by chunk.
std::optional<net::IntervalList> merge_edit(const net::IntervalList& old, const std::vector<net::Interval>& removed,
                                            const std::vector<net::Interval>& added) {
    SimpleBuilder out;
    std::size_t i = 0, r = 0, a = 0;
    while (i < old.size() || a < added.size()) {
        const std::size_t j = next_edit(old, i, r < removed.size() ? &removed[r] : nullptr,
                                        a < added.size() ? &added[a] : nullptr);
        if (!out.push_run(old, i, j)) return std::nullopt;
        i = j;
        if (i == old.size() && a == added.size()) break;
        const net::Interval* at = i < old.size() ? &old[i] : nullptr;
        if (a < added.size() && (at == nullptr || added[a].lo < at->lo)) {
            if (!out.push(added[a++])) return std::nullopt;
        } else if (r < removed.size() && *at == removed[r]) {
            ++i, ++r;
        } else if (r < removed.size() && removed[r].lo <= at->lo) {
            return std::nullopt;  // a removed entry that is not one of the list's intervals
        } else if (!out.push(old[i++])) {
            return std::nullopt;
        }
    }
    if (r != removed.size()) return std::nullopt;
    return std::move(out).finish();
}

// One family's list after the edit; nullopt when it would not be simple.
std::optional<net::IntervalList> edit_family(const net::IntervalList& old, std::vector<net::Interval> removed,
                                             std::vector<net::Interval> added) {
    cancel_common(removed, added);
    if (removed.empty() && added.empty()) return old;  // shared, not copied
    return merge_edit(old, removed, added);
}

}  // namespace

std::string_view entry_text(std::string_view line) { return trim(line.substr(0, line.find('#'))); }

std::optional<ParsedList> update_list(std::string_view text, const TextChange& change, const ParsedList& old) {
    if (!old.simple) return std::nullopt;
    const ChangedLines c = changed_lines(text, change);
    Entries removed, added;
    if (!parse_region(c.removed, removed)) return std::nullopt;
    if (!parse_region(c.added, added)) return std::nullopt;
    auto v4 = edit_family(old.addrs.v4, std::move(removed.v4), std::move(added.v4));
    auto v6 = edit_family(old.addrs.v6, std::move(removed.v6), std::move(added.v6));
    if (!v4 || !v6) return std::nullopt;
    return ParsedList{net::AddrSet{std::move(*v4), std::move(*v6)}, old.entries - removed.count + added.count, true};
}

bool AddressListCache::holds(const std::string& path) const { return entries_.contains(path); }

Result<bool> AddressListCache::reread(std::map<std::string, Entry>::iterator it, const FileKind& kind,
                                      std::optional<FileStamp> stamp, std::string& text_out) {
    auto change = refresh_regular_file(it->first, kind, it->second.text, scratch_);
    if (!change) {
        entries_.erase(it);
        return tl::unexpected(change.error());
    }
    auto parsed = update_list(it->second.text, *change, it->second.parsed);
    if (!parsed) {
        text_out = std::move(it->second.text);
        entries_.erase(it);
        return false;
    }
    it->second.parsed = std::move(*parsed);  // shares the chunks
    it->second.read_at = stamp;
    return true;
}

Result<AddressListCache::Refreshed> AddressListCache::refresh(const std::string& path, const FileKind& kind) {
    auto it = entries_.find(path);
    Refreshed out;
    // Stamped before the read: a write during it makes the next stamp differ.
    auto stamp = local_stamp(path);
    if (!it->second.read_at || stamp != it->second.read_at) {
        auto kept = reread(it, kind, stamp, out.text);
        if (!kept) return tl::unexpected(kept.error());
        if (!*kept) return out;
    }
    out.parsed = it->second.parsed;
    return out;
}

void AddressListCache::read_ahead(const std::string& path, const FileKind& kind) {
    auto it = entries_.find(path);
    if (it == entries_.end()) return;
    std::string unkept;
    // A failure is the compile's to report, when it reads the list itself.
    (void)reread(it, kind, local_stamp(path), unkept);
}

void AddressListCache::touched(const std::string& path) {
    if (auto it = entries_.find(path); it != entries_.end()) it->second.read_at.reset();
}

void AddressListCache::touched_all() {
    for (auto& [path, entry] : entries_) entry.read_at.reset();
}

void AddressListCache::remember(const std::string& path, std::string text, ParsedList parsed) {
    entries_[path] = Entry{std::move(text), std::move(parsed), std::nullopt};
}

}  // namespace nftpolicy::policy
