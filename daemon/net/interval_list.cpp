// Chunked interval lists; see interval_list.h.
#include "net/interval_list.h"

#include <algorithm>
#include <xxhash.h>

#include "support/common_ends.h"

namespace nftpolicy::net {

std::uint64_t interval_hash(const Interval& iv) {
    static_assert(sizeof(Interval) == 2 * sizeof(U128), "no padding bytes to hash");
    return XXH3_64bits(&iv, sizeof iv);
}

IntervalChunk::IntervalChunk(std::span<const Interval> ivs) {
    ivs_.reserve(ivs.size());
    for (const Interval& iv : ivs) push_back(iv);
}

void IntervalChunk::push_back(const Interval& iv) {
    ivs_.push_back(iv);
    hash_ += interval_hash(iv);
    singles_ += is_single(iv) ? 1 : 0;
    parts_.reset();
}

namespace {

std::shared_ptr<IntervalChunk> chunk_of_part(const std::vector<Interval>& part) {
    return part.empty() ? nullptr : std::make_shared<IntervalChunk>(part);
}

}  // namespace

const IntervalChunk::Parts& IntervalChunk::parts() const {
    if (parts_) return *parts_;
    std::vector<Interval> singles, others;
    for (const Interval& iv : ivs_) (is_single(iv) ? singles : others).push_back(iv);
    parts_ = std::make_unique<Parts>(chunk_of_part(singles), chunk_of_part(others));
    return *parts_;
}

// ---- IntervalList ------------------------------------------------------

IntervalList::IntervalList(std::span<const Interval> ivs) {
    for (std::size_t i = 0; i < ivs.size(); i += kChunkMax)
        adopt(std::make_shared<IntervalChunk>(ivs.subspan(i, std::min(kChunkMax, ivs.size() - i))));
}

void IntervalList::adopt(ChunkPtr chunk) {
    starts_.push_back(size_);
    size_ += chunk->size();
    chunks_.push_back(std::move(chunk));
}

std::size_t IntervalList::chunk_of(std::size_t index) const {
    return static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), index) - starts_.begin()) - 1;
}

IntervalList::const_iterator IntervalList::at(std::size_t index) const {
    if (index >= size_) return end();
    const std::size_t c = chunk_of(index);
    return {chunks_.data() + c, index - starts_[c]};
}

std::uint64_t IntervalList::hash() const {
    std::uint64_t h = 0;
    for (const ChunkPtr& c : chunks_) h += c->hash();
    return h;
}

std::size_t IntervalList::singles() const {
    std::size_t n = 0;
    for (const ChunkPtr& c : chunks_) n += c->singles();
    return n;
}

std::size_t IntervalList::upper_bound_lo(U128 key) const {
    auto after = [](U128 k, const ChunkPtr& c) { return k < c->intervals().front().lo; };
    const auto it = std::upper_bound(chunks_.begin(), chunks_.end(), key, after);
    if (it == chunks_.begin()) return 0;
    const std::size_t c = static_cast<std::size_t>(it - chunks_.begin()) - 1;
    const auto ivs = chunks_[c]->intervals();
    const auto in = std::upper_bound(ivs.begin(), ivs.end(), key, [](U128 k, const Interval& iv) { return k < iv.lo; });
    return starts_[c] + static_cast<std::size_t>(in - ivs.begin());
}

// A last chunk only this list holds can grow in place; else a new one starts.
void IntervalList::push_back(const Interval& iv) {
    if (!chunks_.empty() && chunks_.back().use_count() == 1 && chunks_.back()->size() < kChunkMax) {
        chunks_.back()->push_back(iv);
        ++size_;
        return;
    }
    adopt(std::make_shared<IntervalChunk>(std::span<const Interval>(&iv, 1)));
}

bool operator==(const IntervalList& a, const IntervalList& b) {
    return a.size() == b.size() && common_ends(a, b).head == a.size();
}

// ---- Builder -----------------------------------------------------------

void IntervalList::Builder::push_back(const Interval& iv) {
    pending_.push_back(iv);
    if (pending_.size() == kChunkMax) flush();
}

void IntervalList::Builder::flush() {
    if (pending_.empty()) return;
    out_.adopt(std::make_shared<IntervalChunk>(pending_));
    pending_.clear();
}

void IntervalList::Builder::append_chunk(const ChunkPtr& chunk) {
    if (!pending_.empty() && pending_.size() + chunk->size() <= kChunkMax) {
        for (const Interval& iv : chunk->intervals()) push_back(iv);
        return;
    }
    adopt_chunk(chunk);
}

void IntervalList::Builder::adopt_chunk(const ChunkPtr& chunk) {
    flush();
    out_.adopt(chunk);
}

void IntervalList::Builder::append_range(const IntervalList& src, std::size_t from, std::size_t to) {
    if (from >= to) return;
    for (std::size_t c = src.chunk_of(from); from < to; ++c) {
        const IntervalChunk& chunk = *src.chunks_[c];
        const std::size_t start = src.starts_[c];
        const std::size_t end = std::min(to, start + chunk.size());
        if (from == start && end == start + chunk.size()) {
            append_chunk(src.chunks_[c]);
        } else {
            for (std::size_t i = from; i < end; ++i) push_back(chunk.intervals()[i - start]);
        }
        from = end;
    }
}

IntervalList IntervalList::Builder::finish() && {
    flush();
    return std::move(out_);
}

// ---- comparing and splitting -------------------------------------------

namespace {

// A position in a list: chunk `c` (counted from the last chunk when
// walking backward), `used` of its intervals already walked (from its front
// going forward, from its back going backward).
template <bool Backward>
struct Cursor {
    std::span<const IntervalList::ChunkPtr> chunks;
    std::size_t c = 0;
    std::size_t used = 0;
    bool done() const { return c == chunks.size(); }
    const IntervalChunk& chunk() const { return *chunks[Backward ? chunks.size() - 1 - c : c]; }
    std::size_t left() const { return chunk().size() - used; }
    void step(std::size_t n) {
        used += n;
        if (used == chunk().size()) ++c, used = 0;
    }
};

template <bool Backward>
bool same_whole_chunk(const Cursor<Backward>& a, const Cursor<Backward>& b) {
    return a.used == 0 && b.used == 0 && &a.chunk() == &b.chunk();
}

std::size_t common_head(const IntervalList& a, const IntervalList& b) {
    Cursor<false> x{a.chunks()}, y{b.chunks()};
    std::size_t head = 0;
    while (!x.done() && !y.done()) {
        if (same_whole_chunk(x, y)) {
            head += x.chunk().size();
            ++x.c, ++y.c;
            continue;
        }
        const std::size_t n = std::min(x.left(), y.left());
        const std::size_t k = common_prefix<Interval>(x.chunk().intervals().subspan(x.used, n),
                                                      y.chunk().intervals().subspan(y.used, n));
        head += k;
        if (k < n) break;
        x.step(n), y.step(n);
    }
    return head;
}

std::size_t common_tail(const IntervalList& a, const IntervalList& b, std::size_t limit) {
    Cursor<true> x{a.chunks()}, y{b.chunks()};
    std::size_t tail = 0;
    while (tail < limit && !x.done() && !y.done()) {
        if (same_whole_chunk(x, y) && tail + x.chunk().size() <= limit) {
            tail += x.chunk().size();
            ++x.c, ++y.c;
            continue;
        }
        const std::size_t n = std::min({x.left(), y.left(), limit - tail});
        const std::size_t k = common_suffix<Interval>(x.chunk().intervals().first(x.left()),
                                                      y.chunk().intervals().first(y.left()), n);
        tail += k;
        if (k < n) break;
        x.step(n), y.step(n);
    }
    return tail;
}

}  // namespace

CommonEnds common_ends(const IntervalList& a, const IntervalList& b) {
    const std::size_t head = common_head(a, b);
    return {head, common_tail(a, b, std::min(a.size(), b.size()) - head)};
}

namespace {

// How many intervals two runs share at their start (the same memory: all).
std::size_t common_run(std::span<const Interval> x, std::span<const Interval> y) {
    const std::size_t n = std::min(x.size(), y.size());
    return x.data() == y.data() ? n : common_prefix<Interval>(x.first(n), y.first(n));
}

}  // namespace

ListDiff diff_lists(const IntervalList& a, const IntervalList& b) {
    IntervalList::Builder only_a, only_b;
    auto i = a.begin(), j = b.begin();
    while (i != a.end() && j != b.end()) {
        const std::span<const Interval> x = i.run_until(a.end()), y = j.run_until(b.end());
        const std::size_t same = common_run(x, y);
        i.skip(same);
        j.skip(same);
        if (same == std::min(x.size(), y.size())) continue;
        const U128 lo = std::min(i->lo, j->lo);
        if (i->lo == lo) only_a.push_back(*i++);
        if (j->lo == lo) only_b.push_back(*j++);
    }
    for (; i != a.end(); ++i) only_a.push_back(*i);
    for (; j != b.end(); ++j) only_b.push_back(*j);
    return {std::move(only_a).finish(), std::move(only_b).finish()};
}

std::pair<IntervalList, IntervalList> partition_singles(const IntervalList& list) {
    IntervalList::Builder singles, others;
    for (const IntervalList::ChunkPtr& c : list.chunks()) {
        if (c->singles() == c->size()) {
            singles.adopt_chunk(c);
        } else if (c->singles() == 0) {
            others.adopt_chunk(c);
        } else {
            const auto& [s, o] = c->parts();
            singles.adopt_chunk(s);
            others.adopt_chunk(o);
        }
    }
    return {std::move(singles).finish(), std::move(others).finish()};
}

}  // namespace nftpolicy::net
