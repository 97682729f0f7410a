// The pre-parse check (see toml_precheck.h). Two passes: control characters
// over every byte, then a small scanner that follows TOML's structure (lines,
// table headers, keys, values, strings, comments, arrays, inline tables) and
// looks at every key. The scanner stops quietly at anything it does not
// expect: that is invalid TOML, and toml++ stops with its own error at or
// before that point, so nothing after it reaches the parser.
#include "policy/toml_precheck.h"

#include <algorithm>

#include <fmt/format.h>

#include "policy/limits.h"
#include "support/columns.h"

namespace nftpolicy::policy {

namespace {

constexpr int kEnd = -1;

bool is_bare_key_char(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

bool is_digit(int c) {
    return c >= '0' && c <= '9';
}

// The first control character TOML forbids: all of U+0000-U+001F but tab
// and line breaks, and U+007F. A carriage return must start a CRLF.
std::optional<PrecheckFinding> find_control(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c == '\t' || c == '\n' || (c >= 0x20 && c != 0x7f)) continue;
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
        if (c == '\r')
            return PrecheckFinding{
                i, "invalid TOML: carriage return (U+000D) not followed by a line feed"};
        return PrecheckFinding{
            i, fmt::format("invalid TOML: control character U+{:04X}; TOML allows only tab "
                           "and line breaks outside escapes",
                           c)};
    }
    return std::nullopt;
}

// A character where another was expected, for messages.
std::string describe(int c) {
    if (c == kEnd) return "the end of the file";
    if (c == '\n' || c == '\r') return "the end of the line";
    return fmt::format("'{}'", static_cast<char>(c));
}

// The UTF-8 sequence starting at `i`, to quote it whole; a stray byte as \xNN.
std::string quote_char(std::string_view text, std::size_t i) {
    auto lead = static_cast<unsigned char>(text[i]);
    std::size_t len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    bool whole = lead >= 0xc0 && lead < 0xf8 && i + len <= text.size() &&
                 std::all_of(text.begin() + static_cast<std::ptrdiff_t>(i + 1),
                             text.begin() + static_cast<std::ptrdiff_t>(i + len),
                             [](char b) { return (static_cast<unsigned char>(b) & 0xc0) == 0x80; });
    if (!whole) return fmt::format("\\x{:02X}", lead);
    return std::string(text.substr(i, len));
}

class Scanner {
  public:
    explicit Scanner(std::string_view text) : text_(text) {}

    std::optional<PrecheckFinding> run() {
        if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;  // a UTF-8 byte order mark
        while (pos_ < text_.size() && document_line()) {
        }
        // Where the scan stopped, toml++ stops too; but on a non-ASCII
        // character it first asks whether that is whitespace, and 3.3.0
        // reaches an "unreachable" branch doing so (upstream issue 190).
        if (!finding_ && peek() >= 0x80) report_non_ascii();
        return finding_;
    }

  private:
    // ---- the document: one line at a time -------------------------------

    bool document_line() {
        skip_ws();
        if (newline()) return true;
        if (peek() == '#') {
            comment();
            return newline() || at_end();
        }
        if (!(peek() == '[' ? header() : keyval())) return false;
        skip_ws();
        if (peek() == '#') comment();
        return newline() || at_end();
    }

    bool header() {
        ++pos_;
        bool array_of_tables = peek() == '[';
        if (array_of_tables) ++pos_;
        in_header_ = true;
        bool named = key();
        in_header_ = false;
        if (!named) return false;
        skip_ws();
        if (!eat(']')) return false;
        return !array_of_tables || eat(']');
    }

    bool keyval() {
        if (!key()) return false;
        skip_ws();
        return eat('=') && value(0);
    }

    // ---- keys -------------------------------------------------------------

    bool key() {
        for (std::size_t parts = 1;; ++parts) {
            skip_ws();
            if (parts > limits::kKeyParts) {
                return report(
                    pos_, fmt::format("this key has more than {} dotted parts; expected at most {}",
                                      limits::kKeyParts, limits::kKeyParts));
            }
            if (!key_part(parts > 1)) return false;
            skip_ws();
            if (!eat('.')) return true;
        }
    }

    bool key_part(bool after_dot) {
        int c = peek();
        // toml++ 3.3.0 reads `"""` here as a multi-line string and meets
        // issue 190 after a backslash (F7); a key is never one.
        if (starts_with("\"\"\"") || starts_with("'''"))
            return report(pos_, "invalid TOML: a key is a bare name or a one-line quoted string, "
                                "not a multi-line string");
        if (c == '"') return basic_string();
        if (c == '\'') return literal_string();
        if (c >= 0x80) return report_bare_key_char();
        if (!is_bare_key_char(c)) return missing_key_part(c, after_dot);
        while (is_bare_key_char(peek())) ++pos_;
        if (peek() >= 0x80) return report_bare_key_char();
        return true;
    }

    // `[.a]`, `a..b = 1`, `[a.]`: a dotted key with an empty part; `[=]`:
    // a header without a name. Anything else where a key should start is
    // left to toml++, which reports it.
    bool missing_key_part(int c, bool after_dot) {
        if (c == '.' || after_dot) {
            return report(pos_, after_dot ? "invalid TOML: expected a key name after '.'"
                                          : "invalid TOML: expected a key name before '.'");
        }
        // toml++ asserts on any of them in a table header.
        if (in_header_)
            return report(
                pos_, fmt::format("invalid TOML: expected a table name, found {}", describe(c)));
        return false;
    }

    bool report_non_ascii() {
        return report(
            pos_,
            fmt::format("invalid TOML: '{}' outside a string or comment; TOML syntax is ASCII "
                        "(put text in quotes)",
                        quote_char(text_, pos_)));
    }

    bool report_bare_key_char() {
        std::string ch = quote_char(text_, pos_);
        return report(
            pos_,
            fmt::format("invalid TOML: '{}' in a bare key; bare keys are ASCII letters, digits, "
                        "'-' and '_' (put other names in quotes)",
                        ch));
    }

    // ---- values -----------------------------------------------------------

    bool value(std::size_t depth) {
        skip_ws();
        int c = peek();
        if (c == '"') return starts_with("\"\"\"") ? multiline_string('"') : basic_string();
        if (c == '\'') return starts_with("'''") ? multiline_string('\'') : literal_string();
        if (c == '[') return array(depth + 1);
        if (c == '{') return inline_table(depth + 1);
        return bare_value();
    }

    bool nesting_ok(std::size_t depth) {
        if (depth <= limits::kValueNesting) return true;
        return report(
            pos_,
            fmt::format("arrays and inline tables nest more than {} deep here; expected at most {}",
                        limits::kValueNesting, limits::kValueNesting));
    }

    bool array(std::size_t depth) {
        if (!nesting_ok(depth)) return false;
        ++pos_;
        for (;;) {
            skip_blank();
            if (eat(']')) return true;
            // toml++ asserts on `[}` and `[1,}` instead of reporting them.
            if (peek() == '}')
                return report(pos_, "invalid TOML: expected a value or ']', found '}'");
            if (!value(depth)) return false;
            skip_blank();
            if (eat(']')) return true;
            if (!eat(',')) return false;
        }
    }

    bool inline_table(std::size_t depth) {
        if (!nesting_ok(depth)) return false;
        ++pos_;
        skip_ws();
        if (eat('}')) return true;
        for (;;) {
            if (!key()) return false;
            skip_ws();
            if (!eat('=') || !value(depth)) return false;
            skip_ws();
            if (eat('}')) return true;
            if (!eat(',')) return false;
        }
    }

    // Numbers, booleans, dates and times. A date-time may have a space
    // between date and time ("1979-05-27 07:32:00").
    bool bare_value() {
        std::size_t start = pos_;
        if (!parser_value_ok(start)) return false;
        while (is_bare_value_char(peek())) ++pos_;
        if (pos_ - start == 10 && is_date(start) && peek() == ' ' && is_digit(at(pos_ + 1))) {
            ++pos_;
            while (is_bare_value_char(peek())) ++pos_;
        }
        return pos_ > start;
    }

    // toml++ 3.3.0 reads a bare value further than this scan: up to a value
    // terminator (whitespace, ']', '}', ',', '#'), over quotes and brackets
    // (`1"é"`, `1[é`). It asks of every character whether it is whitespace,
    // and for many non-ASCII characters that question reaches the
    // "unreachable" branch of upstream issue 190: such a value must be ASCII
    // to its end. It guesses the type from the characters without '_': ten
    // shaped like a date (a digit, '-' fifth and eighth) followed by a space
    // and a digit make it read on for a time, and a terminator right after
    // that digit fails an assertion in parse_value, as do over 126 characters
    // read (the '_'); a date directly followed by 'T' and no digit fails one
    // in parse_time. All of that is invalid TOML: after a date, a space and a
    // digit, or after a date and 'T', comes a time.
    bool parser_value_ok(std::size_t start) {
        std::size_t end = parser_value_end(start);
        if (!ascii_until(start, end)) return false;
        if (!is_digit(at(start))) return true;
        if (date_like(start, end) && at(end) == ' ' && is_digit(at(end + 1)))
            return space_time_ok(start, end) && ascii_until(end + 1, parser_value_end(end + 1));
        if (is_date(start) && (at(start + 10) == 'T' || at(start + 10) == 't') &&
            !is_digit(at(start + 11)))
            return report(start + 11, fmt::format("invalid TOML: expected a time (HH:MM:SS) after "
                                                  "'{}', found {}",
                                                  text_[start + 10], describe(at(start + 11))));
        return true;
    }

    std::size_t parser_value_end(std::size_t i) const {
        while (!ends_parser_value(at(i))) ++i;
        return i;
    }

    // Where a quote or bracket comes first (`1"é"`), say why it does not count.
    bool ascii_until(std::size_t start, std::size_t end) {
        for (std::size_t i = start; i < end; ++i) {
            if (at(i) < 0x80) continue;
            pos_ = i;
            if (std::all_of(text_.begin() + static_cast<std::ptrdiff_t>(start),
                            text_.begin() + static_cast<std::ptrdiff_t>(i),
                            [](char c) { return is_bare_value_char(static_cast<unsigned char>(c)); }))
                return report_non_ascii();
            return report(i, fmt::format("invalid TOML: '{}' in an unquoted value, which runs to the "
                                         "next space, ',', ']', '}}' or '#'; TOML syntax is ASCII "
                                         "(put text in quotes)",
                                         quote_char(text_, i)));
        }
        return true;
    }

    // As toml++ sees it: ten characters but '_', a '-' fifth and eighth.
    bool date_like(std::size_t start, std::size_t end) const {
        std::size_t count = 0;
        bool dashes = true;
        for (std::size_t i = start; i < end; ++i) {
            if (text_[i] == '_') continue;
            if ((count == 4 || count == 7) && text_[i] != '-') dashes = false;
            ++count;
        }
        return count == 10 && dashes;
    }

    // `start`..`end` looks like a date and is followed by a space and a digit.
    bool space_time_ok(std::size_t start, std::size_t end) {
        if (end != start + 10 || !is_date(start)) {
            return report(start, fmt::format("invalid TOML: expected a date (YYYY-MM-DD) before the "
                                             "space and the time, found '{}'",
                                             text_.substr(start, end - start)));
        }
        std::size_t time = end + 1;
        if (is_digit(at(time + 1)) && at(time + 2) == ':' && is_digit(at(time + 3)) &&
            is_digit(at(time + 4)))
            return true;
        std::size_t stop = time;
        while (!ends_parser_value(at(stop)) && at(stop) < 0x80 && stop - time < 20) ++stop;
        return report(time, fmt::format("invalid TOML: expected a time (HH:MM:SS) after the date "
                                        "and the space, found '{}'",
                                        text_.substr(time, stop - time)));
    }

    // YYYY-MM-DD at `i`, digits and dashes only (the values are toml++'s job).
    bool is_date(std::size_t i) const {
        static constexpr std::string_view kShape = "dddd-dd-dd";
        for (std::size_t k = 0; k < kShape.size(); ++k) {
            int c = at(i + k);
            if (kShape[k] == 'd' ? !is_digit(c) : c != '-') return false;
        }
        return true;
    }

    // What ends a value for toml++: whitespace, ']', '}', ',', '#', the end.
    static bool ends_parser_value(int c) {
        return c == kEnd || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ']' ||
               c == '}' || c == ',' || c == '#';
    }

    // What this scan takes into a bare value: ASCII up to a terminator, and
    // no quote, bracket or '=' either.
    static bool is_bare_value_char(int c) {
        return !ends_parser_value(c) && c < 0x80 && std::string_view("[{\"'=").find(static_cast<char>(c)) ==
                                                     std::string_view::npos;
    }

    // ---- strings ----------------------------------------------------------

    bool basic_string() {
        ++pos_;
        for (int c = peek(); c != kEnd && c != '\n' && c != '\r'; c = peek()) {
            pos_ += c == '\\' ? 2 : 1;
            if (c == '"') return true;
        }
        return false;
    }

    bool literal_string() {
        ++pos_;
        for (int c = peek(); c != kEnd && c != '\n' && c != '\r'; c = peek()) {
            ++pos_;
            if (c == '\'') return true;
        }
        return false;
    }

    // """...""" or '''...''': up to two quotes may end the content right
    // before the closing three ("""a""""" is `a""`).
    bool multiline_string(char quote) {
        pos_ += 3;
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (c == '\\' && quote == '"') {
                if (!after_backslash_ok()) return false;
                pos_ += 2;
                continue;
            }
            if (c != quote) {
                ++pos_;
                continue;
            }
            std::size_t run = 0;
            for (; peek() == quote; ++pos_) ++run;
            if (run >= 3) return run <= 5;
        }
        return false;
    }

    // In a multi-line basic string toml++ 3.3.0 asks whether the character
    // after a backslash is whitespace, and, after a line-ending backslash,
    // whether the first character past the blanks it removes is: for many
    // non-ASCII characters that question is issue 190's "unreachable" (F6).
    bool after_backslash_ok() {
        std::size_t i = pos_ + 1;
        if (at(i) >= 0x80) {
            return report(i, fmt::format("invalid TOML: '\\{}' is not an escape sequence",
                                         quote_char(text_, i)));
        }
        if (at(i) != ' ' && at(i) != '\t' && at(i) != '\n' && at(i) != '\r') return true;
        while (at(i) == ' ' || at(i) == '\t') ++i;
        bool line_end = at(i) == '\n' || at(i) == '\r';
        while (at(i) == ' ' || at(i) == '\t' || at(i) == '\n' || at(i) == '\r') ++i;
        if (at(i) < 0x80) return true;
        if (!line_end) {
            return report(i, fmt::format("invalid TOML: a backslash followed by blanks must end its "
                                         "line, found '{}'",
                                         quote_char(text_, i)));
        }
        return report(i, fmt::format("'{}' first after a line-ending backslash: Debian 12's toml++ "
                                     "3.3.0 cannot read that (its issue 190); put an ASCII "
                                     "character before it or write it as a \\u escape",
                                     quote_char(text_, i)));
    }

    // ---- characters ---------------------------------------------------------

    int peek() const { return at(pos_); }
    int at(std::size_t i) const {
        return i < text_.size() ? static_cast<unsigned char>(text_[i]) : kEnd;
    }
    bool at_end() const { return pos_ >= text_.size(); }
    bool starts_with(std::string_view s) const { return text_.substr(pos_).starts_with(s); }

    bool eat(char c) {
        if (peek() != static_cast<unsigned char>(c)) return false;
        ++pos_;
        return true;
    }

    void skip_ws() {
        while (peek() == ' ' || peek() == '\t') ++pos_;
    }

    bool newline() {
        if (starts_with("\r\n")) ++pos_;
        return eat('\n');
    }

    void comment() {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    }

    // Inside arrays: blanks, line breaks and comments.
    void skip_blank() {
        for (;;) {
            skip_ws();
            if (peek() == '#') comment();
            if (!newline()) return;
        }
    }

    bool report(std::size_t offset, std::string message) {
        finding_ = PrecheckFinding{offset, std::move(message)};
        return false;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    bool in_header_ = false;  // the key being read names a table
    std::optional<PrecheckFinding> finding_;
};

SourceSpan span_at(const SourceFile& file, std::size_t offset) {
    SourcePos pos = position_of(file, offset);
    return SourceSpan{&file, pos, pos};
}

}  // namespace

std::optional<PrecheckFinding> precheck_toml_text(std::string_view text) {
    auto control = find_control(text);
    auto structure = Scanner(text).run();
    if (control && structure) return control->offset <= structure->offset ? control : structure;
    return control ? control : structure;
}

bool precheck_toml(const SourceFile& file, Diagnostics& diags) {
    auto finding = precheck_toml_text(file.text);
    if (!finding) return true;
    diags.error(span_at(file, finding->offset), std::move(finding->message));
    return false;
}

}  // namespace nftpolicy::policy
