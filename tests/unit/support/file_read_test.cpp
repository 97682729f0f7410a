// read_regular_file: a regular file is read whole; anything else is refused
// at once, by type, without blocking (a FIFO with no writer) and without
// reading forever (/dev/zero).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/file_read.h"
#include "support/scratch_dir.h"

using namespace nftpolicy;

namespace {

constexpr FileKind kSmall{"a test file", 16};

std::string error_of(const std::string& path, const FileKind& kind = kSmall) {
    auto r = read_regular_file(path, kind);
    return r ? std::string("read ") + std::to_string(r->size()) + " bytes" : r.error().message;
}

}  // namespace

TEST_CASE("read_regular_file: a regular file, up to and at the limit") {
    testing::ScratchDir s;
    std::ofstream(s.file("ok")) << "0123456789abcdef";
    auto r = read_regular_file(s.file("ok"), kSmall);
    REQUIRE(r);
    CHECK(*r == "0123456789abcdef");
    std::ofstream(s.file("empty")).flush();
    CHECK(read_regular_file(s.file("empty"), kSmall).value() == "");
    std::ofstream(s.file("big")) << "0123456789abcdefX";
    CHECK(error_of(s.file("big")) == "it is larger than 16 bytes, the limit for a test file");
}

TEST_CASE("read_regular_file_into: replaces the buffer's text and keeps its allocation") {
    testing::ScratchDir s;
    std::ofstream(s.file("short")) << "abc";
    std::string buffer(200, 'x');
    const char* const storage = buffer.data();
    REQUIRE(read_regular_file_into(s.file("short"), kSmall, buffer));
    CHECK(buffer == "abc");
    CHECK(buffer.data() == storage);
    std::ofstream(s.file("ok")) << "0123456789abcdef";
    REQUIRE(read_regular_file_into(s.file("ok"), kSmall, buffer));
    CHECK(buffer == "0123456789abcdef");
    CHECK(buffer.data() == storage);
    CHECK(read_regular_file_into(s.path.string(), kSmall, buffer).error().message ==
          "it is a directory; expected a regular file");
}

TEST_CASE("read_regular_file: what is not a regular file is named") {
    testing::ScratchDir s;
    REQUIRE(mkfifo(s.file("fifo").c_str(), 0600) == 0);
    CHECK(error_of(s.file("fifo")) == "it is a named pipe (FIFO); expected a regular file");
    CHECK(error_of(s.path.string()) == "it is a directory; expected a regular file");
    CHECK(error_of("/dev/zero") == "it is a character device; expected a regular file");
    CHECK(error_of("") == "the file name is empty; expected the path of a regular file");
    CHECK(error_of(s.file("missing")) == "no such file");
    std::filesystem::create_symlink("loop", s.file("loop"));
    CHECK(error_of(s.file("loop")) == "too many levels of symbolic links (a symlink loop?)");
    CHECK(error_of(s.file("loop") + "/x") == "too many levels of symbolic links (a symlink loop?)");
    CHECK(error_of(s.file(std::string(300, 'n').c_str())) ==
          "the file name is longer than the system allows");
}

TEST_CASE("check_regular_file: the same answers without reading") {
    testing::ScratchDir s;
    std::ofstream(s.file("ok")) << "0123456789abcdef";
    CHECK(check_regular_file(s.file("ok"), kSmall).has_value());
    std::ofstream(s.file("big")) << "0123456789abcdefX";
    REQUIRE(mkfifo(s.file("fifo").c_str(), 0600) == 0);
    for (const std::string& path : {s.file("big"), s.file("fifo"), s.path.string(), std::string("/dev/zero"),
                                    s.file("missing")}) {
        INFO(path);
        auto checked = check_regular_file(path, kSmall);
        REQUIRE_FALSE(checked);
        CHECK(checked.error().message == error_of(path));
    }
}

TEST_CASE("read_regular_file: a file that grows past the limit while read is refused") {
    // /proc files report size 0 and then have content: the limit still holds.
    auto r = read_regular_file("/proc/self/status", FileKind{"a test file", 8});
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "it is larger than 8 bytes, the limit for a test file");
    CHECK(read_regular_file("/proc/self/status", FileKind{"a test file", 1 << 20}).has_value());
}

TEST_CASE("refresh_regular_file: the kept text follows the file, and the change is told") {
    testing::ScratchDir s;
    const FileKind kind{"a test file", 1 << 22};
    std::string big;
    for (int i = 0; i < 100000; ++i) big += "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + "\n";
    std::ofstream(s.file("list")) << big;
    std::string text = big;
    std::vector<char> scratch;

    std::string edited = big;  // one line changed in place, past the first block read
    edited.replace(900000, 4, "9999");
    std::ofstream(s.file("list")) << edited;
    auto c = refresh_regular_file(s.file("list"), kind, text, scratch);
    REQUIRE(c);
    CHECK(text == edited);
    CHECK(*c == text_change(big, edited));
    CHECK(c->new_end - c->begin <= 4);

    std::string grown = "# header\n" + edited + "10.9.9.9\n";  // changes at both ends
    std::ofstream(s.file("list")) << grown;
    c = refresh_regular_file(s.file("list"), kind, text, scratch);
    REQUIRE(c);
    CHECK(text == grown);
    CHECK(*c == text_change(edited, grown));

    std::ofstream(s.file("list")) << "";
    c = refresh_regular_file(s.file("list"), kind, text, scratch);
    REQUIRE(c);
    CHECK(text.empty());
    CHECK(c->removed == grown);
}

TEST_CASE("refresh_regular_file: errors leave the text as it was; a file that changes while read is read whole") {
    testing::ScratchDir s;
    std::string text = "kept\n";
    std::vector<char> scratch;
    auto c = refresh_regular_file(s.path.string(), kSmall, text, scratch);
    REQUIRE_FALSE(c);
    CHECK(c.error().message == "it is a directory; expected a regular file");
    CHECK(text == "kept\n");
    std::ofstream(s.file("big")) << "0123456789abcdefX";
    CHECK(refresh_regular_file(s.file("big"), kSmall, text, scratch).error().message ==
          "it is larger than 16 bytes, the limit for a test file");
    CHECK(text == "kept\n");
    // /proc files report size 0 and then have content, like a file written
    // while it is read: the whole file is read again and compared.
    c = refresh_regular_file("/proc/self/status", FileKind{"a test file", 1 << 20}, text, scratch);
    REQUIRE(c);
    CHECK(text.starts_with("Name:"));
    CHECK(*c == text_change("kept\n", text));
}

TEST_CASE("format_size") {
    CHECK(format_size(8u << 20) == "8 MiB");
    CHECK(format_size(4096) == "4 KiB");
    CHECK(format_size(1000) == "1000 bytes");
}
