#include "policy/schema.h"

#include <fmt/format.h>

#include "policy/toml_reader.h"
#include "support/text.h"

namespace nftpolicy::policy {

namespace schema {

namespace {
const KeySpec any_group{"", ValueKind::group_value};
const KeySpec any_service{"", ValueKind::table};
const KeySpec any_migration{"", ValueKind::table};
const KeySpec any_host{"", ValueKind::table};
const KeySpec any_zone{"", ValueKind::table};
}  // namespace

// Every key path of the policy language, once. docs/policy-language.md
// describes each of them; keep the two in step.
const TableSpec top{"policy file",
                    {{"include", ValueKind::string_array},
                     {"disabled_flows", ValueKind::string_array},
                     {"groups", ValueKind::table},
                     {"services", ValueKind::table},
                     {"flows", ValueKind::table_array},
                     {"migrations", ValueKind::table},
                     {"hosts", ValueKind::table},
                     {"baseline", ValueKind::table},
                     {"management", ValueKind::table},
                     {"settings", ValueKind::table}}};
const TableSpec groups_map{"[groups]", {}, &any_group};
const TableSpec group_table{"group", {{"addresses", ValueKind::string_array},
                                      {"expr", ValueKind::string},
                                      {"file", ValueKind::string},
                                      {"comment", ValueKind::string}}};
const TableSpec services_map{"[services]", {}, &any_service};
const TableSpec service{"service",
                        {{"tcp", ValueKind::ports},
                         {"udp", ValueKind::ports},
                         {"icmp", ValueKind::string_array},
                         {"icmpv6", ValueKind::string_array},
                         {"comment", ValueKind::string}}};
const TableSpec flow{"[[flows]] entry",
                     {{"id", ValueKind::string, true},
                      {"from", ValueKind::string, true},
                      {"to", ValueKind::string, true},
                      {"services", ValueKind::string_array, true},
                      {"comment", ValueKind::string},
                      {"retired_by", ValueKind::string},
                      {"introduced_by", ValueKind::string},
                      {"optional", ValueKind::boolean}}};
const TableSpec migrations_map{"[migrations]", {}, &any_migration};
const TableSpec migration{"migration",
                          {{"gates", ValueKind::string_array},
                           {"phase", ValueKind::string},
                           {"flipped", ValueKind::string_array},
                           {"description", ValueKind::string},
                           {"seen_timeout", ValueKind::string},
                           {"seen_size", ValueKind::integer},
                           {"quiet_for", ValueKind::string}}};
const TableSpec hosts_map{"[hosts]", {}, &any_host};
const TableSpec host{"host",
                     {{"mode", ValueKind::string},
                      {"roles", ValueKind::string_array},
                      {"addresses", ValueKind::string_array},
                      {"zones", ValueKind::table}}};
const TableSpec zones_map{"zones", {}, &any_zone};
const TableSpec zone{"zone", {{"interfaces", ValueKind::string_or_array, true},
                              {"networks", ValueKind::string}}};
const TableSpec baseline{"[baseline]",
                         {{"input", ValueKind::string},
                          {"forward", ValueKind::string},
                          {"egress", ValueKind::boolean},
                          {"log_drops", ValueKind::boolean},
                          {"log_rate", ValueKind::string},
                          {"log_burst", ValueKind::integer},
                          {"log_prefix", ValueKind::string},
                          {"echo_rate", ValueKind::string},
                          {"flowtable", ValueKind::bool_or_auto}}};
const TableSpec management{"[management]", {{"from", ValueKind::string, true},
                                            {"services", ValueKind::string_array}}};
const TableSpec settings{"[settings]", {{"table", ValueKind::string}, {"drift", ValueKind::string}}};

}  // namespace schema

bool kind_matches(const toml::node& node, ValueKind kind) {
    switch (kind) {
        case ValueKind::string: return node.is_string();
        case ValueKind::integer: return node.is_integer();
        case ValueKind::boolean: return node.is_boolean();
        case ValueKind::table: return node.is_table();
        case ValueKind::string_array: return node.is_array();
        case ValueKind::table_array: return node.is_array_of_tables() || (node.is_array() && node.as_array()->empty());
        case ValueKind::string_or_array: return node.is_string() || node.is_array();
        case ValueKind::ports: return node.is_integer() || node.is_string() || node.is_array();
        case ValueKind::group_value: return node.is_array() || node.is_string() || node.is_table();
        case ValueKind::bool_or_auto: return node.is_string() || node.is_boolean();
    }
    return false;
}

const char* describe(ValueKind kind) {
    switch (kind) {
        case ValueKind::string: return "a string";
        case ValueKind::integer: return "an integer";
        case ValueKind::boolean: return "true or false";
        case ValueKind::table: return "a table";
        case ValueKind::string_array: return "an array of strings";
        case ValueKind::table_array: return "an array of tables ([[...]])";
        case ValueKind::string_or_array: return "a string or an array of strings";
        case ValueKind::ports: return "a port, a \"lo-hi\" range or an array of them";
        case ValueKind::group_value:
            return "an array of addresses, a group expression string or a table";
        case ValueKind::bool_or_auto: return "true, false or \"auto\"";
    }
    return "a value";
}

namespace {

std::vector<std::string> known_keys(const TableSpec& spec) {
    std::vector<std::string> keys;
    for (const auto& k : spec.keys) keys.emplace_back(k.key);
    return keys;
}

const KeySpec* find_key(const TableSpec& spec, std::string_view key) {
    for (const auto& k : spec.keys) {
        if (k.key == key) return &k;
    }
    return spec.any_key;
}

void report_unknown_key(const toml::key& key, const TableSpec& spec, const SourceFile& file,
                        Diagnostics& diags) {
    auto keys = known_keys(spec);
    std::string suggestion = closest_match(key.str(), keys);
    std::string msg = fmt::format("unknown key '{}' in {}", key.str(), spec.what);
    if (!suggestion.empty()) msg += fmt::format("; did you mean '{}'?", suggestion);
    auto& d = diags.error(span_of(file, key.source()), std::move(msg));
    add_note(d, {}, fmt::format("expected one of: {}", fmt::join(keys, ", ")));
}

}  // namespace

bool check_table(const toml::table& table, const TableSpec& spec, const SourceFile& file,
                 Diagnostics& diags) {
    std::size_t before = diags.error_count();
    for (auto&& [key, value] : table) {
        const KeySpec* ks = find_key(spec, key.str());
        if (ks == nullptr) {
            report_unknown_key(key, spec, file, diags);
        } else if (!kind_matches(value, ks->kind)) {
            // A user-chosen name alone does not say what it is; name its table.
            std::string where = ks == spec.any_key ? fmt::format(" in {}", spec.what) : "";
            diags.error(span_of(file, value.source()),
                        fmt::format("'{}'{} must be {}, not {}", key.str(), where, describe(ks->kind),
                                    toml_type_name(value.type())));
        }
    }
    for (const auto& k : spec.keys) {
        if (k.required && !table.contains(k.key)) {
            SourceSpan span = span_of(file, table.source());
            span.end = span.begin;
            diags.error(span, fmt::format("{} is missing required key '{}'", spec.what, k.key));
        }
    }
    return diags.error_count() == before;
}

}  // namespace nftpolicy::policy
