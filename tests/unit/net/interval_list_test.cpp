// The chunked interval list: chunking, sharing of chunks between edited
// lists, and the comparisons built on that sharing, each checked against a
// plain vector computation on random lists and edits.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "net/interval_list.h"

using namespace nftpolicy::net;

namespace {

constexpr std::size_t kMax = IntervalList::kChunkMax;

// A sorted, disjoint, non-adjacent list: single addresses and short ranges.
std::vector<Interval> random_intervals(std::mt19937& rng, std::size_t n) {
    std::vector<Interval> v;
    U128 at = rng() % 10;
    for (std::size_t i = 0; i < n; ++i) {
        const U128 width = rng() % 3 == 0 ? rng() % 50 : 0;
        v.push_back({at, at + width});
        at += width + 2 + rng() % 5;
    }
    return v;
}

IntervalList built_one_by_one(const std::vector<Interval>& v) {
    IntervalList::Builder b;
    for (const Interval& iv : v) b.push_back(iv);
    return std::move(b).finish();
}

// `list` with the intervals at [from, to) replaced by `middle`, built the way
// the address list cache builds an edit.
IntervalList edited(const IntervalList& list, std::size_t from, std::size_t to, const std::vector<Interval>& middle) {
    IntervalList::Builder b;
    b.append_range(list, 0, from);
    for (const Interval& iv : middle) b.push_back(iv);
    b.append_range(list, to, list.size());
    return std::move(b).finish();
}

std::vector<Interval> spliced(std::vector<Interval> v, std::size_t from, std::size_t to,
                              const std::vector<Interval>& middle) {
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(from), v.begin() + static_cast<std::ptrdiff_t>(to));
    v.insert(v.begin() + static_cast<std::ptrdiff_t>(from), middle.begin(), middle.end());
    return v;
}

std::size_t shared_chunks(const IntervalList& a, const IntervalList& b) {
    std::set<const IntervalChunk*> in_a;
    for (const auto& c : a.chunks()) in_a.insert(c.get());
    return static_cast<std::size_t>(
        std::count_if(b.chunks().begin(), b.chunks().end(), [&](const auto& c) { return in_a.count(c.get()) > 0; }));
}

std::vector<Interval> minus(const std::vector<Interval>& a, const std::vector<Interval>& b) {
    auto less = [](const Interval& x, const Interval& y) { return x.lo < y.lo || (x.lo == y.lo && x.hi < y.hi); };
    std::vector<Interval> r;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(r), less);
    return r;
}

CommonEnds naive_common_ends(const std::vector<Interval>& a, const std::vector<Interval>& b) {
    const std::size_t n = std::min(a.size(), b.size());
    std::size_t head = 0, tail = 0;
    while (head < n && a[head] == b[head]) ++head;
    while (tail < n - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) ++tail;
    return {head, tail};
}

}  // namespace

TEST_CASE("a list is cut into chunks of at most kChunkMax and reads back in order") {
    std::mt19937 rng(1);
    const auto v = random_intervals(rng, 2 * kMax + 5);
    for (const IntervalList& list : {IntervalList(v), built_one_by_one(v)}) {
        REQUIRE(list.size() == v.size());
        CHECK(list.chunks().size() == 3);
        for (const auto& c : list.chunks()) CHECK(c->size() <= kMax);
        CHECK(list.flat() == v);
        CHECK(list.front() == v.front());
        CHECK(list.back() == v.back());
        for (std::size_t i : {std::size_t{0}, kMax - 1, kMax, 2 * kMax + 4}) CHECK(list[i] == v[i]);
        CHECK(list.at(v.size()) == list.end());
    }
    CHECK(IntervalList{}.empty());
    CHECK(IntervalList{}.begin() == IntervalList{}.end());
}

TEST_CASE("push_back grows a last chunk only this list holds, never a shared one") {
    IntervalList a{{1, 1}, {3, 3}};
    a.push_back({5, 5});
    CHECK(a.chunks().size() == 1);
    const IntervalList copy = a;
    a.push_back({7, 7});
    CHECK(copy.flat() == std::vector<Interval>{{1, 1}, {3, 3}, {5, 5}});
    CHECK(a.chunks().size() == 2);
    CHECK(a.chunks()[0] == copy.chunks()[0]);
    CHECK(a.size() == 4);
    CHECK(a.hash() == IntervalList({{1, 1}, {3, 3}, {5, 5}, {7, 7}}).hash());
}

TEST_CASE("an edit shares every chunk it does not touch") {
    std::mt19937 rng(2);
    const auto v = random_intervals(rng, 10 * kMax);
    const IntervalList list(v);
    const std::size_t at = 4 * kMax + 17;
    const Interval added{v[at].hi + 1, v[at].hi + 1};  // between v[at] and v[at + 1]
    REQUIRE(added.lo < v[at + 1].lo);
    const IntervalList e = edited(list, at + 1, at + 1, {added});
    CHECK(e.flat() == spliced(v, at + 1, at + 1, {added}));
    CHECK(shared_chunks(list, e) == 9);
    CHECK(common_ends(list, e) == CommonEnds{at + 1, v.size() - at - 1});
}

TEST_CASE("whole chunks fit beside pending intervals are copied, so edits leave no trail of small chunks") {
    const IntervalList small{{10, 10}, {20, 20}};
    IntervalList::Builder b;
    b.push_back({1, 1});
    b.append_range(small, 0, 2);
    const IntervalList joined = std::move(b).finish();
    CHECK(joined.chunks().size() == 1);
    CHECK(joined.flat() == std::vector<Interval>{{1, 1}, {10, 10}, {20, 20}});
}

TEST_CASE("the hash depends on the intervals, not on how they were chunked") {
    std::mt19937 rng(3);
    const auto v = random_intervals(rng, 3 * kMax + 100);
    const IntervalList whole(v);
    IntervalList::Builder b;  // the same content in chunks of 10, 490, 1024, ...
    for (std::size_t i = 0; i < 10; ++i) b.push_back(v[i]);
    b.adopt_chunk(std::make_shared<IntervalChunk>(std::span<const Interval>(v).subspan(10, 490)));
    for (std::size_t i = 500; i < v.size(); ++i) b.push_back(v[i]);
    const IntervalList rebuilt = std::move(b).finish();
    REQUIRE(rebuilt.chunks().size() == whole.chunks().size() + 1);
    REQUIRE(rebuilt.flat() == v);
    CHECK(rebuilt.hash() == whole.hash());
    CHECK(rebuilt == whole);
    CHECK(rebuilt.singles() == whole.singles());
    const IntervalList other = edited(whole, 7, 8, {});
    CHECK(other.hash() != whole.hash());
    CHECK_FALSE(other == whole);
}

TEST_CASE("upper_bound_lo and contains agree with a search of the flat list") {
    std::mt19937 rng(4);
    const auto v = random_intervals(rng, 3 * kMax);
    const IntervalList list(v);
    for (int k = 0; k < 2000; ++k) {
        const U128 key = rng() % (v.back().hi + 10);
        const auto ub = std::upper_bound(v.begin(), v.end(), key, [](U128 x, const Interval& iv) { return x < iv.lo; });
        const auto index = static_cast<std::size_t>(ub - v.begin());
        INFO(static_cast<unsigned long long>(key));
        CHECK(list.upper_bound_lo(key) == index);
        CHECK(list.contains(key) == (index > 0 && v[index - 1].hi >= key));
    }
}

TEST_CASE("common_ends and diff_lists agree with plain vector computations over random edits") {
    std::mt19937 rng(5);
    for (int round = 0; round < 300; ++round) {
        const auto v = random_intervals(rng, rng() % (4 * kMax));
        const IntervalList list = rng() % 2 ? IntervalList(v) : built_one_by_one(v);
        const std::size_t from = v.empty() ? 0 : rng() % v.size();
        const std::size_t to = std::min(v.size(), from + rng() % 40);
        // The new middle: a random subset of the old one and of new intervals
        // between them; the list stays sorted and disjoint.
        std::vector<Interval> middle;
        for (std::size_t i = from; i < to; ++i) {
            if (rng() % 3) middle.push_back(v[i]);
            if (rng() % 4 == 0 && (i + 1 == v.size() || v[i].hi + 2 < v[i + 1].lo)) middle.push_back({v[i].hi + 1, v[i].hi + 1});
        }
        const IntervalList e = edited(list, from, to, middle);
        const auto w = spliced(v, from, to, middle);
        INFO("round " << round << " size " << v.size() << " edit [" << from << ", " << to << ")");
        REQUIRE(e.flat() == w);
        CHECK(common_ends(list, e) == naive_common_ends(v, w));
        const IntervalList fresh(w);  // same content, no chunk shared
        CHECK(common_ends(list, fresh) == naive_common_ends(v, w));
        for (const IntervalList& other : {e, fresh}) {
            const ListDiff d = diff_lists(list, other);
            CHECK(d.only_a.flat() == minus(v, w));
            CHECK(d.only_b.flat() == minus(w, v));
        }
        CHECK((e == fresh));
        CHECK(e.hash() == fresh.hash());
    }
}

TEST_CASE("partition_singles splits like a filter and shares chunks that are all one kind") {
    std::mt19937 rng(6);
    auto v = random_intervals(rng, 2 * kMax);
    std::vector<Interval> singles_only;
    for (U128 a = v.back().hi + 10; singles_only.size() < kMax; a += 2) singles_only.push_back({a, a});
    v.insert(v.end(), singles_only.begin(), singles_only.end());
    const IntervalList list(v);
    REQUIRE(list.chunks().size() == 3);

    const auto [singles, others] = partition_singles(list);
    std::vector<Interval> want_singles, want_others;
    for (const Interval& iv : v) (is_single(iv) ? want_singles : want_others).push_back(iv);
    CHECK(singles.flat() == want_singles);
    CHECK(others.flat() == want_others);
    CHECK(singles.singles() == want_singles.size());
    CHECK(list.singles() == want_singles.size());
    CHECK(singles.chunks().back() == list.chunks().back());  // the all-singles chunk, shared

    const auto [again_singles, again_others] = partition_singles(list);  // parts are kept per chunk
    CHECK(shared_chunks(singles, again_singles) == singles.chunks().size());
    CHECK(shared_chunks(others, again_others) == others.chunks().size());
}
