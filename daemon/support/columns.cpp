#include "support/columns.h"

#include <algorithm>

namespace nftpolicy {

bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

// An offset inside the byte order mark counts as line 1, column 1.
SourcePos position_of(const SourceFile& file, std::size_t offset) {
    std::size_t at = std::max(offset, file.line_starts.front());
    auto it = std::upper_bound(file.line_starts.begin(), file.line_starts.end(), at);
    auto n = static_cast<std::uint32_t>(it - file.line_starts.begin());
    std::size_t begin = file.line_starts[n - 1];
    return SourcePos{n, char_count(std::string_view(file.text).substr(begin, at - begin)) + 1};
}

std::uint32_t char_count(std::string_view text) {
    return static_cast<std::uint32_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return !is_utf8_continuation(c); }));
}

std::size_t byte_of_column(std::string_view line, std::uint32_t column) {
    std::uint32_t seen = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (is_utf8_continuation(line[i])) continue;
        if (++seen == column) return i;
    }
    return line.size() + (column > seen ? column - seen - 1 : 0);
}

}  // namespace nftpolicy
