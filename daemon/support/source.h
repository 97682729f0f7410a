// Source files and spans. Every policy node carries a SourceSpan so that any
// later stage (resolve, lower, even a kernel rejection) can point at the TOML
// text that produced it.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace nftpolicy {

// A loaded file: its path as the user named it, its bytes, and line offsets.
struct SourceFile {
    std::string path;
    std::string text;
    // Offset of each line's first byte; line 1 starts after a UTF-8 byte
    // order mark, which is neither shown nor a column (support/columns.h).
    std::vector<std::size_t> line_starts;

    SourceFile(std::string path_, std::string text_);
    // Line `n` (1-based) without its newline; empty if out of range.
    std::string_view line(std::uint32_t n) const;
};

// 1-based line and column; 0 means "unknown".
struct SourcePos {
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    friend bool operator==(const SourcePos&, const SourcePos&) = default;
};

// A region of one file. `end` is inclusive, like toml++'s source_region.
// Example: SourceSpan{file, {12, 9}, {12, 14}} renders as "site.toml:12:9".
struct SourceSpan {
    const SourceFile* file = nullptr;
    SourcePos begin;
    SourcePos end;

    bool valid() const { return file != nullptr && begin.line != 0; }
    // "path:line:col", or "<unknown>" when invalid.
    std::string where() const;
};

// Owns every SourceFile of one compile; spans point into it, so it must
// outlive the model and everything derived from it. Addresses are stable.
class SourceManager {
public:
    const SourceFile& add(std::string path, std::string text);
    // The file already added under `path`, or nullptr.
    const SourceFile* find(std::string_view path) const;
    // Frees the text of a file no span will need to quote (a large address
    // list that parsed cleanly); spans into it still print file:line:col.
    void release_text(const SourceFile& file);
    // A file read without keeping a SourceFile (an address list answered
    // from the daemon's cache): no span points into it, but it is an input.
    void note_read(std::string path);
    // Every file added or noted, in the order read: what a compile depended on.
    std::vector<std::string> paths() const;

private:
    std::deque<SourceFile> files_;
    std::vector<std::string> read_;
};

}  // namespace nftpolicy
