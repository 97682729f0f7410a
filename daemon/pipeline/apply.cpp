// The apply driver; see apply.h.
#include "pipeline/apply.h"

#include <cstdio>
#include <ctime>

#include <fmt/format.h>

#include "kernel/element_cache.h"
#include "resolve/phases.h"
#include "state/precedence.h"
#include "state/site_state.h"
#include "support/atomic_file.h"

namespace nftpolicy::pipeline {

const std::string& ruleset_hash(const Compiled& c) {
    if (c.hash_memo.value.empty()) c.hash_memo.value = kernel::ruleset_hash(c.table);
    return c.hash_memo.value;
}

kernel::ApplyRecord record_of(const std::string& policy_path, const Committed& c, std::uint32_t genid) {
    kernel::ApplyRecord r;
    r.table = c.table.name;
    r.policy = policy_path;
    r.host = c.host;
    for (const auto& [migration, phase] : c.phases) r.phases.push_back(migration + "=" + resolve::phase_name(phase));
    r.gates.assign(c.flipped_gates.begin(), c.flipped_gates.end());
    r.ruleset_hash = c.hash != nullptr ? *c.hash : kernel::ruleset_hash(c.table);
    r.genid = genid;
    r.notes = c.notes;
    r.applied_at = static_cast<std::int64_t>(std::time(nullptr));
    return r;
}

namespace {

using KnownAt = std::optional<std::pair<std::string, std::uint32_t>>;

}  // namespace

void save_elements(const StateOptions& state, const std::optional<kernel::KnownElements>& known,
                   std::vector<std::string>& warnings) {
    if (!known || known->sets.empty()) {
        std::remove(state.elements_path().c_str());
        return;
    }
    auto written = kernel::write_known(state.elements_path(), *known);
    if (!written) warnings.push_back(written.error().message);
}

void record_commit(kernel::NetlinkKernel& kernel, const std::string& policy_path, const Committed& committed,
                   const StateOptions& state, const std::optional<kernel::KnownElements>& known_after,
                   bool elements_current, Sync sync, std::vector<std::string>& warnings) {
    if (!elements_current) save_elements(state, known_after, warnings);
    auto genid = kernel.generation();
    auto written =
        kernel::write_record(state.record_path(), record_of(policy_path, committed, genid ? *genid : 0), sync);
    if (!written) warnings.push_back(written.error().message);
}

Result<Applied> commit(kernel::NetlinkKernel& kernel, const std::string& policy_path, const Compiled& compiled,
                       const StateOptions& state, bool dry_run, std::optional<kernel::KnownElements> known,
                       StateWrites writes) {
    kernel::ApplyOptions options;
    options.dry_run = dry_run;
    const KnownAt known_at = known ? KnownAt(std::pair(known->scope, known->genid)) : std::nullopt;
    options.known = known ? &*known : nullptr;
    auto report = kernel::apply(kernel, compiled.table, options);
    if (!report) return tl::unexpected(report.error());
    Applied out{compiled.table.name, std::move(*report), {}};
    if (dry_run || (!out.report.committed && !out.report.changes.empty())) return out;
    const auto& done = out.report;
    // Nothing committed at the generation the file describes: it still holds.
    const bool file_current = !done.committed && done.known_after &&
                              known_at == std::pair(done.known_after->scope, done.known_after->genid);
    const bool later = writes == StateWrites::caller_finishes;
    out.elements_unsaved = !file_current && later;
    out.record_unsynced = later;
    Committed committed = committed_of(compiled);
    committed.notes = done.notes;
    record_commit(kernel, policy_path, committed, state, done.known_after, file_current || out.elements_unsaved,
                  later ? Sync::later : Sync::now, out.warnings);
    return out;
}

namespace {

// A commit must never be left without its record: check before anything.
Result<std::optional<kernel::ApplyLock>> prepare(const ApplyRequest& request) {
    if (request.dry_run) return std::optional<kernel::ApplyLock>();
    if (auto usable = kernel::check_state_dir(request.state.state_dir); !usable) {
        return tl::unexpected(usable.error());
    }
    auto lock = kernel::ApplyLock::acquire(request.state.lock, request.state.lock_timeout);
    if (!lock) return tl::unexpected(lock.error());
    return std::optional<kernel::ApplyLock>(std::move(*lock));
}

std::optional<Failure> refusal(const ApplyRequest& request, const Compiled& compiled) {
    if (request.force) return std::nullopt;
    auto empty = empty_ruleset(compiled);
    if (!empty) return std::nullopt;
    return Failure{FailureKind::invalid_policy,
                   fmt::format("refusing to apply: {}; nothing was changed (--force applies it anyway)", *empty)};
}

}  // namespace

namespace {

// What --phase/--gates chose (docs/migrations.md, "Precedence"), written to
// a synced temporary state file that is put in place once the commit went
// through; nothing when the command line chose nothing or on a dry run.
Result<void> prepare_choices(const ApplyRequest& request, const Compiled& c, std::optional<PendingFile>& out) {
    if (request.dry_run || request.state.state_dir.empty()) return {};
    const std::string path = state::state_path(request.state.state_dir);
    auto st = state::read_state(path);
    if (!st) return tl::unexpected(st.error());
    if (!state::record_choices(c.chosen, c.phases, std::time(nullptr), *st)) return {};
    auto pending = state::prepare_state(path, *st);
    if (!pending) return tl::unexpected(pending.error());
    out.emplace(std::move(*pending));
    return {};
}

}  // namespace

ApplyOutput apply(const ApplyRequest& request) {
    ApplyOutput out;
    auto lock = prepare(request);
    if (!lock) {
        out.result = tl::unexpected(failure_of(lock.error()));
        return out;
    }
    PolicyRequest policy = request.policy;
    policy.state_dir = request.state.state_dir;  // the phases and gates this machine runs
    auto compiled = compile(policy);
    out.sources = compiled.sources;
    out.diagnostics = std::move(compiled.diagnostics);
    if (!compiled.result) {
        out.result = tl::unexpected(compiled.result.error());
        return out;
    }
    if (auto refused = refusal(request, *compiled.result)) {
        out.result = tl::unexpected(*refused);
        return out;
    }
    std::optional<PendingFile> choices;
    if (auto prepared = prepare_choices(request, *compiled.result, choices); !prepared) {
        out.result = tl::unexpected(failure_of(prepared.error()));
        return out;
    }
    auto k = kernel::NetlinkKernel::open();
    if (!k) {
        out.result = tl::unexpected(failure_of(k.error()));
        return out;
    }
    if (request.before_commit && !request.dry_run) {
        if (auto refused = request.before_commit(*compiled.result)) {
            out.result = tl::unexpected(*refused);
            return out;
        }
    }
    auto applied = commit(**k, request.policy.policy, *compiled.result, request.state, request.dry_run,
                          kernel::read_known(request.state.elements_path()));
    if (!applied) {
        if (request.commit_failed) request.commit_failed();
        // A kernel rejection located in the policy reads like any policy error.
        for (const Diagnostic& d : applied.error().diagnostics) out.diagnostics.add(d);
        out.result = tl::unexpected(failure_of(applied.error()));
        return out;
    }
    if (choices) {
        if (auto r = choices->commit(); !r) applied->warnings.push_back(r.error().message);
    }
    if (request.after_commit && !request.dry_run) request.after_commit(*compiled.result, *applied);
    out.result = std::move(*applied);
    return out;
}

Result<Status> status(const StateOptions& state, const std::string& table) {
    auto record = kernel::read_record(state.record_path());
    if (!record) return tl::unexpected(record.error());
    Status out;
    out.record = std::move(*record);
    out.table = table;
    if (out.table.empty()) out.table = out.record ? out.record->table : "nftpolicy";
    auto k = kernel::NetlinkKernel::open();
    if (!k) return tl::unexpected(k.error());
    auto view = (*k)->read(out.table, kernel::ReadOptions{nullptr, false});  // counters, not elements
    if (!view) return tl::unexpected(view.error());
    out.view = std::move(*view);
    return out;
}

}  // namespace nftpolicy::pipeline
