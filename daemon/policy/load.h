// Loading: TOML files -> typed Policy. Parses the top file and its includes
// (found on the search path), enforces the schema (unknown keys get "did you
// mean"), merges includes (the including file overrides groups and services),
// and reports every error with its file:line:col.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/address_list_cache.h"
#include "policy/model.h"
#include "support/diagnostic.h"
#include "support/source.h"

namespace nftpolicy::policy {

struct LoadOptions {
    // Directories searched, in order, for `include = ["name"]` (as name.toml)
    // after the including file's own directory.
    std::vector<std::string> search_path;
    // Address lists kept from the last load (nftpolicyd), owned by the
    // caller; nullptr: every list is parsed in full.
    AddressListCache* lists = nullptr;
};

// The default search path: $NFTPOLICY_PATH (colon-separated) entries, then
// /etc/nftpolicy, then the shipped profile directory.
std::vector<std::string> default_search_path();

// Loads `path` and everything it includes. Files land in `sources`, which must
// outlive the returned Policy. Returns nullopt if any error was reported.
std::optional<Policy> load_policy(const std::string& path, const LoadOptions& options,
                                  SourceManager& sources, Diagnostics& diags);

// The same, from text already in memory (`path` is used for messages and
// relative includes).
std::optional<Policy> load_policy_text(const std::string& path, std::string text,
                                       const LoadOptions& options, SourceManager& sources,
                                       Diagnostics& diags);

}  // namespace nftpolicy::policy
