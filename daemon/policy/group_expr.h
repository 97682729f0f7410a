// Parser for group expressions: `backend & agent_handler`, `(a | b) - c`.
//
//   expr   := term (('|' | '-') term)*      left-associative
//   term   := factor ('&' factor)*
//   factor := NAME | '(' expr ')'
//   NAME   := [A-Za-z_][A-Za-z0-9_]*        ('-' is the difference operator)
#pragma once

#include <optional>
#include <string_view>

#include "policy/model.h"
#include "support/diagnostic.h"

namespace nftpolicy::policy {

// Parses `text`, whose first character sits at `start` (line, column) of
// `file`. Reports a syntax error with its column and returns nullopt.
std::optional<GroupExpr> parse_group_expr(std::string_view text, const SourceFile& file,
                                          SourcePos start, Diagnostics& diags);

// True for a valid group name.
bool is_group_name(std::string_view name);

}  // namespace nftpolicy::policy
