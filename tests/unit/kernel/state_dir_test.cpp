// kernel::check_state_dir: apply's check, before the commit, that the record
// of the apply can be written. It writes nothing; a missing directory is
// fine when the nearest existing one above it is writable (write_record
// creates it), a path through a regular file is not. (Permissions and
// read-only mounts: tests/kernel/cli_refusals.sh, which can drop root.)
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "kernel/apply_record.h"
#include "support/scratch_dir.h"

using namespace nftpolicy;

TEST_CASE("a writable state directory, existing or to be created, passes without writing") {
    testing::ScratchDir dir;
    CHECK(kernel::check_state_dir(dir.path.string()));
    CHECK(kernel::check_state_dir((dir.path / "a" / "b").string()));
    CHECK(kernel::check_state_dir((dir.path / "a" / "b/").string()));
    CHECK(dir.entries() == 0);
}

TEST_CASE("a state directory below a regular file is refused, naming it") {
    testing::ScratchDir dir;
    std::ofstream(dir.path / "file") << "x";
    const std::string state = (dir.path / "file" / "state").string();
    auto r = kernel::check_state_dir(state);
    REQUIRE_FALSE(r);
    CHECK(r.error().message ==
          "state directory '" + state + "' is not writable: Not a directory; nothing was applied");
    auto file = kernel::check_state_dir((dir.path / "file").string());
    REQUIRE_FALSE(file);
    CHECK(file.error().message.find("is not writable: not a directory") != std::string::npos);
}
