// The Watcher's reading of inotify events: a write not yet closed only
// touches a file (a list read before it is stale, but it is not whole yet);
// a close after writing, or a rename into place, changes it and makes it
// whole; files nobody watches are not reported.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "service/watcher.h"
#include "support/scratch_dir.h"

using namespace nftpolicy;
using nftpolicy::service::Watcher;

namespace {

std::set<std::string> set_of(std::initializer_list<std::string> xs) { return {xs}; }

}  // namespace

TEST_CASE("a write not yet closed touches a watched file; its close changes it", "[watcher]") {
    testing::ScratchDir dir;
    const std::string list = dir.file("agents.txt");
    std::ofstream(list) << "10.0.0.1\n";
    auto w = Watcher::create();
    REQUIRE(w);
    CHECK(w->watch({list}).empty());
    CHECK(w->complete());
    w->drain();

    const int fd = ::open(list.c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, "#", 1, 0) == 1);
    auto open_write = w->drain();
    CHECK(open_write.touched == set_of({list}));
    CHECK(open_write.changed.empty());
    CHECK(open_write.written.empty());

    ::close(fd);
    auto closed = w->drain();
    CHECK(closed.touched == set_of({list}));
    CHECK(closed.changed == set_of({list}));
    CHECK(closed.written == set_of({list}));

    std::ofstream(dir.file("agents.txt.tmp")) << "10.0.0.2\n";  // not watched
    auto unrelated = w->drain();
    CHECK(unrelated.touched.empty());
    REQUIRE(std::rename(dir.file("agents.txt.tmp").c_str(), list.c_str()) == 0);
    auto renamed = w->drain();
    CHECK(renamed.changed == set_of({list}));
    CHECK(renamed.written == set_of({list}));

    REQUIRE(::unlink(list.c_str()) == 0);
    auto deleted = w->drain();
    CHECK(deleted.changed == set_of({list}));
    CHECK(deleted.written.empty());
}

TEST_CASE("a watcher that cannot watch a file's directory says it is not complete", "[watcher]") {
    testing::ScratchDir dir;
    auto w = Watcher::create();
    REQUIRE(w);
    CHECK(w->watch({dir.file("agents.txt"), dir.file("missing/other.txt")}).size() == 1);
    CHECK_FALSE(w->complete());
    CHECK(w->watch({dir.file("agents.txt")}).empty());
    CHECK(w->complete());
}
