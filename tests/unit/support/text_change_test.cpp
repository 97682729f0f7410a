// TextChange: the change found by feeding a new text in pieces is the
// shortest one (head and tail as long as they can be without overlapping),
// and applying it gives the new text; checked against a byte-by-byte
// computation over random texts, random edits and random piece sizes.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "support/text_change.h"

using namespace nftpolicy;

namespace {

struct Rng {
    std::uint32_t s;
    std::uint32_t next(std::uint32_t n) {
        s = s * 1664525u + 1013904223u;
        return (s >> 8) % n;
    }
};

// Mostly lines over a small alphabet, so that edits repeat what is around
// them (a change whose bytes also occur beside it).
std::string random_text(Rng& r, std::size_t n) {
    std::string t;
    for (std::size_t i = 0; i < n; ++i) t += r.next(8) == 0 ? '\n' : static_cast<char>('a' + r.next(3));
    return t;
}

std::string random_edit(Rng& r, std::string t) {
    const std::uint32_t edits = r.next(4);
    for (std::uint32_t e = 0; e < edits; ++e) {
        const std::size_t at = t.empty() ? 0 : r.next(static_cast<std::uint32_t>(t.size()));
        const std::size_t len = std::min<std::size_t>(t.size() - at, r.next(6));
        switch (r.next(3)) {
            case 0: t.replace(at, len, random_text(r, r.next(6))); break;
            case 1: t.insert(at, random_text(r, 1 + r.next(40))); break;
            case 2: t.erase(at, len); break;
        }
    }
    return t;
}

// The shortest change, one byte at a time.
TextChange expected(const std::string& a, const std::string& b) {
    std::size_t head = 0;
    while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
    std::size_t tail = 0;
    while (tail < std::min(a.size(), b.size()) - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) ++tail;
    return TextChange{head, b.size() - tail, a.substr(head, a.size() - tail - head)};
}

}  // namespace

TEST_CASE("text_change: the shortest change, for random edits fed in random pieces") {
    for (std::uint32_t seed = 1; seed <= 3000; ++seed) {
        Rng r{seed};
        const std::string before = random_text(r, r.next(seed % 10 == 0 ? 3000 : 120));
        const std::string after = random_edit(r, before);
        INFO("seed " << seed << "\nbefore: " << before << "\nafter:  " << after);
        const TextChange want = expected(before, after);
        CHECK(text_change(before, after) == want);

        std::string text = before;
        ChangeFinder finder(text, after.size());
        for (std::size_t at = 0; at < after.size();) {
            const std::size_t n = std::min<std::size_t>(after.size() - at, 1 + r.next(seed % 2 ? 7 : 700));
            REQUIRE(finder.feed(std::string_view(after).substr(at, n)));
            at += n;
        }
        REQUIRE(finder.complete());
        CHECK(std::move(finder).finish(text) == want);
        CHECK(text == after);
    }
}

TEST_CASE("text_change: the example of the header, and the edges") {
    CHECK(text_change("10.0.0.1\n10.0.0.3\n", "10.0.0.1\n10.0.0.44\n") == TextChange{16, 18, "3"});
    CHECK(text_change("", "") == TextChange{0, 0, ""});
    CHECK(text_change("abc", "abc") == TextChange{3, 3, ""});
    CHECK(text_change("abc", "") == TextChange{0, 0, "abc"});
    CHECK(text_change("", "abc") == TextChange{0, 3, ""});
    CHECK(text_change("abc", "ab") == TextChange{2, 2, "c"});
    CHECK(text_change("aXa", "aa") == TextChange{1, 1, "X"});  // the tail may start where the head ended
    CHECK(text_change("aa", "aaa") == TextChange{2, 3, ""});   // head first: the insertion is at the end
}

TEST_CASE("ChangeFinder: more bytes than announced are refused; fewer are not complete") {
    const std::string old = "abc";
    ChangeFinder finder(old, 2);
    CHECK_FALSE(finder.complete());
    CHECK(finder.feed("a"));
    CHECK_FALSE(finder.complete());
    CHECK_FALSE(finder.feed("bc"));
    CHECK(finder.feed("b"));
    CHECK(finder.complete());
}
