// Empty-policy detection; see emptiness.h.
#include "policy/emptiness.h"

#include <algorithm>
#include <string_view>

namespace nftpolicy::policy {

namespace {

bool is_blank_or_comment(std::string_view line) {
    const auto first = line.find_first_not_of(" \t\r");
    return first == std::string_view::npos || line[first] == '#';
}

// The first line that says anything (not blank, not a comment), or 0.
std::uint32_t first_content_line(const SourceFile& file) {
    for (std::uint32_t n = 1; n <= file.line_starts.size(); ++n) {
        if (!is_blank_or_comment(file.line(n))) return n;
    }
    return 0;
}

bool declares_something(const Policy& p) {
    return !p.hosts.empty() || !p.flows.empty() || !p.groups.empty() || !p.services.empty() ||
           !p.migrations.empty() || p.management.has_value();
}

}  // namespace

bool check_declares_something(const Policy& policy, const SourceFile& top, Diagnostics& diags) {
    if (declares_something(policy)) return true;
    const std::uint32_t line = first_content_line(top);
    if (line == 0) {
        diags.error(SourceSpan{&top, {1, 1}, {1, 1}},
                    "the policy file is empty (nothing but blank lines and comments); expected at least "
                    "one [hosts.NAME] table");
        return false;
    }
    const auto width = static_cast<std::uint32_t>(std::max<std::size_t>(top.line(line).size(), 1));
    diags.error(SourceSpan{&top, {line, 1}, {line, width}},
                "the policy declares nothing to compile: no hosts, flows, groups, services, migrations "
                "or management, in this file or in what it includes");
    return false;
}

}  // namespace nftpolicy::policy
