#include "support/source.h"

#include <fmt/format.h>

namespace nftpolicy {

namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

SourceFile::SourceFile(std::string path_, std::string text_)
    : path(std::move(path_)), text(std::move(text_)) {
    line_starts.push_back(std::string_view(text).starts_with(kByteOrderMark) ? kByteOrderMark.size() : 0);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n') line_starts.push_back(i + 1);
    }
}

std::string_view SourceFile::line(std::uint32_t n) const {
    if (n == 0 || n > line_starts.size()) return {};
    std::size_t begin = line_starts[n - 1];
    std::size_t end = n < line_starts.size() ? line_starts[n] - 1 : text.size();
    std::string_view v(text.data() + begin, end - begin);
    if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
    return v;
}

std::string SourceSpan::where() const {
    if (!valid()) return "<unknown>";
    return fmt::format("{}:{}:{}", file->path, begin.line, begin.column);
}

const SourceFile& SourceManager::add(std::string path, std::string text) {
    return files_.emplace_back(std::move(path), std::move(text));
}

void SourceManager::release_text(const SourceFile& file) {
    for (auto& f : files_) {
        if (&f != &file) continue;
        std::string().swap(f.text);
        std::vector<std::size_t>().swap(f.line_starts);
    }
}

void SourceManager::note_read(std::string path) { read_.push_back(std::move(path)); }

std::vector<std::string> SourceManager::paths() const {
    std::vector<std::string> out;
    for (const auto& f : files_) out.push_back(f.path);
    out.insert(out.end(), read_.begin(), read_.end());
    return out;
}

const SourceFile* SourceManager::find(std::string_view path) const {
    for (const auto& f : files_) {
        if (f.path == path) return &f;
    }
    return nullptr;
}

}  // namespace nftpolicy
