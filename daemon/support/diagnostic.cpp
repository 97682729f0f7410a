#include "support/diagnostic.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

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

// The quoted source line and a "^~~~" marker under the span (one line only;
// a multi-line span is marked to the end of its first line).
std::string render_excerpt(const SourceSpan& span) {
    if (!span.valid()) return {};
    std::string_view text = span.file->line(span.begin.line);
    std::uint32_t first = span.begin.column == 0 ? 1 : span.begin.column;
    std::uint32_t last = span.end.line == span.begin.line && span.end.column >= first
                             ? span.end.column
                             : static_cast<std::uint32_t>(std::max<std::size_t>(text.size(), first));
    std::string gutter = fmt::format("{:>5}", span.begin.line);
    std::string marker(first - 1, ' ');
    for (std::size_t i = 0; i < marker.size() && i < text.size(); ++i) {
        if (text[i] == '\t') marker[i] = '\t';  // keep the caret aligned under tabs
    }
    marker += '^';
    marker.append(last - first, '~');
    return fmt::format("{} | {}\n{} | {}\n", gutter, text, std::string(gutter.size(), ' '), marker);
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
    for (const auto& d : diags.all()) out += render(d);
    return out;
}

}  // namespace nftpolicy
