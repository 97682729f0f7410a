#include "support/diagnostic.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "support/columns.h"

namespace nftpolicy {

Diagnostic& Diagnostics::error(SourceSpan span, std::string message) {
    ++errors_;
    return items_.emplace_back(Diagnostic{Severity::error, span, std::move(message), {}});
}

Diagnostic& Diagnostics::warning(SourceSpan span, std::string message) {
    return items_.emplace_back(Diagnostic{Severity::warning, span, std::move(message), {}});
}

void Diagnostics::add(Diagnostic d) {
    if (d.severity == Severity::error) ++errors_;
    items_.push_back(std::move(d));
}

std::size_t Diagnostics::warning_count() const {
    return static_cast<std::size_t>(
        std::count_if(items_.begin(), items_.end(), [](const Diagnostic& d) { return d.severity == Severity::warning; }));
}

const Diagnostic* Diagnostics::first_error() const {
    for (const auto& d : items_) {
        if (d.severity == Severity::error) return &d;
    }
    return nullptr;
}

void Diagnostics::sort_by_location() {
    auto key = [](const Diagnostic& d) {
        return std::make_tuple(!d.span.valid(), d.span.valid() ? d.span.file->path : std::string(),
                               d.span.begin.line, d.span.begin.column);
    };
    std::stable_sort(items_.begin(), items_.end(),
                     [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
}

void add_note(Diagnostic& d, SourceSpan span, std::string message) {
    d.notes.push_back(DiagnosticNote{span, std::move(message)});
}

namespace {

// The source line as it may be printed: a control character (a NUL, an
// escape sequence, a DEL: the very things some diagnostics are about) would
// garble the terminal or the log, so each shows as U+FFFD, one column wide
// like the character it stands for.
std::string printable(std::string_view line) {
    std::string out;
    out.reserve(line.size());
    for (char c : line) {
        auto b = static_cast<unsigned char>(c);
        if ((b < 0x20 && c != '\t') || b == 0x7f) {
            out += "\xEF\xBF\xBD";
        } else {
            out += c;
        }
    }
    return out;
}

// Lines longer than this are quoted in part, a window around the span with
// "..." where the line was cut: a generated policy may hold megabytes on one
// line, and each diagnostic on it would otherwise print all of it.
constexpr std::size_t kExcerptWidth = 200;
constexpr std::size_t kExcerptLead = 60;  // bytes kept before the span

// The byte range [begin, end) of `text` to quote around 0-based `first`,
// never cutting a UTF-8 sequence.
std::pair<std::size_t, std::size_t> excerpt_window(std::string_view text, std::size_t first) {
    if (text.size() <= kExcerptWidth) return {0, text.size()};
    std::size_t begin = std::min(first > kExcerptLead ? first - kExcerptLead : 0, text.size() - kExcerptWidth);
    std::size_t end = begin + kExcerptWidth;
    while (begin > 0 && is_utf8_continuation(text[begin])) --begin;
    while (end < text.size() && is_utf8_continuation(text[end])) --end;
    return {begin, end};
}

// The quoted source line (or its window) and a "^~~~" marker under the span
// (one line only; a multi-line span is marked to the end of its first line).
// Columns count characters; the window is cut in bytes.
std::string render_excerpt(const SourceSpan& span) {
    if (!span.valid()) return {};
    std::string_view line = span.file->line(span.begin.line);
    std::uint32_t first = span.begin.column == 0 ? 1 : span.begin.column;
    std::uint32_t last = span.end.line == span.begin.line && span.end.column >= first
                             ? span.end.column
                             : std::max(char_count(line), first);
    std::size_t first_byte = byte_of_column(line, first);
    auto [begin, end] = excerpt_window(line, std::min(first_byte, line.size()));
    std::string_view text = line.substr(begin, end - begin);
    std::string lead = begin > 0 ? "..." : "";
    if (end < line.size()) last = std::min(last, std::max(char_count(line.substr(0, end)), first));
    std::string gutter = fmt::format("{:>5}", span.begin.line);
    std::string marker = lead.size() > 0 ? std::string(lead.size(), ' ') : std::string();
    for (std::size_t i = begin; i < first_byte; ++i) {
        if (i >= line.size()) {
            marker += ' ';
        } else if (!is_utf8_continuation(line[i])) {
            marker += line[i] == '\t' ? '\t' : ' ';  // keep the caret aligned under tabs
        }
    }
    marker += '^';
    marker.append(last - first, '~');
    return fmt::format("{} | {}{}{}\n{} | {}\n", gutter, lead, printable(text), end < line.size() ? "..." : "",
                       std::string(gutter.size(), ' '), marker);
}

const char* severity_name(Severity s) {
    switch (s) {
        case Severity::error: return "error";
        case Severity::warning: return "warning";
    }
    return "error";
}

}  // namespace

std::string render(const Diagnostic& d) {
    std::string out = d.span.valid()
                          ? fmt::format("{}: {}: {}\n", d.span.where(), severity_name(d.severity), d.message)
                          : fmt::format("nftpolicy: {}: {}\n", severity_name(d.severity), d.message);
    out += render_excerpt(d.span);
    for (const auto& n : d.notes) {
        out += n.span.valid() ? fmt::format("{}: note: {}\n", n.span.where(), n.message)
                              : fmt::format("note: {}\n", n.message);
        out += render_excerpt(n.span);
    }
    return out;
}

std::string render_all(const Diagnostics& diags) {
    std::string out;
    const auto& all = diags.all();
    std::size_t shown = std::min(all.size(), kMaxRendered);
    for (std::size_t i = 0; i < shown; ++i) out += render(all[i]);
    if (shown < all.size()) {
        out += fmt::format("nftpolicy: note: {} more diagnostics not shown (the first {} are)\n",
                           all.size() - shown, shown);
    }
    return out;
}

}  // namespace nftpolicy
