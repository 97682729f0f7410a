// Address list files: `[groups] agents = { file = "agents.txt" }`. One entry
// per line (address, CIDR or range, as in a TOML group), blank lines and `#`
// comments ignored. Read without toml++, straight into an interval set, so a
// list of a million addresses costs a few bytes per address.
#pragma once

#include <optional>
#include <string>

#include "policy/address_list_cache.h"
#include "policy/model.h"
#include "support/diagnostic.h"

namespace nftpolicy::policy {

// "invalid address 'x': <why>", or just <why> when it already quotes the
// entry (no "invalid address 'x': invalid IPv4 address 'x'").
std::string address_error(std::string_view text, const std::string& why);

// Reads `path` (relative to `policy_file`'s directory unless absolute). Errors
// point into the list file (file:line:col); `at` is the `file = ...` value,
// used when the list cannot be read at all.
// With a `cache`, a list read before is updated from its changed lines when
// that is exact (policy/address_list_cache.h), and remembered.
std::optional<AddressFile> read_address_file(const SourceFile& policy_file, const std::string& path,
                                             SourceSpan at, SourceManager& sources, Diagnostics& diags,
                                             AddressListCache* cache = nullptr);

}  // namespace nftpolicy::policy
