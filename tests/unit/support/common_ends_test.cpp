// common_prefix / common_suffix: the block-wise memcmp must find exactly what
// an element-by-element compare finds, at every position around the block
// size, and the suffix must never run into the prefix.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/common_ends.h"

using namespace nftpolicy;

namespace {

struct Pair {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    friend bool operator==(const Pair&, const Pair&) = default;
};

template <typename T>
std::size_t naive_prefix(const std::vector<T>& a, const std::vector<T>& b) {
    std::size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
    return i;
}

template <typename T>
std::size_t naive_suffix(const std::vector<T>& a, const std::vector<T>& b, std::size_t limit) {
    std::size_t s = 0;
    while (s < limit && a[a.size() - 1 - s] == b[b.size() - 1 - s]) ++s;
    return s;
}

template <typename T>
void check_both(const std::vector<T>& a, const std::vector<T>& b) {
    const std::size_t p = common_prefix<T>(a, b);
    REQUIRE(p == naive_prefix(a, b));
    const std::size_t limit = std::min(a.size(), b.size()) - p;
    REQUIRE(common_suffix<T>(a, b, limit) == naive_suffix(a, b, limit));
}

}  // namespace

TEST_CASE("common ends of byte strings match an element-by-element compare") {
    const std::size_t block = detail::kBlock<char>;
    std::vector<char> base(3 * block + 7);
    for (std::size_t i = 0; i < base.size(); ++i) base[i] = static_cast<char>('a' + i % 23);
    for (std::size_t at : {std::size_t(0), std::size_t(1), block - 1, block, block + 1, 2 * block, base.size() - 1}) {
        std::vector<char> changed = base;
        changed[at] = '#';
        check_both(base, changed);
        std::vector<char> longer = base;
        longer.insert(longer.begin() + static_cast<long>(at), 'x');  // an inserted line moves the tail
        check_both(base, longer);
    }
    check_both(base, base);
    check_both(base, std::vector<char>{});
}

TEST_CASE("common ends of 16-byte records, random edits") {
    std::mt19937_64 rng(11);
    const std::size_t block = detail::kBlock<Pair>;
    for (int round = 0; round < 200; ++round) {
        std::vector<Pair> a(rng() % (4 * block));
        for (auto& x : a) x = Pair{rng() % 4, rng() % 4};
        std::vector<Pair> b = a;
        if (!b.empty() && rng() % 2) b[rng() % b.size()].a = 9;  // changed in place
        if (rng() % 2) b.insert(b.begin() + static_cast<long>(b.empty() ? 0 : rng() % b.size()), Pair{7, 7});
        check_both(a, b);
        check_both(b, a);
    }
}

TEST_CASE("the suffix stops at its limit even when everything is equal") {
    const std::string s(100, 'z');
    const std::string t(150, 'z');
    REQUIRE(common_prefix<char>(s, t) == 100);
    REQUIRE(common_suffix<char>(s, t, 0) == 0);
    REQUIRE(common_suffix<char>(s, t, 40) == 40);
}
