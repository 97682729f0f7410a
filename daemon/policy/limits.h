// The limits of the policy language, documented in docs/policy-language.md
// ("Limits"). Each is far above what a real site writes and far below what
// would exhaust the stack or the memory of the compiler (with ASan's larger
// frames too), so that generated or hostile input ends in a diagnostic at the
// place the limit is crossed, never in a crash.
#pragma once

#include <cstddef>

#include "support/file_read.h"

namespace nftpolicy::policy::limits {

inline constexpr std::size_t kMiB = 1024 * 1024;

// A TOML policy file (the site file, an include). Large inventories belong
// in address lists, which cost a few bytes per address instead of a TOML node.
inline constexpr FileKind kPolicyFile{"a policy file", 8 * kMiB};
// An address list (`{ file = "..." }`): about 4 million IPv4 lines.
inline constexpr FileKind kAddressList{"an address list", 64 * kMiB};

// Files included below the site file, counting the site file as level 1.
inline constexpr std::size_t kIncludeDepth = 32;

// One group expression: nested parentheses, and operators ('|', '&', '-').
inline constexpr std::size_t kExprParens = 64;
inline constexpr std::size_t kExprOperators = 256;
// Evaluating a group: each operator and each reference to a group defined by
// an expression is one level (a chain of groups each defined by the next).
inline constexpr std::size_t kGroupDepth = 512;

// TOML text, checked before the parser sees it: parts of one dotted key or
// table header, and arrays and inline tables nested in one value.
inline constexpr std::size_t kKeyParts = 32;
inline constexpr std::size_t kValueNesting = 16;

}  // namespace nftpolicy::policy::limits
