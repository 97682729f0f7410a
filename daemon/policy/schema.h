// The policy schema: one table listing, for every kind of TOML table in a
// policy, the keys it may hold and the kind of value each takes. Unknown keys
// are errors with "did you mean"; a value of the wrong kind is an error naming
// what was expected. Builders read only keys that passed this check.
#pragma once

#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "support/diagnostic.h"

namespace nftpolicy::policy {

enum class ValueKind {
    string,
    integer,
    boolean,
    table,
    string_array,     // ["a", "b"]
    table_array,      // [[flows]]
    string_or_array,  // "eth0" or ["eth0", "eth1"]
    ports,            // 443, "3023-4023" or an array of those
    group_value,      // ["10.0.0.0/8", ...], "a | b" or { addresses/expr, comment }
    bool_or_auto,     // true, false or "auto"
};

struct KeySpec {
    std::string_view key;
    ValueKind kind;
    bool required = false;
};

// Keys of one kind of table. A map-like table (groups, services, hosts...)
// has `any_key` set: every key is a user-chosen name whose value has that kind.
struct TableSpec {
    std::string_view what;  // "[flows] entry", used in messages
    std::vector<KeySpec> keys;
    const KeySpec* any_key = nullptr;
};

// The schema tables, one per kind of policy table.
namespace schema {
extern const TableSpec top;
extern const TableSpec groups_map;
extern const TableSpec services_map;
extern const TableSpec migrations_map;
extern const TableSpec hosts_map;
extern const TableSpec zones_map;
extern const TableSpec group_table;
extern const TableSpec service;
extern const TableSpec flow;
extern const TableSpec migration;
extern const TableSpec host;
extern const TableSpec zone;
extern const TableSpec baseline;
extern const TableSpec management;
extern const TableSpec settings;
}  // namespace schema

// Checks `table` against `spec`: unknown keys, missing required keys, and the
// kind of every value. Returns false if anything was reported.
bool check_table(const toml::table& table, const TableSpec& spec, const SourceFile& file,
                 Diagnostics& diags);

// True when `node` has the shape `kind` asks for (element types of arrays
// are checked by the builders, which know their spans).
bool kind_matches(const toml::node& node, ValueKind kind);

// What a kind looks like, for "expected ..." messages.
const char* describe(ValueKind kind);

}  // namespace nftpolicy::policy
