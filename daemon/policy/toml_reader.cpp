#include "policy/toml_reader.h"

#include <fmt/format.h>

namespace nftpolicy::policy {

SourceSpan span_of(const SourceFile& file, const toml::source_region& region) {
    SourceSpan s{&file, {region.begin.line, region.begin.column}, {region.end.line, region.end.column}};
    // toml++ ends a region one past its last character; our spans are inclusive.
    if (s.end.line == s.begin.line && s.end.column > s.begin.column) --s.end.column;
    return s;
}

std::optional<toml::table> parse_toml(const SourceFile& file, Diagnostics& diags) {
    toml::parse_result result = toml::parse(file.text, std::string_view(file.path));
    if (!result) {
        const toml::parse_error& err = result.error();
        SourceSpan span = span_of(file, err.source());
        span.end = span.begin;
        diags.error(span, fmt::format("invalid TOML: {}", err.description()));
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
