#include "policy/toml_reader.h"

#include <fmt/format.h>

#include "policy/toml_precheck.h"
#include "support/columns.h"

namespace nftpolicy::policy {

SourceSpan span_of(const SourceFile& file, const toml::source_region& region) {
    SourceSpan s{&file, {region.begin.line, region.begin.column}, {region.end.line, region.end.column}};
    // toml++ ends a region one past its last character; our spans are inclusive.
    if (s.end.line == s.begin.line && s.end.column > s.begin.column) --s.end.column;
    return s;
}

namespace {

// True when `pos` is at (or past) the end of its line: where toml++ stops on
// a string whose closing quote is missing.
bool at_line_end(const SourceFile& file, SourcePos pos) {
    std::string_view line = file.line(pos.line);
    return byte_of_column(line, pos.column) >= line.size();
}

// toml++'s words for the two most common slips of hand-written policies are
// about TOML internals; say what the user most likely did instead.
std::string syntax_message(const SourceFile& file, SourcePos pos, std::string_view description) {
    if (description.find("control characters") != std::string_view::npos && at_line_end(file, pos)) {
        return "invalid TOML: string not closed before the end of the line (missing quote?)";
    }
    return fmt::format("invalid TOML: {}", description);
}

void add_syntax_hint(Diagnostic& d, std::string_view description) {
    if (description.find("could not determine value type") != std::string_view::npos) {
        add_note(d, {}, "names and words must be quoted strings, e.g. \"drop\"");
    } else if (description.find("floating-point") != std::string_view::npos &&
               description.find("saw '.'") != std::string_view::npos) {
        add_note(d, {}, "addresses must be quoted strings, e.g. \"10.0.0.1\"");
    }
}

}  // namespace

std::optional<toml::table> parse_toml(const SourceFile& file, Diagnostics& diags) {
    // Text that reaches toml++ 3.3.0's own defects never gets to it.
    if (!precheck_toml(file, diags)) return std::nullopt;
    toml::parse_result result = toml::parse(file.text, std::string_view(file.path));
    if (!result) {
        const toml::parse_error& err = result.error();
        SourceSpan span = span_of(file, err.source());
        span.end = span.begin;
        auto& d = diags.error(span, syntax_message(file, span.begin, err.description()));
        add_syntax_hint(d, err.description());
        return std::nullopt;
    }
    return std::move(result).table();
}

const char* toml_type_name(toml::node_type type) {
    switch (type) {
        case toml::node_type::none: return "nothing";
        case toml::node_type::table: return "table";
        case toml::node_type::array: return "array";
        case toml::node_type::string: return "string";
        case toml::node_type::integer: return "integer";
        case toml::node_type::floating_point: return "float";
        case toml::node_type::boolean: return "boolean";
        case toml::node_type::date: return "date";
        case toml::node_type::time: return "time";
        case toml::node_type::date_time: return "date-time";
    }
    return "value";
}

}  // namespace nftpolicy::policy
