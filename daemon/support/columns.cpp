#include "support/columns.h"

#include <algorithm>

namespace nftpolicy {

namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

bool is_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xc0) == 0x80;
}

}  // namespace

SourcePos position_of(const SourceFile& file, std::size_t offset) {
    auto it = std::upper_bound(file.line_starts.begin(), file.line_starts.end(), offset);
    auto n = static_cast<std::uint32_t>(it - file.line_starts.begin());
    std::size_t begin = file.line_starts[n - 1];
    std::string_view text(file.text);
    if (n == 1 && text.starts_with(kByteOrderMark)) begin = std::min(offset, kByteOrderMark.size());
    return SourcePos{n, char_count(text.substr(begin, offset - begin)) + 1};
}

std::uint32_t char_count(std::string_view text) {
    return static_cast<std::uint32_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return !is_continuation(c); }));
}

std::size_t byte_of_column(std::string_view line, std::uint32_t column) {
    std::uint32_t seen = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (is_continuation(line[i])) continue;
        if (++seen == column) return i;
    }
    return line.size() + (column > seen ? column - seen - 1 : 0);
}

}  // namespace nftpolicy
