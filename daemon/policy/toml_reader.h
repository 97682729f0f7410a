// Internal to policy/: the only place besides the builders that sees toml++.
// Parses one SourceFile and converts toml++ source regions to SourceSpans.
#pragma once

#include <optional>

#include <toml++/toml.h>

#include "support/diagnostic.h"
#include "support/source.h"

namespace nftpolicy::policy {

// Parses `file`; a syntax error becomes one diagnostic at its position.
std::optional<toml::table> parse_toml(const SourceFile& file, Diagnostics& diags);

SourceSpan span_of(const SourceFile& file, const toml::source_region& region);

// "string", "integer", "table", ... as a user reads TOML.
const char* toml_type_name(toml::node_type type);

}  // namespace nftpolicy::policy
