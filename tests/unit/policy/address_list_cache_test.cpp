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

namespace {

// Bytes this process has read with read() and its kin (/proc/self/io).
std::uint64_t bytes_read() {
    std::FILE* f = std::fopen("/proc/self/io", "r");
    INFO("/proc/self/io is needed to tell whether a list was read (CONFIG_TASK_IO_ACCOUNTING)");
    REQUIRE(f != nullptr);
    unsigned long long rchar = 0;
    REQUIRE(std::fscanf(f, "rchar: %llu", &rchar) == 1);
    std::fclose(f);
    return rchar;
}

// 100,000 hosts two apart (a simple list), 1.3 MB; line `k` is `edit` if given.
std::string host_list(std::size_t edited = SIZE_MAX, const std::string& edit = "") {
    std::string text;
    for (std::size_t i = 0; i < 100000; ++i) {
        text += i == edited ? edit
                            : "10." + std::to_string(i / 32768) + "." + std::to_string(i / 128 % 256) + "." +
                                  std::to_string(i % 128 * 2);
        text += '\n';
    }
    return text;
}

constexpr FileKind kList{"a list", 64 << 20};

// A kept list under /dev/shm (tmpfs: local_stamp vouches for it wherever
// /tmp is).
struct KeptList {
    std::string dir, path;
    AddressListCache cache;
    KeptList() {
        char tmpl[] = "/dev/shm/nftpolicy-ahead-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        dir = tmpl;
        path = dir + "/agents.txt";
        write_file(path, host_list());
        cache.remember(path, host_list(), *full_parse(host_list()));
    }
    ~KeptList() {
        unlink(path.c_str());
        rmdir(dir.c_str());
    }
    // Refreshes the list; how many bytes that read.
    std::uint64_t refresh(std::optional<ParsedList>& parsed) {
        const std::uint64_t before = bytes_read();
        auto r = cache.refresh(path, kList);
        const std::uint64_t read = bytes_read() - before;
        REQUIRE(r);
        parsed = r->parsed;
        return read;
    }
};

}  // namespace

TEST_CASE("a list read ahead is not read again by the refresh, while nothing touched it", "[ahead]") {
    KeptList kept;
    const std::string edited = host_list(5000, "10.200.0.1");
    write_file(kept.path, edited);
    kept.cache.read_ahead(kept.path, kList);
    std::optional<ParsedList> parsed;
    CHECK(kept.refresh(parsed) < 64 * 1024);  // the file is 1.3 MB
    REQUIRE(parsed);
    CHECK(parsed->addrs == full_parse(edited)->addrs);
    CHECK(parsed->entries == 100000);

    // And again, as long as the file keeps its stamp (a reload after an edit of the policy).
    CHECK(kept.refresh(parsed) < 64 * 1024);
    REQUIRE(parsed);
    CHECK(parsed->addrs == full_parse(edited)->addrs);
}

TEST_CASE("a list read ahead is read again once touched, changed, or replaced", "[ahead]") {
    KeptList kept;
    std::optional<ParsedList> parsed;
    const std::string first = host_list(5000, "10.200.0.1");
    write_file(kept.path, first);
    kept.cache.read_ahead(kept.path, kList);

    SECTION("an event for the file (a write not yet closed, say)") {
        kept.cache.touched(kept.path);
        CHECK(kept.refresh(parsed) >= first.size());
        REQUIRE(parsed);
        CHECK(parsed->addrs == full_parse(first)->addrs);
    }
    SECTION("an overflowed event queue") {
        kept.cache.touched_all();
        CHECK(kept.refresh(parsed) >= first.size());
    }
    SECTION("a write of another size, with no event told") {
        const std::string second = host_list(5000, "10.200.0.101");
        write_file(kept.path, second);
        CHECK(kept.refresh(parsed) >= second.size());
        REQUIRE(parsed);
        CHECK(parsed->addrs == full_parse(second)->addrs);
    }
    SECTION("a file renamed over it, with no event told") {
        const std::string second = host_list(5000, "10.200.0.3");
        write_file(kept.path + ".new", second);
        REQUIRE(std::rename((kept.path + ".new").c_str(), kept.path.c_str()) == 0);
        CHECK(kept.refresh(parsed) >= second.size());
        REQUIRE(parsed);
        CHECK(parsed->addrs == full_parse(second)->addrs);
    }
}

TEST_CASE("reading ahead leaves the compile to read what it cannot derive", "[ahead]") {
    KeptList kept;
    kept.cache.read_ahead(kept.dir + "/other.txt", kList);  // not kept: nothing happens
    CHECK_FALSE(kept.cache.holds(kept.dir + "/other.txt"));

    write_file(kept.path, host_list(5000, "10.0.39.17"));  // touches the next line's 10.0.39.18: only a full parse is exact
    kept.cache.read_ahead(kept.path, kList);
    CHECK_FALSE(kept.cache.holds(kept.path));

    kept.cache.remember(kept.path, host_list(), *full_parse(host_list()));
    unlink(kept.path.c_str());
    kept.cache.read_ahead(kept.path, kList);  // cannot be read: the compile reports it
    CHECK_FALSE(kept.cache.holds(kept.path));
}
