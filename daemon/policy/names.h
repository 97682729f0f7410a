// The spelling rules for names in a policy (groups, services, flows,
// migrations, gates, hosts, the table). One definition, so that a command-line
// option naming the same thing (`--table`, `--host`, `--phase M=P`,
// `--gates M.G`) is held to the same rule as the policy file.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nftpolicy::policy {

// 1-48 characters: an ASCII letter or digit first, then letters, digits and
// '_', plus '-' and '.' where allowed.
bool is_name(std::string_view s, bool allow_hyphen, bool allow_dot = false);

// Why `name` cannot be the inet table nftpolicy owns, or nullopt if it can.
std::optional<std::string> table_name_error(std::string_view name);

}  // namespace nftpolicy::policy
