// Loading a site policy: read the top file, follow its includes depth-first
// (each file once; cycles are errors), and merge: what a file says overrides
// what the files it includes say; two sibling includes that disagree on a
// group or service are an error unless the including file settles it.
#include "policy/load.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "policy/emptiness.h"
#include "policy/file_policy.h"
#include "policy/group_depth.h"
#include "policy/limits.h"
#include "policy/toml_reader.h"
#include "support/file_read.h"
#include "support/text.h"

namespace nftpolicy::policy {

namespace fs = std::filesystem;

std::vector<std::string> default_search_path() {
    std::vector<std::string> path;
    if (const char* env = std::getenv("NFTPOLICY_PATH")) {
        std::stringstream ss(env);
        for (std::string dir; std::getline(ss, dir, ':');) {
            if (!dir.empty()) path.push_back(dir);
        }
    }
    path.emplace_back(NFTPOLICY_SYSCONF_DIR);
    path.emplace_back(NFTPOLICY_PROFILE_DIR);
    return path;
}

namespace {

// A merged view of one file and everything below it has the same shape as
// one file's contents (its `file` and `includes` are not used).
using Merged = FilePolicy;

class Loader {
public:
    Loader(const LoadOptions& options, SourceManager& sources, Diagnostics& diags)
        : options_(options), sources_(sources), diags_(diags) {}

    std::optional<Merged> load_text(const std::string& path, std::string text) {
        const SourceFile& file = sources_.add(path, std::move(text));
        return load_file(file);
    }

    // `included_at` is the include entry, or invalid for the site file.
    std::optional<Merged> load_path(const std::string& path, SourceSpan included_at) {
        auto text = read_regular_file(path, limits::kPolicyFile);
        if (!text) {
            const char* what = included_at.valid() ? "included policy " : "";
            diags_.error(included_at, fmt::format("cannot read {}'{}': {}", what, path, text.error().message));
            return std::nullopt;
        }
        return load_text(path, std::move(*text));
    }

private:
    std::optional<Merged> load_file(const SourceFile& file) {
        auto root = parse_toml(file, diags_);
        if (!root) return std::nullopt;
        FilePolicy own = build_file_policy(*root, file, sources_, diags_, options_.lists);
        stack_.push_back(canonical(file.path));
        shown_.push_back(file.path);
        Merged below = load_includes(own);
        stack_.pop_back();
        shown_.pop_back();
        return overlay(std::move(below), std::move(own));
    }

    static std::string canonical(const std::string& path) {
        std::error_code ec;
        auto c = fs::weakly_canonical(path, ec);
        return ec ? path : c.string();
    }

    // The file an include names: a path (it has a '/', ends in .toml, or is
    // "." or ".."), relative to the including file, or NAME.toml in the first
    // directory of the search path that has an entry of that name. Any entry counts, so
    // that a directory or a FIFO there is reported as what it is.
    std::optional<std::string> find_include(const FilePolicy& own, const NameRef& ref) {
        if (ref.name.empty()) {
            diags_.error(ref.span, "empty include name; expected a profile name or the path of a .toml file");
            return std::nullopt;
        }
        bool is_path = ref.name.find('/') != std::string::npos || ref.name.ends_with(".toml") ||
                       ref.name == "." || ref.name == "..";
        fs::path dir = fs::path(own.file->path).parent_path();
        std::vector<std::string> tried;
        for (const auto& p : include_candidates(dir, ref.name, is_path)) {
            if (entry_present(p)) return p.string();
            tried.push_back(p.string());
        }
        std::string msg = fmt::format("cannot find included policy '{}'", ref.name);
        if (!is_path) {
            std::string near = closest_match(ref.name, profiles_on_path(dir));
            if (!near.empty()) msg += fmt::format("; did you mean '{}'?", near);
        }
        auto& d = diags_.error(ref.span, std::move(msg));
        add_note(d, {}, fmt::format("searched: {}", fmt::join(tried, ", ")));
        return std::nullopt;
    }

    std::vector<fs::path> include_candidates(const fs::path& dir, const std::string& name, bool is_path) const {
        if (is_path) return {fs::path(name).is_absolute() ? fs::path(name) : dir / name};
        std::vector<fs::path> out{dir / (name + ".toml")};
        for (const auto& d : options_.search_path) out.push_back(fs::path(d) / (name + ".toml"));
        return out;
    }

    // True unless nothing is there; an entry that cannot even be looked at
    // (a name too long, a loop) is "there", and reading it says why.
    static bool entry_present(const fs::path& p) {
        std::error_code ec;
        fs::file_status st = fs::symlink_status(p, ec);
        if (ec) return ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory;
        return fs::exists(st);
    }

    // Names of the profiles (NAME.toml) an include could have meant.
    std::vector<std::string> profiles_on_path(const fs::path& dir) const {
        std::vector<std::string> names;
        std::vector<fs::path> dirs{dir};
        for (const auto& d : options_.search_path) dirs.emplace_back(d);
        for (const auto& d : dirs) {
            // The error_code forms throughout: an unreadable directory on the
            // path must not end the run with an exception.
            std::error_code ec;
            for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec)) {
                if (it->path().extension() == ".toml") names.push_back(it->path().stem().string());
            }
        }
        return names;
    }

    Merged load_includes(const FilePolicy& own) {
        Merged acc;
        std::map<std::string, std::string> group_origin, service_origin;
        for (const auto& ref : own.includes) {
            auto path = find_include(own, ref);
            if (!path) continue;
            std::string key = canonical(*path);
            if (std::find(stack_.begin(), stack_.end(), key) != stack_.end()) {
                report_cycle(ref, key);
                continue;
            }
            if (stack_.size() >= limits::kIncludeDepth) {
                report_too_deep(ref);
                continue;
            }
            if (!done_.insert(key).second) continue;  // diamond: already merged once
            auto sub = load_path(*path, ref.span);
            if (!sub) continue;
            merge_sibling(acc, std::move(*sub), own);
        }
        return acc;
    }

    // The chain is named with the paths the user sees in other messages,
    // not the canonical ones used to detect it.
    void report_cycle(const NameRef& ref, const std::string& key) {
        auto start = std::find(stack_.begin(), stack_.end(), key) - stack_.begin();
        std::vector<std::string> chain(shown_.begin() + start, shown_.end());
        chain.push_back(shown_[static_cast<std::size_t>(start)]);
        diags_.error(ref.span, fmt::format("include cycle: {}", fmt::join(chain, " -> ")));
    }

    // Each level of includes is a few frames of recursion; a limit keeps a
    // generated chain of thousands of files from exhausting the stack.
    void report_too_deep(const NameRef& ref) {
        auto& d = diags_.error(ref.span, fmt::format("includes nest more than {} files deep (the site file "
                                                     "counts as one); expected at most {} levels of includes",
                                                     limits::kIncludeDepth, limits::kIncludeDepth - 1));
        add_note(d, {}, fmt::format("included from {}", fmt::join(shown_, " -> ")));
    }

    // Siblings must agree on groups and services, unless `own` redefines them.
    template <typename T>
    void merge_named(std::map<std::string, T>& acc, std::map<std::string, T>&& add,
                     const std::map<std::string, T>& own, const char* what) {
        for (auto& [name, item] : add) {
            auto it = acc.find(name);
            if (it != acc.end() && !own.contains(name) && it->second.span.file != item.span.file) {
                auto& d = diags_.error(item.span, fmt::format("{} '{}' is defined by two included policies; "
                                                              "define it in the including file to choose", what, name));
                add_note(d, it->second.span, "also defined here");
                continue;
            }
            acc[name] = std::move(item);
        }
    }

    void merge_sibling(Merged& acc, Merged&& sub, const FilePolicy& own) {
        merge_named(acc.groups, std::move(sub.groups), own.groups, "group");
        merge_named(acc.services, std::move(sub.services), own.services, "service");
        merge_unnamed(acc, std::move(sub));
    }

    // Everything but groups and services: `from` is later in include order,
    // so its flows come after and its single values win.
    static void merge_unnamed(Merged& into, Merged&& from) {
        for (auto& f : from.flows) into.flows.push_back(std::move(f));
        for (auto& [name, m] : from.migrations) merge_migration(into.migrations, std::move(m));
        for (auto& [name, h] : from.hosts) into.hosts[name] = std::move(h);
        merge_baseline(into.baseline, from.baseline);
        if (from.management) into.management = std::move(from.management);
        for (auto& d : from.disabled_flows) into.disabled_flows.push_back(std::move(d));
        if (from.table) into.table = from.table;
        if (from.drift) into.drift = from.drift;
    }

    static void merge_migration(std::map<std::string, PartialMigration>& acc, PartialMigration&& m) {
        auto it = acc.find(m.name);
        if (it == acc.end()) {
            acc[m.name] = std::move(m);
            return;
        }
        PartialMigration& base = it->second;
        if (m.gates) base.gates = std::move(m.gates);
        if (m.phase) {
            base.phase = m.phase;
            base.phase_span = m.phase_span;
        }
        for (auto& f : m.flipped) base.flipped.push_back(std::move(f));
        if (m.description) base.description = std::move(m.description);
        if (m.seen_timeout) base.seen_timeout = m.seen_timeout;
        if (m.seen_size) base.seen_size = m.seen_size;
        if (m.quiet_for) base.quiet_for = m.quiet_for;
    }

    template <typename T>
    static void take(std::optional<T>& into, const std::optional<T>& from) {
        if (from) into = from;
    }

    static void merge_baseline(PartialBaseline& into, const PartialBaseline& from) {
        take(into.input, from.input);
        take(into.forward, from.forward);
        take(into.egress, from.egress);
        take(into.log_drops, from.log_drops);
        take(into.log_rate, from.log_rate);
        take(into.log_burst, from.log_burst);
        take(into.log_prefix, from.log_prefix);
        take(into.echo_rate, from.echo_rate);
        take(into.flowtable, from.flowtable);
        if (from.span.valid()) into.span = from.span;
    }

    // `own` (the including file) overrides everything below it.
    Merged overlay(Merged below, FilePolicy own) {
        for (auto& [name, g] : own.groups) below.groups[name] = std::move(g);
        for (auto& [name, s] : own.services) below.services[name] = std::move(s);
        merge_unnamed(below, std::move(own));
        return below;
    }

    const LoadOptions& options_;
    SourceManager& sources_;
    Diagnostics& diags_;
    std::vector<std::string> stack_;  // files being loaded, for cycle detection
    std::vector<std::string> shown_;  // the same files, as their paths are shown
    std::set<std::string> done_;      // files merged already
};

void check_duplicate_flows(const std::vector<Flow>& flows, Diagnostics& diags) {
    std::map<std::string, const Flow*> seen;
    for (const auto& f : flows) {
        auto [it, fresh] = seen.emplace(f.id, &f);
        if (!fresh) {
            auto& d = diags.error(f.id_span, fmt::format("duplicate flow id '{}'", f.id));
            add_note(d, it->second->id_span, "first defined here");
        }
    }
}

Baseline finish_baseline(const PartialBaseline& p) {
    Baseline b;
    b.input = p.input.value_or(b.input);
    b.forward = p.forward.value_or(b.forward);
    b.egress = p.egress.value_or(b.egress);
    b.log_drops = p.log_drops.value_or(b.log_drops);
    b.log_rate = p.log_rate.value_or(b.log_rate);
    if (p.log_burst) b.log_rate.burst = *p.log_burst;
    b.log_prefix = p.log_prefix.value_or(b.log_prefix);
    b.echo_rate = p.echo_rate.value_or(b.echo_rate);
    b.flowtable = p.flowtable.value_or(b.flowtable);
    b.span = p.span;
    return b;
}

Policy finish(Merged m, Diagnostics& diags) {
    Policy p;
    check_duplicate_flows(m.flows, diags);
    p.groups = std::move(m.groups);
    p.services = std::move(m.services);
    p.flows = std::move(m.flows);
    for (auto& [name, pm] : m.migrations) {
        SeenSettings seen{pm.seen_timeout.value_or(kDefaultSeenTimeout),
                          pm.seen_size.value_or(kDefaultSeenSize), pm.span};
        p.migrations[name] = Migration{pm.name, pm.span, pm.gates.value_or(std::vector<NameRef>{}),
                                       pm.phase, pm.phase_span, std::move(pm.flipped),
                                       pm.description.value_or(""), seen,
                                       pm.quiet_for.value_or(kDefaultQuietFor)};
    }
    p.hosts = std::move(m.hosts);
    p.baseline = finish_baseline(m.baseline);
    p.management = std::move(m.management);
    p.disabled_flows = std::move(m.disabled_flows);
    if (m.table) {
        p.table = m.table->name;
        p.table_span = m.table->span;
    }
    if (m.drift) p.drift = *m.drift;
    return p;
}

// Within the loading stage, report in source order so that "the first error"
// is the first one in the text, whatever order the checks ran in.
std::optional<Policy> finish_stage(std::optional<Merged> merged, const SourceFile* top, Diagnostics& diags) {
    std::optional<Policy> p;
    if (merged) p = finish(std::move(*merged), diags);
    if (p) check_group_depth(p->groups, diags);
    if (p && top && !diags.has_errors()) check_declares_something(*p, *top, diags);
    diags.sort_by_location();
    if (diags.has_errors()) return std::nullopt;
    return p;
}

}  // namespace

std::optional<Policy> load_policy(const std::string& path, const LoadOptions& options, SourceManager& sources,
                                  Diagnostics& diags) {
    Loader loader(options, sources, diags);
    auto merged = loader.load_path(path, {});
    return finish_stage(std::move(merged), sources.find(path), diags);
}

std::optional<Policy> load_policy_text(const std::string& path, std::string text, const LoadOptions& options,
                                       SourceManager& sources, Diagnostics& diags) {
    Loader loader(options, sources, diags);
    auto merged = loader.load_text(path, std::move(text));
    return finish_stage(std::move(merged), sources.find(path), diags);
}

}  // namespace nftpolicy::policy
