// Address lists updated from their changed lines (nftpolicyd's converge after
// an edit): held to a full parse of the edited text, for random edits of
// random lists, and the cases where the update must give up.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "policy/address_file.h"
#include "policy/address_list_cache.h"
#include "support/source.h"
#include "support/text_change.h"

using namespace nftpolicy;
using namespace nftpolicy::policy;

namespace {

// A full parse of `text`, as read_address_file does it without a cache.
std::optional<ParsedList> full_parse(const std::string& text) {
    SourceManager sources;
    Diagnostics diags;
    const SourceFile& policy = sources.add("/nonexistent/policy.toml", "");
    char path[] = "/tmp/nftpolicy-list-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    close(fd);
    auto f = read_address_file(policy, path, {}, sources, diags);
    unlink(path);
    if (!f) return std::nullopt;
    return ParsedList{f->addrs, f->entries, f->entries == f->addrs.v4.size() + f->addrs.v6.size()};
}

// The list of `after` derived from the parse of `before`, as a refresh does it.
std::optional<ParsedList> update(const std::string& before, const ParsedList& old, const std::string& after) {
    return update_list(after, text_change(before, after), old);
}

struct Rng {
    std::uint32_t s;
    std::uint32_t next(std::uint32_t n) {
        s = s * 1664525u + 1013904223u;
        return (s >> 8) % n;
    }
};

// A random line: mostly single addresses in a small space (so that edits
// collide, touch and duplicate), sometimes a prefix, a range, IPv6, a
// comment, a blank line or, rarely, garbage.
std::string random_line(Rng& r) {
    const std::uint32_t k = r.next(100);
    const std::string host = "10.0." + std::to_string(r.next(4)) + "." + std::to_string(r.next(256));
    if (k < 70) return host;
    if (k < 76) return "10.1." + std::to_string(r.next(8)) + ".0/24";
    if (k < 80) return "10.2.0." + std::to_string(r.next(100)) + "-10.2.0." + std::to_string(100 + r.next(100));
    if (k < 88) return "fd00::" + std::to_string(r.next(400)) + "  # v6";
    if (k < 93) return "# comment";
    if (k < 98) return "";
    return "10.0.0.300";
}

std::vector<std::string> random_lines(Rng& r, std::size_t n, bool hosts_only) {
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < n; ++i) lines.push_back(hosts_only ? "10.0." + std::to_string(i / 128) + "." + std::to_string(2 * (i % 128)) : random_line(r));
    return lines;
}

std::string join(const std::vector<std::string>& lines, bool final_newline) {
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) out += lines[i] + (i + 1 < lines.size() || final_newline ? "\n" : "");
    return out;
}

// Replaces, inserts or deletes a few lines, or edits inside one.
void random_edit(Rng& r, std::vector<std::string>& lines) {
    const std::uint32_t edits = 1 + r.next(3);
    for (std::uint32_t e = 0; e < edits; ++e) {
        const std::size_t at = lines.empty() ? 0 : r.next(static_cast<std::uint32_t>(lines.size()));
        switch (r.next(4)) {
            case 0: if (!lines.empty()) lines[at] = random_line(r); break;
            case 1: lines.insert(lines.begin() + static_cast<long>(at), random_line(r)); break;
            case 2: if (!lines.empty()) lines.erase(lines.begin() + static_cast<long>(at)); break;
            case 3: if (!lines.empty() && !lines[at].empty()) lines[at].back() = static_cast<char>('0' + r.next(10)); break;
        }
    }
}

}  // namespace

TEST_CASE("an updated list equals a full parse of the edited text, for random edits") {
    std::size_t updated = 0;
    for (std::uint32_t seed = 1; seed <= 600; ++seed) {
        Rng r{seed};
        std::vector<std::string> lines = random_lines(r, 40 + r.next(200), seed % 2 == 0);
        const bool nl = seed % 3 != 0;
        const std::string before = join(lines, nl);
        const auto old = full_parse(before);
        if (!old) continue;
        random_edit(r, lines);
        const std::string after = join(lines, nl);
        const auto want = full_parse(after);
        const auto got = update(before, *old, after);
        INFO("seed " << seed << "\nbefore:\n" << before << "\nafter:\n" << after);
        if (!got) continue;  // a full parse then answers
        ++updated;
        REQUIRE(want);
        CHECK(got->addrs == want->addrs);
        CHECK(got->entries == want->entries);
        CHECK(got->simple == want->simple);
    }
    CHECK(updated > 100);  // the cheap path is taken, not always given up
}

TEST_CASE("a one-address edit of a list of hosts is updated, the other family's list shared") {
    const std::string before = "# hosts\n10.0.0.2\n10.0.0.4\n10.0.0.6\nfd00::1\n";
    const std::string after = "# hosts\n10.0.0.2\n10.9.0.4\n10.0.0.6\nfd00::1\n";
    const auto old = full_parse(before);
    REQUIRE(old);
    CHECK(old->simple);
    const auto got = update(before, *old, after);
    REQUIRE(got);
    CHECK(got->addrs == full_parse(after)->addrs);
    REQUIRE(got->addrs.v6.chunks().size() == 1);
    CHECK(got->addrs.v6.chunks()[0] == old->addrs.v6.chunks()[0]);  // the same chunk, not a copy
}

TEST_CASE("the update gives up where only a full parse is exact") {
    const std::string hosts = "10.0.0.2\n10.0.0.4\n";
    const auto old = full_parse(hosts);
    REQUIRE(old);
    CHECK_FALSE(update(hosts, *old, "10.0.0.2\n10.0.0.3\n"));    // touches a neighbour: they merge
    CHECK_FALSE(update(hosts, *old, "10.0.0.2\n10.0.0.2\n"));    // a duplicate
    CHECK_FALSE(update(hosts, *old, "10.0.0.2\n10.0.0.x\n"));    // does not parse: the full parse reports it
    const std::string merged = "10.0.0.2\n10.0.0.3\n";
    const auto not_simple = full_parse(merged);
    REQUIRE(not_simple);
    CHECK_FALSE(not_simple->simple);
    CHECK_FALSE(update(merged, *not_simple, "10.0.0.2\n10.0.0.9\n"));
}

namespace {

void write_file(const std::string& path, const std::string& text) {
    FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f != nullptr);
    REQUIRE(std::fwrite(text.data(), 1, text.size(), f) == text.size());
    std::fclose(f);
}

}  // namespace

TEST_CASE("the cache follows a kept list's edits, and hands back a text it cannot derive") {
    char dir[] = "/tmp/nftpolicy-cache-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    const std::string path = std::string(dir) + "/list";
    AddressListCache cache;
    CHECK_FALSE(cache.holds(path));
    write_file(path, "10.0.0.2\n10.0.0.4\n");
    cache.remember(path, "10.0.0.2\n10.0.0.4\n", *full_parse("10.0.0.2\n10.0.0.4\n"));
    REQUIRE(cache.holds(path));

    write_file(path, "10.0.0.2\n10.0.0.6\n10.0.0.8\n");
    auto r = cache.refresh(path, {"a list", 1 << 20});
    REQUIRE(r);
    REQUIRE(r->parsed);
    CHECK(r->parsed->addrs == full_parse("10.0.0.2\n10.0.0.6\n10.0.0.8\n")->addrs);
    CHECK(r->parsed->entries == 3);
    CHECK(cache.holds(path));

    // The next edit is compared with the text the refresh brought up to date.
    write_file(path, "10.0.0.2\n10.0.0.8\n");
    r = cache.refresh(path, {"a list", 1 << 20});
    REQUIRE(r);
    REQUIRE(r->parsed);
    CHECK(r->parsed->addrs == full_parse("10.0.0.2\n10.0.0.8\n")->addrs);

    // 10.0.0.3 merges with 10.0.0.2: only a full parse is exact.
    write_file(path, "10.0.0.2\n10.0.0.3\n");
    r = cache.refresh(path, {"a list", 1 << 20});
    REQUIRE(r);
    CHECK_FALSE(r->parsed);
    CHECK(r->text == "10.0.0.2\n10.0.0.3\n");
    CHECK_FALSE(cache.holds(path));

    // A list that cannot be read any more is no longer kept.
    cache.remember(path, "10.0.0.2\n", *full_parse("10.0.0.2\n"));
    unlink(path.c_str());
    CHECK_FALSE(cache.refresh(path, {"a list", 1 << 20}));
    CHECK_FALSE(cache.holds(path));
    rmdir(dir);
}
