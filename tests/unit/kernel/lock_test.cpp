// The apply lock and the apply record, without a kernel.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "kernel/apply_lock.h"
#include "kernel/apply_record.h"
#include "kernel/element_cache.h"

using namespace nftpolicy;

namespace {

std::string scratch_dir() {
    char tmpl[] = "/tmp/nftpolicy-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    return tmpl;
}

}  // namespace

TEST_CASE("a second apply cannot take the lock while the first holds it") {
    const std::string dir = scratch_dir();
    const std::string path = dir + "/run/lock";
    {
        auto first = kernel::ApplyLock::acquire(path, 0);
        REQUIRE(first);
        auto second = kernel::ApplyLock::acquire(path, 0);
        REQUIRE_FALSE(second);
        CHECK(second.error().kind == ErrorKind::conflict);
    }
    CHECK(kernel::ApplyLock::acquire(path, 0));  // released with the first
    std::filesystem::remove_all(dir);
}

TEST_CASE("the apply record round-trips through its file") {
    const std::string dir = scratch_dir();
    kernel::ApplyRecord r{"nftpolicy", "/etc/nftpolicy/site.toml", "gw1", {"ses=coexist"}, {"ses.backoffice"},
                          "0123456789abcdef", 42, 1700000000,
                          {"flowtable fastpath left out: this kernel has no flowtables (No such file or directory)"}};
    REQUIRE(kernel::write_record(dir + "/state/applied", r));
    auto back = kernel::read_record(dir + "/state/applied");
    REQUIRE(back);
    REQUIRE(*back);
    CHECK((*back)->host == "gw1");
    CHECK((*back)->phases == r.phases);
    CHECK((*back)->gates == r.gates);
    CHECK((*back)->ruleset_hash == r.ruleset_hash);
    CHECK((*back)->genid == 42);
    CHECK((*back)->notes == r.notes);
    auto missing = kernel::read_record(dir + "/nothing");
    REQUIRE(missing);
    CHECK_FALSE(*missing);
    std::filesystem::remove_all(dir);
}

TEST_CASE("known elements round-trip through their file; garbage is ignored") {
    const std::string dir = scratch_dir();
    kernel::KnownElements k{"nftpolicy", "boot:1", 7, {}, nullptr};
    k.sets["big"] = {net::Family::ipv4, {{0x0a000000, 0x0a000000}, {0x0a000002, 0x0a0000ff}, {0xfffffff0, 0xffffffff}}};
    const net::U128 fd00 = static_cast<net::U128>(0xfd00) << 112;
    k.sets["v6"] = {net::Family::ipv6, {{fd00, fd00 + 0xffff}, {~net::U128{0}, ~net::U128{0}}}};
    k.sets["empty"] = {net::Family::ipv4, {}};
    REQUIRE(kernel::write_known(dir + "/elements", k));
    auto back = kernel::read_known(dir + "/elements");
    REQUIRE(back);
    CHECK(back->table == "nftpolicy");
    CHECK(back->genid == 7);
    CHECK(back->scope == "boot:1");
    REQUIRE(back->sets.size() == 3);
    for (const auto& [name, content] : k.sets) {
        CHECK(back->sets.at(name).family == content.family);
        CHECK(back->sets.at(name).intervals == content.intervals);
    }
    // A truncated file is not trusted.
    std::filesystem::resize_file(dir + "/elements", std::filesystem::file_size(dir + "/elements") - 1);
    CHECK_FALSE(kernel::read_known(dir + "/elements"));
    REQUIRE(kernel::write_record(dir + "/garbage", {}));
    CHECK_FALSE(kernel::read_known(dir + "/garbage"));
    std::filesystem::remove_all(dir);
}
