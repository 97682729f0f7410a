// The compile driver; see compile.h.
#include "pipeline/compile.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "ir/lower.h"
#include "policy/limits.h"
#include "policy/names.h"
#include "resolve/phases.h"
#include "state/precedence.h"
#include "state/site_state.h"
#include "support/file_read.h"

namespace nftpolicy::pipeline {

Failure failure_of(const Error& error) {
    // Diagnostics say it all, located: the message would only repeat them.
    std::string message = error.diagnostics.empty() ? error.message : std::string();
    switch (error.kind) {
        case ErrorKind::kernel: return {FailureKind::kernel, message};
        case ErrorKind::conflict: return {FailureKind::busy, message};
        case ErrorKind::refused: return {FailureKind::refused, message};
        case ErrorKind::io:
        case ErrorKind::invalid:
        case ErrorKind::permission: return {FailureKind::system, message};
    }
    return {FailureKind::system, message};
}

// With the checks the loader reads every file with (support/file_read.h): a
// FIFO, a directory or a device is named as such, and nothing blocks.
Result<void> check_readable(const std::string& path) {
    auto readable = check_regular_file(path, policy::limits::kPolicyFile);
    if (!readable)
        return fail(readable.error().kind, fmt::format("cannot read '{}': {}", path, readable.error().message));
    return {};
}

std::optional<policy::Policy> load(const PolicyRequest& request, SourceManager& sources, Diagnostics& diags) {
    policy::LoadOptions options;
    options.search_path = request.include_paths;
    options.lists = request.lists;
    for (auto& dir : policy::default_search_path()) options.search_path.push_back(dir);
    return policy::load_policy(request.policy, options, sources, diags);
}

namespace {

std::optional<policy::Phase> parse_phase(std::string_view s) {
    if (s == "legacy") return policy::Phase::legacy;
    if (s == "coexist") return policy::Phase::coexist;
    if (s == "final") return policy::Phase::final_;
    return std::nullopt;
}

// Without a host: the policy's only host, or the one named like this machine.
std::string default_host(const policy::Policy& policy) {
    if (policy.hosts.size() <= 1) return {};
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0) return {};
    std::string short_name(name, std::strcspn(name, "."));
    if (policy.hosts.contains(name)) return name;
    if (policy.hosts.contains(short_name)) return short_name;
    return {};
}

// Appends `stage`'s diagnostics after those of earlier stages.
void append(Diagnostics& out, const Diagnostics& stage) {
    for (const auto& d : stage.all()) out.add(d);
}

Result<void> same_phase(policy::Phase before, policy::Phase now, const std::string& target) {
    if (before == now) return {};
    return fail(ErrorKind::invalid, fmt::format("--phase: {} is given two phases, '{}' and '{}'; expected one", target,
                                                resolve::phase_name(before), resolve::phase_name(now)));
}

Result<void> add_phase(const PhaseArg& p, resolve::ResolveOptions& options) {
    if (p.migration.empty()) {
        if (options.phase) {
            if (auto same = same_phase(*options.phase, p.phase, "every migration"); !same) return same;
        }
        options.phase = p.phase;
        return {};
    }
    auto [it, inserted] = options.phase_of.try_emplace(p.migration, p.phase);
    if (inserted) return {};
    return same_phase(it->second, p.phase, "migration '" + p.migration + "'");
}

Result<void> add_phases(const std::string& value, resolve::ResolveOptions& options) {
    for (const auto& entry : split_list(value)) {
        auto p = parse_phase_arg(entry);
        if (!p) {
            return fail(ErrorKind::invalid,
                        fmt::format("--phase '{}': expected legacy, coexist or final, or MIGRATION=PHASE", entry));
        }
        if (auto added = add_phase(*p, options); !added) return added;
    }
    return {};
}

}  // namespace

std::vector<std::string> split_list(const std::string& value) {
    std::vector<std::string> entries;
    std::size_t begin = 0;
    for (std::size_t comma; (comma = value.find(',', begin)) != std::string::npos; begin = comma + 1) {
        entries.push_back(value.substr(begin, comma - begin));
    }
    entries.push_back(value.substr(begin));
    return entries;
}

std::optional<PhaseArg> parse_phase_arg(std::string_view text) {
    const auto eq = text.find('=');
    auto phase = parse_phase(eq == std::string_view::npos ? text : text.substr(eq + 1));
    if (!phase) return std::nullopt;
    if (eq == std::string_view::npos) return PhaseArg{{}, *phase};
    if (!policy::is_name(text.substr(0, eq), true)) return std::nullopt;
    return PhaseArg{std::string(text.substr(0, eq)), *phase};
}

Result<resolve::ResolveOptions> option_values(const PolicyRequest& request) {
    resolve::ResolveOptions options;
    options.host = request.host;
    for (const auto& value : request.phases) {
        if (auto added = add_phases(value, options); !added) return tl::unexpected(added.error());
    }
    for (const auto& value : request.gates) {
        for (auto& entry : split_list(value)) options.flipped_gates.insert(std::move(entry));
    }
    return options;
}

Result<std::optional<resolve::ResolveOptions>> resolve_options(const PolicyRequest& request,
                                                               const policy::Policy& policy, Diagnostics& diags) {
    auto options = option_values(request);
    if (!options) return tl::unexpected(options.error());
    if (options->host.empty()) options->host = default_host(policy);
    if (!resolve::check_options(policy, *options, diags)) return std::optional<resolve::ResolveOptions>();
    return std::optional(std::move(*options));
}

std::optional<std::string> empty_ruleset(const Compiled& c) {
    if (c.flows > 0) return std::nullopt;
    const std::string what = c.host.empty() ? "the policy selects no host, so the ruleset"
                                            : fmt::format("the ruleset for host '{}'", c.host);
    return what + " has no flows and no management access, only the baseline";
}

namespace {

// load -> resolve; the model is dropped on return.
// The state's choices where the command line made none; a state file that
// cannot be read stops the compile (it may hold flipped gates).
tl::expected<void, Failure> fold_state(const std::string& state_dir, const policy::Policy& policy,
                                       resolve::ResolveOptions& options, Diagnostics& diags) {
    auto st = state::read_state(state::state_path(state_dir));
    if (!st) return tl::unexpected(Failure{FailureKind::system, st.error().message});
    for (auto& w : state::merge_state(*st, policy, options)) diags.warning(SourceSpan{}, std::move(w));
    return {};
}

tl::expected<resolve::Projection, Failure> project(const PolicyRequest& request, SourceManager& sources,
                                                   Diagnostics& diags, resolve::ResolveOptions& chosen) {
    auto policy = load(request, sources, diags);
    if (!policy) return tl::unexpected(Failure{FailureKind::invalid_policy, {}});
    if (!request.table.empty()) policy->table = request.table;
    auto options = resolve_options(request, *policy, diags);
    if (!options) return tl::unexpected(Failure{FailureKind::bad_selection, options.error().message});
    if (!*options) return tl::unexpected(Failure{FailureKind::bad_selection, {}});  // the diagnostics say why
    chosen = **options;
    if (!request.state_dir.empty()) {
        if (auto folded = fold_state(request.state_dir, *policy, **options, diags); !folded) {
            return tl::unexpected(folded.error());
        }
    }
    Diagnostics resolved;
    auto projection = resolve::resolve_policy(*policy, **options, resolved);
    resolved.sort_by_location();
    append(diags, resolved);
    if (!projection) return tl::unexpected(Failure{FailureKind::invalid_policy, {}});
    return std::move(*projection);
}

}  // namespace

std::optional<Failure> precheck(const PolicyRequest& request) {
    if (auto values = option_values(request); !values) {  // before any file is read
        return Failure{FailureKind::bad_selection, values.error().message};
    }
    if (auto readable = check_readable(request.policy); !readable) {
        return Failure{FailureKind::unreadable, readable.error().message};
    }
    return std::nullopt;
}

CompileOutput compile(const PolicyRequest& request) {
    CompileOutput out;
    if (auto failure = precheck(request)) {
        out.result = tl::unexpected(std::move(*failure));
        return out;
    }
    auto sources = std::make_shared<SourceManager>();
    out.sources = sources;
    resolve::ResolveOptions chosen;
    auto projection = project(request, *sources, out.diagnostics, chosen);
    if (!projection) {
        out.result = tl::unexpected(projection.error());
        return out;
    }
    Compiled c;
    c.sources = sources;
    c.table = ir::lower(*projection);
    c.host = projection->host;
    c.mode = projection->mode;
    c.phases = projection->phases;
    c.flipped_gates = projection->flipped_gates;
    c.flows = projection->flows.size();
    c.drift = projection->drift;
    c.chosen = std::move(chosen);
    out.result = std::move(c);
    return out;
}

}  // namespace nftpolicy::pipeline
