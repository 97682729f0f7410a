// The nesting limit of group definitions: a chain of groups each defined by
// an expression over the next is evaluated (in resolve/) by recursion, one
// level per operator and per reference. Checked here, once the includes are
// merged, so that no later stage walks a chain deeper than the documented
// limit (limits::kGroupDepth).
#pragma once

#include <map>
#include <string>

#include "policy/model.h"
#include "support/diagnostic.h"

namespace nftpolicy::policy {

// Reports the first place where evaluating a group would go deeper than
// limits::kGroupDepth levels. Cycles are left for resolve/ to report.
void check_group_depth(const std::map<std::string, Group>& groups, Diagnostics& diags);

}  // namespace nftpolicy::policy
