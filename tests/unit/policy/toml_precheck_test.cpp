// The lexical pre-check in front of toml++: no false positives on valid TOML
// (every policy, golden case and example of the project, and the tricky
// corners of the TOML grammar), and each toml++ 3.3.0 defect caught with its
// offset.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "policy/limits.h"
#include "policy/toml_precheck.h"

using namespace nftpolicy::policy;

namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Every .toml file under the source tree's policies/ and tests/ (the diag
// corpus only where a case is valid TOML: its `valid/` control).
std::vector<std::filesystem::path> valid_policy_files() {
    namespace fs = std::filesystem;
    std::vector<fs::path> out;
    const fs::path src(NFTPOLICY_SOURCE_DIR);
    for (const char* dir : {"policies", "tests/golden", "tests/diag/valid", "bench", "contrib"}) {
        if (!fs::exists(src / dir)) continue;
        for (const auto& e : fs::recursive_directory_iterator(src / dir)) {
            if (e.is_regular_file() && e.path().extension() == ".toml") out.push_back(e.path());
        }
    }
    return out;
}

std::size_t offset_of(std::string_view text, std::string_view needle) {
    return text.find(needle);
}

}  // namespace

TEST_CASE("precheck: every policy, golden case and example of the project passes") {
    auto files = valid_policy_files();
    REQUIRE(files.size() >= 20);
    for (const auto& f : files) {
        INFO(f.string());
        auto finding = precheck_toml_text(slurp(f));
        CHECK_FALSE(finding.has_value());
    }
}

TEST_CASE("precheck: valid TOML corners are not findings") {
    const char* valid[] = {
        "",
        "\n\n# only a comment\n",
        "\xEF\xBB\xBF"
        "a = 1\n",
        "a = 1",  // no final newline
        "a = 1\r\nb = 2\r\n",
        "\"é\" = 1\n'ü' = 2\n\"\" = 3\n",
        "a.\"b.c\".'d' = 1\n",
        "a . b . c = 1\n",
        "[ a . \"é\" ]\nx = 1\n",
        "[[a.b]]\nx = 1\n[[a.b]]\nx = 2\n",
        "s = \"a \\\" é = 1 [.a] # not a comment\"\n",
        "s = 'C:\\path\\' # comment [.x]\n",
        "s = \"\"\"\nline [.a]\né = 1\n\\\"\"\"\n\"\"\"\n",
        "s = \"\"\"a\"\"\"\"\"\nt = 1\n",
        "s = '''\nit's '' [.a]\n'''''\nt = 1\n",
        "s = \"\"\"\"\"\"\n",
        "s = \"\"\"\\\n  continued\"\"\"\n",
        "s = \"\"\"\\\n  a\xc3\xa9\"\"\"\nt = \"\"\"\\\\\xc3\xa9\"\"\"\n",  // ASCII first; an escaped backslash

        "a = [\n  1, # c [.a] \"é\n  2,\n]\n",
        "a = [[1, 2], [\"x\", 'y'], [{ b = 1 }]]\n",
        "t = { a = 1, b.c = 'x', \"é\" = [1, 2], d = { e = {} } }\n",
        "t = {}\nu = { }\n",
        "d1 = 1979-05-27T07:32:00Z\nd2 = 1979-05-27 07:32:00-07:00\nd3 = 1979-05-27\nd4 = "
        "07:32:00\n",
        "a = [1979-05-27 07:32:00, 1979-05-27]\n",
        "d5 = 1979-05-27T00:32:00.999999-07:00\nd6 = 1979-05-27t07:32:00z\nd7 = 1979-05-27 "
        "07:32:00.5\n",
        "a = { d = 1979-05-27 07:32:00 }\nb = [1979-05-27 ]\nc = 1979-05-27 # 0\n",
        "i = +99\nj = -0x_ff\nf = 6.626e-34\ng = inf\nh = -nan\nb = true\n",
        "a = 1 # trailing comment with tab\t and é\n",
        "\t[groups]\n\tservers = [\"10.0.0.1\"]\n",
        "a = \"tab\there\"\n",
        "1234 = 1\n-_- = 2\n",
    };
    for (const char* text : valid) {
        INFO(text);
        auto finding = precheck_toml_text(text);
        CHECK_FALSE(finding.has_value());
        if (finding) INFO(finding->message);
    }
}

TEST_CASE("precheck: each toml++ 3.3.0 defect is stopped before the parser") {
    struct Case {
        std::string text;
        std::string at;       // where the finding must point
        std::string message;  // a part of its message
    };
    const std::string parts33 = [] {
        std::string k = "k";
        for (std::size_t i = 1; i <= limits::kKeyParts; ++i) k += ".k";
        return k;
    }();
    const Case cases[] = {
        {"é = 1\n", "é", "'é' in a bare key"},
        {"abé = 1\n", "é", "'é' in a bare key"},
        {"[tablé]\n", "é", "bare key"},
        {"x = { pö = 1 }\n", "ö", "bare key"},
        {"ab\xff = 1\n", "\xff", "'\\xFF' in a bare key"},
        {"[.a]\n", ".a", "before '.'"},
        {"[a.]\n", "]", "after '.'"},
        {"[[.a]]\n", ".a", "before '.'"},
        {"a..b = 1\n", ".b", "after '.'"},
        {"[]\n", "]", "table name"},
        {"[=]\n", "=", "expected a table name, found '='"},
        {"[[ $a]]\n", "$", "expected a table name, found '$'"},
        {"a = [}\n", "}", "expected a value or ']', found '}'"},
        {"a = [1,\n  # c\n}\n", "}", "found '}'"},
        {"a = \xce\x93\n", "\xce", "'\xce\x93' outside a string or comment"},
        {"a = 1 \xe2\x86\x90\n", "\xe2", "outside a string or comment"},
        {"[a]\xc2\xb7\n", "\xc2", "outside a string or comment"},
        {"[a\x7f]\n", "\x7f", "U+007F"},
        {"a = \"\x01\"\n", "\x01", "U+0001"},
        {"# \x7f\n", "\x7f", "U+007F"},
        {"a = 1\rb = 2\n", "\r", "carriage return"},
        {std::string("a = 1\0\n", 7), std::string("\0", 1), "U+0000"},
        {parts33 + " = 1\n", "k = 1", "more than 32 dotted parts"},
        {"[" + parts33 + "]\n", "k]", "more than 32 dotted parts"},
        {"x = " + std::string(17, '[') + std::string(17, ']') + "\n", "[]",
         "nest more than 16 deep"},
        // parse_value asserts: a date, a space, a digit, a value terminator
        {"e=1979-05-27 0\n", "0\n", "expected a time (HH:MM:SS) after the date and the space, found '0'"},
        {"e=[1979-05-27 0]\n", "0]", "found '0'"},
        {"e={a=1979-05-27 0,b=1}\n", "0,", "found '0'"},
        {"e=1979-05-27 0#\n", "0#", "found '0'"},
        {"e=1979-05-27 0\r\n", "0\r", "found '0'"},
        {"e=1979-05-27 01:\n", "01:", "found '01:'"},  // toml++ reports it, the check too
        {"e=1979-13-27 0\n", "0\n", "found '0'"},
        // toml++ counts the characters without '_' and up to a terminator
        {"e=1979_-05-27 0\n", "1979", "expected a date (YYYY-MM-DD) before the space and the time, "
                                     "found '1979_-05-27'"},
        {"e=1979-05-2= 0\n", "1979", "found '1979-05-2='"},
        {"e=1979-0a-27 0\n", "1979", "found '1979-0a-27'"},
        {"e=1979-05-27" + std::string(117, '_') + " 00:00:00\n", "1979", "expected a date"},
        // toml++ reads a bare value past quotes and brackets, and asks of a
        // non-ASCII character in it whether it is whitespace (issue 190)
        {"when = 3958_[Eb\xc3\xba = 1\n", "\xc3\xba", "'\xc3\xba' in an unquoted value, which runs to"},
        {"a = 5\xc2\xb5\n", "\xc2", "'\xc2\xb5' outside a string or comment"},
        {"a = 1\"\xc3\xa9\"\n", "\xc3\xa9", "in an unquoted value"},
        {"a = [1{\xc3\xa9}]\n", "\xc3\xa9", "in an unquoted value"},
        {"a = 1979-05-27 07:32=\xc3\xa9\n", "\xc3\xa9", "in an unquoted value"},
        // toml++ asks whether the first character after a line-ending
        // backslash is whitespace (issue 190): F6 of the long run
        {"a=\"\"\"\\\\\\\n\xef\xb3\xbf  =\"\n", "\xef", "first after a line-ending backslash"},
        {"s = \"\"\"\\\n\n   \xc3\xa9\"\"\"\n", "\xc3", "first after a line-ending backslash"},
        {"s = \"\"\"\\  \xc3\xa9\"\"\"\n", "\xc3", "must end its line, found '\xc3\xa9'"},
        {"s = \"\"\"\\\xc3\xa9\"\"\"\n", "\xc3", "'\\\xc3\xa9' is not an escape sequence"},
        // parse_time asserts: 'T' after a date, then no digit
        {"e=1979-05-27T:00\n", ":00", "expected a time (HH:MM:SS) after 'T', found ':'"},
        {"e=1979-05-27tz:\n", "z:", "after 't', found 'z'"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        auto finding = precheck_toml_text(c.text);
        REQUIRE(finding.has_value());
        CHECK(finding->offset == offset_of(c.text, c.at));
        CHECK_THAT(finding->message, Catch::Contains(c.message));
    }
}

TEST_CASE("precheck: the limits themselves pass") {
    std::string key = "k";
    for (std::size_t i = 1; i < limits::kKeyParts; ++i) key += ".k";
    CHECK_FALSE(precheck_toml_text(key + " = 1\n[" + key + "]\n").has_value());
    std::string nested =
        std::string(limits::kValueNesting, '[') + std::string(limits::kValueNesting, ']');
    CHECK_FALSE(precheck_toml_text("x = " + nested + "\n").has_value());
}

TEST_CASE("precheck: a 20,000-part key and 20,000 nested arrays are findings, not recursion") {
    std::string key = "k";
    for (int i = 1; i < 20000; ++i) key += ".k";
    CHECK(precheck_toml_text(key + " = 1\n").has_value());
    CHECK(precheck_toml_text("x = " + std::string(20000, '[') + "\n").has_value());
}
