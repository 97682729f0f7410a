// Diagnostics: errors and warnings attached to source spans, collected per
// stage (a stage reports all it finds; the pipeline stops after the first stage
// with errors), rendered like a compiler:
//
//   site.toml:12:9: error: unknown key 'sevices'; did you mean 'services'?
//      12 | sevices = ["ssh"]
//         | ^~~~~~~
//   note: ...
#pragma once

#include <string>
#include <vector>

#include "support/source.h"

namespace nftpolicy {

enum class Severity { error, warning };

struct DiagnosticNote {
    SourceSpan span;  // may be invalid: then the note has no location
    std::string message;
};

struct Diagnostic {
    Severity severity = Severity::error;
    SourceSpan span;
    std::string message;
    std::vector<DiagnosticNote> notes;
};

// Collects diagnostics for one run of the pipeline. Library code reports here
// and never prints; cli/ and service/ decide where the rendering goes.
class Diagnostics {
public:
    Diagnostic& error(SourceSpan span, std::string message);
    Diagnostic& warning(SourceSpan span, std::string message);
    // A diagnostic reported elsewhere (another run of a stage), notes and all.
    void add(Diagnostic d);

    bool has_errors() const { return errors_ > 0; }
    std::size_t error_count() const { return errors_; }
    std::size_t warning_count() const;
    const std::vector<Diagnostic>& all() const { return items_; }
    // The first error, or nullptr.
    const Diagnostic* first_error() const;
    // Stable sort by (file path, line, column); diagnostics without a span last.
    void sort_by_location();

private:
    std::vector<Diagnostic> items_;
    std::size_t errors_ = 0;
};

// Adds a note to a diagnostic (chainable: `diags.error(...).notes.push_back`
// is verbose).
void add_note(Diagnostic& d, SourceSpan span, std::string message);

// One diagnostic as text: location line, source line with a caret marker, notes.
std::string render(const Diagnostic& d);
// A generated policy with a bad line repeated 100,000 times would print
// 100,000 diagnostics (tens of MB); past this many the rest are counted.
inline constexpr std::size_t kMaxRendered = 100;

// The diagnostics in the order reported, the first kMaxRendered of them,
// then a note saying how many more there were.
std::string render_all(const Diagnostics& diags);

}  // namespace nftpolicy
