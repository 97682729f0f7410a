// A lexical check of a policy file's raw text, run before toml++ sees it.
//
// Debian 12's toml++ 3.3.0 misbehaves on some invalid input (a non-ASCII bare
// key reaches an "unreachable" path, `[.a]` and a DEL byte in a header fail an
// assertion in parse_key, a date followed by a space and a lone digit one in
// parse_value, a key of ~20,000 dotted parts exhausts the stack);
// in a release build that is undefined behaviour. The check keeps such text
// from the parser and reports it as file:line:col, so that release and
// sanitizer builds give the same answer. It knows TOML's strings (basic,
// literal, multi-line), comments, arrays and inline tables, so it never
// rejects valid TOML, except past the documented limits (limits.h).
//
// Checked: control characters (TOML allows only tab and line breaks), bare
// keys (ASCII letters, digits, '-' and '_'), empty parts of dotted keys, the
// number of parts of a key, the nesting of arrays and inline tables, a date
// followed by a space and a digit or by 'T' (a time must follow). Anything
// else it does not understand is left for toml++ to report.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "support/diagnostic.h"

namespace nftpolicy::policy {

// The first problem in `text`: a byte offset and a message.
struct PrecheckFinding {
    std::size_t offset = 0;
    std::string message;
};

std::optional<PrecheckFinding> precheck_toml_text(std::string_view text);

// Runs the check on `file`; reports the first problem at its file:line:col
// and returns false, or returns true when the text may be parsed.
bool precheck_toml(const SourceFile& file, Diagnostics& diags);

}  // namespace nftpolicy::policy
