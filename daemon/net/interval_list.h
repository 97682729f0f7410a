// A sorted list of intervals kept in shared, immutable chunks.
//
// Stages hand address sets to one another by value (model -> projection ->
// IR -> the daemon's record of what the kernel holds). With a million
// intervals a flat list is 32 MB, and a one-address edit that rebuilt it,
// compared it with the last one and hashed it again cost tens of
// milliseconds. Here a list is an index of chunks of at most kChunkMax
// intervals, each chunk shared by every list that holds it:
//   - a copy copies the index (a few thousand pointers at 1M);
//   - an edit (Builder::append_range around the changed intervals) shares
//     every chunk it does not touch and rebuilds only the ones it does;
//   - two lists that share chunks are compared chunk by pointer
//     (common_ends), so the diff of a one-address edit walks one chunk;
//   - each chunk carries its content hash and its count of single
//     addresses, computed once when it is built; a list's hash is their
//     sum, so it depends on the intervals only, never on how they are
//     chunked (a list rebuilt by edits and the same list parsed afresh in
//     another process hash alike).
//
// Example:
//   IntervalList::Builder b;
//   for (U128 a = 0; a < 5000; a += 2) b.push_back({a, a});
//   IntervalList big = std::move(b).finish();      // 2,500 intervals, 3 chunks
//   IntervalList::Builder e;                       // drop 0, keep the rest
//   e.append_range(big, 1, big.size());
//   IntervalList edited = std::move(e).finish();   // shares 2 of the 3 chunks
//   common_ends(big, edited) == CommonEnds{0, 2499}
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace nftpolicy::net {

using U128 = unsigned __int128;

// Inclusive interval [lo, hi] of one family.
struct Interval {
    U128 lo = 0;
    U128 hi = 0;
    friend bool operator==(const Interval&, const Interval&) = default;
};

inline bool is_single(const Interval& iv) { return iv.lo == iv.hi; }

// The content hash of one interval; a list's hash is the sum of these.
std::uint64_t interval_hash(const Interval& iv);

class IntervalChunk;
using IntervalChunkPtr = std::shared_ptr<IntervalChunk>;

// Up to kChunkMax intervals, never empty once in a list, never changed
// after it is shared (only a list that holds the sole reference appends).
class IntervalChunk {
public:
    explicit IntervalChunk(std::span<const Interval> ivs);

    std::span<const Interval> intervals() const { return ivs_; }
    std::size_t size() const { return ivs_.size(); }
    std::uint64_t hash() const { return hash_; }
    std::size_t singles() const { return singles_; }

    // This chunk's single addresses and its other intervals, as two chunks
    // (null when that part is empty); built on first use and kept, since a
    // chunk never changes. Not thread-safe (nftpolicy is single-threaded).
    using Parts = std::pair<IntervalChunkPtr, IntervalChunkPtr>;
    const Parts& parts() const;

private:
    friend class IntervalList;
    void push_back(const Interval& iv);

    std::vector<Interval> ivs_;
    std::uint64_t hash_ = 0;
    std::size_t singles_ = 0;
    mutable std::unique_ptr<Parts> parts_;
};

class IntervalList {
public:
    static constexpr std::size_t kChunkMax = 1024;
    using ChunkPtr = IntervalChunkPtr;

    // Forward iterator over the intervals of all chunks in order.
    class const_iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = Interval;
        using difference_type = std::ptrdiff_t;
        using pointer = const Interval*;
        using reference = const Interval&;

        const_iterator() = default;
        const_iterator(const ChunkPtr* chunk, std::size_t pos) : chunk_(chunk), pos_(pos) {}
        reference operator*() const { return (*chunk_)->intervals()[pos_]; }
        pointer operator->() const { return &**this; }
        const_iterator& operator++() {
            if (++pos_ == (*chunk_)->size()) ++chunk_, pos_ = 0;
            return *this;
        }
        const_iterator operator++(int) {
            const_iterator old = *this;
            ++*this;
            return old;
        }
        friend bool operator==(const const_iterator&, const const_iterator&) = default;

        // The intervals from here to the end of this chunk, or to `last`
        // when it is in this chunk: contiguous, for memcmp.
        std::span<const Interval> run_until(const const_iterator& last) const {
            const std::size_t end = last.chunk_ == chunk_ ? last.pos_ : (*chunk_)->size();
            return (*chunk_)->intervals().subspan(pos_, end - pos_);
        }
        // Steps over `n` intervals of run_until's span.
        void skip(std::size_t n) {
            pos_ += n;
            if (pos_ == (*chunk_)->size()) ++chunk_, pos_ = 0;
        }

    private:
        const ChunkPtr* chunk_ = nullptr;
        std::size_t pos_ = 0;
    };

    // Builds a list front to back (below).
    class Builder;

    IntervalList() = default;
    IntervalList(std::span<const Interval> ivs);  // NOLINT: implicit, a list is its intervals
    IntervalList(const std::vector<Interval>& v) : IntervalList(std::span<const Interval>(v)) {}  // NOLINT
    IntervalList(std::initializer_list<Interval> il) : IntervalList(std::span<const Interval>(il.begin(), il.size())) {}

    const_iterator begin() const { return {chunks_.data(), 0}; }
    const_iterator end() const { return {chunks_.data() + chunks_.size(), 0}; }
    // The iterator at the `index`th interval (end() at size()).
    const_iterator at(std::size_t index) const;
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const Interval& operator[](std::size_t i) const { return *at(i); }
    const Interval& front() const { return chunks_.front()->intervals().front(); }
    const Interval& back() const { return chunks_.back()->intervals().back(); }

    std::span<const ChunkPtr> chunks() const { return chunks_; }
    // Sum of the intervals' hashes, and how many are single addresses.
    std::uint64_t hash() const;
    std::size_t singles() const;
    // The index of the first interval whose lo is above `key` (size() if none).
    std::size_t upper_bound_lo(U128 key) const;
    // Whether an interval holds `addr`.
    bool contains(U128 addr) const {
        const std::size_t i = upper_bound_lo(addr);
        return i > 0 && (*this)[i - 1].hi >= addr;
    }
    // Every interval, in one vector (a copy: for small lists and cold paths).
    std::vector<Interval> flat() const { return {begin(), end()}; }

    // Appends; the list must stay sorted (the caller's invariant).
    void push_back(const Interval& iv);

    friend bool operator==(const IntervalList& a, const IntervalList& b);

private:
    std::size_t chunk_of(std::size_t index) const;
    void adopt(ChunkPtr chunk);

    std::vector<ChunkPtr> chunks_;
    std::vector<std::size_t> starts_;  // index of each chunk's first interval
    std::size_t size_ = 0;
};

// Builds a list front to back: single intervals, ranges of another list
// (whole chunks shared, not copied) or whole chunks.
class IntervalList::Builder {
public:
    void push_back(const Interval& iv);
    void append_range(const IntervalList& src, std::size_t from, std::size_t to);
    // Shares `chunk`, or copies it into the intervals pending before it
    // when it fits beside them (edits leave no trail of small chunks).
    void append_chunk(const ChunkPtr& chunk);
    // Shares `chunk` as it is.
    void adopt_chunk(const ChunkPtr& chunk);
    IntervalList finish() &&;

private:
    void flush();
    IntervalList out_;
    std::vector<Interval> pending_;
};

// How many intervals two lists share at their start (head) and, after that,
// at their end (tail; head + tail <= the shorter size). Chunks both lists
// hold at the same place are skipped by pointer, the rest compared by bytes.
struct CommonEnds {
    std::size_t head = 0;
    std::size_t tail = 0;
    friend bool operator==(const CommonEnds&, const CommonEnds&) = default;
};
CommonEnds common_ends(const IntervalList& a, const IntervalList& b);

// The intervals only `a` holds and those only `b` holds, each sorted (both
// lists sorted and disjoint). What both hold is skipped a run at a time:
// chunks they share by pointer, the rest by memcmp, so two lists that
// share all but the chunks an edit touched cost one walk of those chunks
// and a pointer compare per shared chunk.
struct ListDiff {
    IntervalList only_a;
    IntervalList only_b;
};
ListDiff diff_lists(const IntervalList& a, const IntervalList& b);

// The single addresses of `list` and its other intervals, as two lists;
// chunks that are all one or all the other are shared, not copied.
std::pair<IntervalList, IntervalList> partition_singles(const IntervalList& list);

}  // namespace nftpolicy::net
