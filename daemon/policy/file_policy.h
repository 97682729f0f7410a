// Internal to policy/: what one TOML file says, before includes are merged.
// Fields a file may leave unset (so that an included profile's value stands)
// are optional here.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "policy/address_list_cache.h"
#include "policy/model.h"
#include "support/diagnostic.h"

namespace nftpolicy::policy {

struct PartialMigration {
    std::string name;
    SourceSpan span;
    std::optional<std::vector<NameRef>> gates;
    std::optional<Phase> phase;
    SourceSpan phase_span;
    std::vector<NameRef> flipped;
    std::optional<std::string> description;
    std::optional<std::uint32_t> seen_timeout;  // seconds
    std::optional<std::uint32_t> seen_size;
    std::optional<std::uint32_t> quiet_for;  // seconds
};

struct PartialBaseline {
    std::optional<ChainPolicy> input;
    std::optional<ChainPolicy> forward;
    std::optional<bool> egress;
    std::optional<bool> log_drops;
    std::optional<Rate> log_rate;
    std::optional<std::uint32_t> log_burst;
    std::optional<std::string> log_prefix;
    std::optional<Rate> echo_rate;
    std::optional<FlowtableSetting> flowtable;
    SourceSpan span;
};

struct FilePolicy {
    const SourceFile* file = nullptr;
    std::vector<NameRef> includes;
    std::map<std::string, Group> groups;
    std::map<std::string, Service> services;
    std::vector<Flow> flows;
    std::map<std::string, PartialMigration> migrations;
    std::map<std::string, Host> hosts;
    PartialBaseline baseline;
    std::optional<Management> management;
    std::vector<NameRef> disabled_flows;
    std::optional<NameRef> table;
    std::optional<DriftSetting> drift;
};

// Builds one file's FilePolicy from its parsed TOML, reporting every schema
// and value error. The result is usable (with errors left out) even when
// errors were reported, so that later files can still be checked.
// Address files (`file = "..."`) are read into `sources`, through `lists`
// when given.
FilePolicy build_file_policy(const toml::table& root, const SourceFile& file, SourceManager& sources,
                             Diagnostics& diags, AddressListCache* lists = nullptr);

}  // namespace nftpolicy::policy
