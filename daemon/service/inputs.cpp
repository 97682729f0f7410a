// File stamps; see inputs.h.
#include "service/inputs.h"

#include <set>

namespace nftpolicy::service {

namespace {

void add(std::set<std::string>& out, const SourceSpan& span) {
    if (span.file) out.insert(span.file->path);
}

void add_sets(std::set<std::string>& out, const ir::Table& t) {
    for (const auto& s : t.sets) {
        add(out, s.span);
        for (const auto& src : s.sources) add(out, src.span);
    }
    for (const auto& s : t.dynamic_sets) add(out, s.span);
    for (const auto& c : t.counters) add(out, c.span);
    for (const auto& m : t.maps) {
        add(out, m.span);
        for (const auto& e : m.elements) add(out, e.span);
    }
}

}  // namespace

std::vector<std::string> files_of(const ir::Table& t) {
    std::set<std::string> out;
    add_sets(out, t);
    for (const auto& c : t.chains) {
        add(out, c.span);
        for (const auto& r : c.rules) {
            add(out, r.span);
            for (const auto& s : r.stmts) add(out, s.span);
        }
    }
    return {out.begin(), out.end()};
}

std::vector<std::string> files_of(const Diagnostics& diags) {
    std::set<std::string> out;
    for (const auto& d : diags.all()) {
        add(out, d.span);
        for (const auto& n : d.notes) add(out, n.span);
    }
    return {out.begin(), out.end()};
}

Fingerprint fingerprint(const std::vector<std::string>& paths) {
    Fingerprint out;
    for (const auto& p : paths) out.push_back(InputStamp{p, file_stamp(p)});
    return out;
}

}  // namespace nftpolicy::service
