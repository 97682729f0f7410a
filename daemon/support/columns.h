// Columns of a source line. A column counts characters (UTF-8 sequences), as
// toml++'s do and as a terminal shows them; the byte order mark before a
// file's first line is none (SourceFile::line leaves it out). Code that finds
// a problem by byte offset converts with these, so that its file:line:col and
// caret agree with toml++'s.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "support/source.h"

namespace nftpolicy {

// The line and column of the byte at `offset` (a raw offset into file.text).
SourcePos position_of(const SourceFile& file, std::size_t offset);

// A byte that continues a UTF-8 sequence (10xxxxxx).
bool is_utf8_continuation(char c);

// The number of characters (UTF-8 sequences; a stray byte counts as one) in `text`.
std::uint32_t char_count(std::string_view text);

// The 0-based byte offset in `line` of its 1-based `column`; a column past
// the end gives line.size() plus the columns beyond it.
std::size_t byte_of_column(std::string_view line, std::uint32_t column);

}  // namespace nftpolicy
