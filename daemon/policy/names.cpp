// Name spelling rules; see names.h.
#include "policy/names.h"

#include <cctype>

#include <fmt/format.h>

namespace nftpolicy::policy {

bool is_name(std::string_view s, bool allow_hyphen, bool allow_dot) {
    if (s.empty() || s.size() > 48 || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
    for (char c : s) {
        bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (allow_hyphen && c == '-') ||
                  (allow_dot && c == '.');
        if (!ok) return false;
    }
    return true;
}

std::optional<std::string> table_name_error(std::string_view name) {
    if (is_name(name, true) && name.size() <= 32) return std::nullopt;
    return fmt::format("invalid table name '{}': use 1-32 letters, digits, '_' and '-'", name);
}

}  // namespace nftpolicy::policy
