// Atomic replacement: the new content in place, no temporary file left
// behind, with the sync now or later (sync_file); a prepared file that is
// not committed leaves nothing. Durability itself (fsync) cannot be
// observed without cutting the power: these check the rest.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "support/atomic_file.h"
#include "support/scratch_dir.h"

using namespace nftpolicy;

namespace {

std::string contents(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("write_file_atomic replaces the file, synced now or later, and leaves no temporary file") {
    testing::ScratchDir d;
    REQUIRE(write_file_atomic(d.file("applied"), "one\n"));
    CHECK(contents(d.file("applied")) == "one\n");
    REQUIRE(write_file_atomic(d.file("applied"), "two\n", Sync::later));
    CHECK(contents(d.file("applied")) == "two\n");  // readers see it before it is synced
    CHECK(sync_file(d.file("applied")));
    CHECK(d.entries() == 1);
    REQUIRE(write_file_atomic(d.file("sub/dir/metrics"), "m\n", Sync::later));  // directories made
    CHECK(contents(d.file("sub/dir/metrics")) == "m\n");
}

TEST_CASE("sync_file names what it cannot sync; an uncommitted PendingFile leaves nothing") {
    testing::ScratchDir d;
    auto r = sync_file(d.file("missing"));
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "cannot open " + d.file("missing") + ": No such file or directory");
    {
        auto pending = PendingFile::prepare(d.file("record"), "x\n", Sync::later);
        REQUIRE(pending);
        CHECK(d.entries() == 1);  // the temporary file
    }
    CHECK(d.entries() == 0);
}
