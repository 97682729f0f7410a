// Diagnostics render as file:line:col, the source line, and a caret marker.
#include <catch2/catch.hpp>

#include "support/columns.h"
#include "support/diagnostic.h"
#include "support/text.h"

using namespace nftpolicy;

TEST_CASE("diagnostic renders location, line and caret") {
    SourceManager sm;
    const auto& f = sm.add("site.toml", "[groups]\nsevices = [\"ssh\"]\n");
    Diagnostics diags;
    auto& d = diags.error(SourceSpan{&f, {2, 1}, {2, 7}}, "unknown key 'sevices'; did you mean 'services'?");
    add_note(d, {}, "expected one of: groups, services");
    CHECK(diags.has_errors());
    CHECK(render(d) ==
          "site.toml:2:1: error: unknown key 'sevices'; did you mean 'services'?\n"
          "    2 | sevices = [\"ssh\"]\n"
          "      | ^~~~~~~\n"
          "note: expected one of: groups, services\n");
}

TEST_CASE("warnings do not count as errors") {
    Diagnostics diags;
    diags.warning({}, "w");
    CHECK_FALSE(diags.has_errors());
    CHECK(diags.first_error() == nullptr);
    CHECK(render(diags.all()[0]) == "nftpolicy: warning: w\n");
}

TEST_CASE("closest_match suggests plausible typos only") {
    std::vector<std::string> keys{"services", "groups", "flows"};
    CHECK(closest_match("sevices", keys) == "services");
    CHECK(closest_match("flow", keys) == "flows");
    CHECK(closest_match("zzzzzz", keys).empty());
    CHECK(edit_distance("kitten", "sitting") == 3);
    // An adjacent transposition is one edit: the commonest typo.
    CHECK(edit_distance("tpc", "tcp") == 1);
    CHECK(closest_match("tabel", {"table", "tcp"}) == "table");
}

TEST_CASE("a long line is quoted as a window around the span, with the caret under it") {
    SourceManager sm;
    std::string line = "x = [" + std::string(1000, '1') + ", bad, " + std::string(1000, '2') + "]";
    const auto& f = sm.add("site.toml", line + "\n");
    auto col = static_cast<std::uint32_t>(line.find("bad") + 1);
    Diagnostics diags;
    auto& d = diags.error(SourceSpan{&f, {1, col}, {1, col + 2}}, "bad value");
    std::string out = render(d);
    std::string quoted = out.substr(out.find(" | ") + 3);
    quoted = quoted.substr(0, quoted.find('\n'));
    CHECK(quoted.size() == 3 + 200 + 3);  // "...", the window, "..."
    CHECK(quoted.starts_with("..."));
    CHECK(quoted.ends_with("..."));
    std::string marker = out.substr(out.rfind(" | ") + 3);
    CHECK(quoted.substr(marker.find('^'), 3) == "bad");
    CHECK(marker.ends_with("^~~\n"));
}

TEST_CASE("a window never cuts a UTF-8 sequence") {
    SourceManager sm;
    std::string line;
    for (int i = 0; i < 300; ++i) line += "\xE2\x82\xAC";  // the euro sign, three bytes each
    const auto& f = sm.add("site.toml", line + "\n");
    Diagnostics diags;
    // Near the end: the window starts 200 bytes before it, in a character.
    std::string out = render(diags.error(SourceSpan{&f, {1, 295}, {1, 295}}, "m"));
    std::string quoted = out.substr(out.find(" | ") + 3);
    quoted = quoted.substr(0, quoted.find('\n'));
    REQUIRE(quoted.starts_with("..."));
    quoted = quoted.substr(3);
    CHECK(quoted.size() % 3 == 0);
    CHECK(static_cast<unsigned char>(quoted[0]) == 0xE2);
    // The caret stands under character 295: as many columns in as the
    // window shows before it, not as many bytes.
    std::string marker = out.substr(out.rfind(" | ") + 3);
    std::size_t shown_before = (quoted.size() - 3 * (300 - 294)) / 3;
    CHECK(marker == std::string(3 + shown_before, ' ') + "^\n");
}

TEST_CASE("columns count characters, and a byte order mark is none") {
    SourceManager sm;
    const auto& f = sm.add("site.toml", "\xEF\xBB\xBF\"\xC3\xA9\" = x\nb\t= \xE2\x82\xAC" "1\n");
    CHECK(f.line(1) == "\"\xC3\xA9\" = x");  // the mark is not shown
    CHECK(position_of(f, 3) == SourcePos{1, 1});   // the first character after the mark
    CHECK(position_of(f, 10) == SourcePos{1, 7});  // x: é is one column
    CHECK(position_of(f, 19) == SourcePos{2, 6});  // 1, after the euro sign
    CHECK(byte_of_column(f.line(1), 7) == 7);
    CHECK(byte_of_column("ab", 4) == 3);  // past the end: the columns beyond it
    CHECK(char_count("\xC3\xA9\xE2\x82\xAC" "a") == 3);
    Diagnostics diags;
    std::string out = render(diags.error(SourceSpan{&f, {1, 7}, {1, 7}}, "m"));
    CHECK(out == "site.toml:1:7: error: m\n"
                 "    1 | \"\xC3\xA9\" = x\n"
                 "      |       ^\n");
}

TEST_CASE("control characters in a quoted line show as U+FFFD") {
    SourceManager sm;
    const auto& f = sm.add("site.toml", std::string("a = \"\x1b[31m\x7f\0\"\n", 14));
    Diagnostics diags;
    std::string out = render(diags.error(SourceSpan{&f, {1, 6}, {1, 6}}, "m"));
    CHECK(out.find("    1 | a = \"\xEF\xBF\xBD[31m\xEF\xBF\xBD\xEF\xBF\xBD\"\n") != std::string::npos);
    CHECK(out.find('\x1b') == std::string::npos);
}

TEST_CASE("render_all shows the first kMaxRendered diagnostics and counts the rest") {
    Diagnostics diags;
    for (std::size_t i = 0; i < kMaxRendered + 5; ++i) diags.error({}, "e" + std::to_string(i));
    std::string out = render_all(diags);
    CHECK(out.find("error: e99\n") != std::string::npos);
    CHECK(out.find("error: e100\n") == std::string::npos);
    CHECK(out.ends_with("nftpolicy: note: 5 more diagnostics not shown (the first 100 are)\n"));
}
