// local_stamp: a stamp only for what it can vouch for (a regular file with
// one link on a local filesystem), and a different stamp after a change of
// size or a rename over the file. The files live under /dev/shm (tmpfs),
// so that the checks do not depend on the filesystem of /tmp.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "support/file_stamp.h"

using namespace nftpolicy;
namespace fs = std::filesystem;

namespace {

struct ShmDir {
    fs::path path;
    ShmDir() {
        char tmpl[] = "/dev/shm/nftpolicy-stamp-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~ShmDir() { fs::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace

TEST_CASE("local_stamp vouches for a regular file with one link on tmpfs", "[stamp]") {
    ShmDir dir;
    const std::string list = dir.file("agents.txt");
    write_file(list, "10.0.0.1\n");
    auto before = local_stamp(list);
    REQUIRE(before);
    CHECK(before->exists);
    CHECK(before->size == 9);
    CHECK(local_stamp(list) == before);
    CHECK(file_stamp(list) == *before);

    write_file(list, "10.0.0.1\n10.0.0.3\n");  // another size
    auto grown = local_stamp(list);
    REQUIRE(grown);
    CHECK(grown != before);

    const std::string next = dir.file("agents.txt.new");
    write_file(next, "10.0.0.1\n10.0.0.3\n");  // the same size, renamed over it: another inode
    REQUIRE(std::rename(next.c_str(), list.c_str()) == 0);
    auto renamed = local_stamp(list);
    REQUIRE(renamed);
    CHECK(renamed->ino != grown->ino);
    CHECK(renamed != grown);
}

TEST_CASE("local_stamp refuses what another name or another machine may change", "[stamp]") {
    ShmDir dir;
    const std::string list = dir.file("agents.txt");
    write_file(list, "10.0.0.1\n");

    // A symlink: its target may be written through its own directory.
    const std::string link = dir.file("link.txt");
    REQUIRE(symlink(list.c_str(), link.c_str()) == 0);
    CHECK_FALSE(local_stamp(link));
    CHECK(file_stamp(link) == *local_stamp(list));  // file_stamp follows it

    // A second hard link: the same.
    const std::string hard = dir.file("hard.txt");
    REQUIRE(::link(list.c_str(), hard.c_str()) == 0);
    CHECK_FALSE(local_stamp(list));
    REQUIRE(unlink(hard.c_str()) == 0);
    CHECK(local_stamp(list));

    CHECK_FALSE(local_stamp(dir.path.string()));       // a directory
    CHECK_FALSE(local_stamp(dir.file("missing")));     // nothing
    CHECK_FALSE(file_stamp(dir.file("missing")).exists);
    CHECK_FALSE(local_stamp("/proc/self/status"));     // procfs: not a local disk filesystem
}
