// The daemon's decisions; see engine.h.
#include "service/engine.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "kernel/apply_lock.h"
#include "kernel/element_cache.h"
#include "policy/limits.h"
#include "service/confirm.h"
#include "service/fallback.h"
#include "service/ruleset_file.h"
#include "state/site_state.h"

namespace nftpolicy::service {

const char* held_name(Held held) {
    switch (held) {
        case Held::nothing:
            return "nothing";
        case Held::policy:
            return "policy";
        case Held::last_good:
            return "last good";
        case Held::kept:
            return "kept";
        case Held::builtin:
            return "built-in";
        case Held::rolled_back:
            return "rolled back";
    }
    return "?";
}

namespace {

// What the apply record names as the policy of a ruleset that is not the
// policy file's.
std::string record_path(Held held, const std::string& policy) {
    switch (held) {
        case Held::last_good:
            return "(nftpolicyd: last good ruleset)";
        case Held::builtin:
            return "(nftpolicyd: built-in ruleset)";
        case Held::rolled_back:
            return "(nftpolicyd: last confirmed ruleset)";
        case Held::nothing:
        case Held::policy:
        case Held::kept:
            return policy;
    }
    return policy;
}

// The failure as one line: the first error's location and message.
std::string one_line(const pipeline::Failure& failure, const Diagnostics& diags) {
    if (const Diagnostic* d = diags.first_error()) {
        std::string where = d->span.valid() ? d->span.where() + ": " : "";
        std::string more =
            diags.error_count() > 1 ? fmt::format(" (and {} more)", diags.error_count() - 1) : "";
        return where + d->message + more;
    }
    return failure.message.empty() ? "failed" : failure.message;
}

void set_failure(Outcome& out, pipeline::Failure failure, const Diagnostics& diags) {
    out.error = one_line(failure, diags);
    out.failure = std::move(failure);
    out.ok = false;
}

}  // namespace

Engine::Engine(EngineOptions options, std::unique_ptr<kernel::NetlinkKernel> kernel)
    : options_(std::move(options)), kernel_(std::move(kernel)) {
    options_.policy.state_dir = options_.state.state_dir;
    options_.policy.lists = &lists_;  // a one-line edit of a large list re-parses that line
    last_good_hash_ = last_good_hash(last_good_path(options_.state.state_dir));
    // What the last commit (ours before a restart, or the CLI's) left in
    // large sets: used only if the kernel is still at that generation.
    known_ = kernel::read_known(options_.state.elements_path());
}

Engine::~Engine() { finish(); }

Result<std::unique_ptr<Engine>> Engine::open(EngineOptions options) {
    auto k = kernel::NetlinkKernel::open();
    if (!k) return tl::unexpected(k.error());
    return std::unique_ptr<Engine>(new Engine(std::move(options), std::move(*k)));
}

std::vector<std::string> Engine::watched_files() const {
    std::vector<std::string> out = inputs_;
    if (out.empty()) out.push_back(options_.policy.policy);
    out.push_back(state::state_path(options_.state.state_dir));
    return out;
}

void Engine::files_changed(const std::set<std::string>& touched, const std::set<std::string>& written) {
    if (touched.contains("*")) lists_.touched_all();
    for (const auto& path : touched) lists_.touched(path);
    for (const auto& path : written) lists_.read_ahead(path, policy::limits::kAddressList);
}

// What to watch and fingerprint after a compile: the policy file, every file
// the compile read (includes, address lists), the files the ruleset's spans
// name, and those the diagnostics point into; after a failure also what the
// last good compile read (fixing an include is an edit there).
void Engine::note_inputs(const pipeline::CompileOutput& compiled) {
    std::set<std::string> files{options_.policy.policy};
    if (compiled.sources) {
        for (auto& f : compiled.sources->paths()) files.insert(std::move(f));
    }
    if (compiled.result) {
        for (auto& f : files_of(compiled.result->table)) files.insert(std::move(f));
    } else {
        files.insert(inputs_.begin(), inputs_.end());
    }
    for (auto& f : files_of(compiled.diagnostics)) files.insert(std::move(f));
    inputs_.assign(files.begin(), files.end());
    fingerprint_ = fingerprint(watched_files());
}

// The held ruleset when nothing it was compiled from changed; else a new
// compile (nullptr after a failure, told in `out`).
std::shared_ptr<const pipeline::Compiled> Engine::compile_if_needed(bool recompile, Outcome& out) {
    if (!recompile && fingerprint(watched_files()) == fingerprint_) {
        if (failed_) {  // still the same broken policy
            out.failure = failed_->failure;
            out.error = failed_->error;
            out.diagnostics = failed_->diagnostics;
            out.policy_errors = failed_->policy_errors;
            out.policy_warnings = failed_->policy_warnings;
            return nullptr;
        }
        if (holding_.held == Held::policy || holding_.held == Held::rolled_back)
            return holding_.compiled;
    }
    out.recompiled = true;
    failed_.reset();
    auto compiled = pipeline::compile(options_.policy);
    note_inputs(compiled);
    out.diagnostics = render_all(compiled.diagnostics);
    out.policy_errors = compiled.diagnostics.error_count();
    out.policy_warnings = compiled.diagnostics.warning_count();
    if (!compiled.result) {
        set_failure(out, compiled.result.error(), compiled.diagnostics);
        failed_ = out;
        return nullptr;
    }
    if (auto empty = pipeline::empty_ruleset(*compiled.result)) {
        set_failure(out, {pipeline::FailureKind::invalid_policy, "refusing to load it: " + *empty},
                    {});
        out.policy_errors = std::max<std::size_t>(out.policy_errors, 1);
        failed_ = out;
        return nullptr;
    }
    return std::make_shared<const pipeline::Compiled>(std::move(*compiled.result));
}

// Makes the kernel hold `target`; on success it becomes what is held.
bool Engine::commit(const std::shared_ptr<const pipeline::Compiled>& target, Held held,
                    const std::string& policy_path, Outcome& out) {
    auto known = std::move(known_);
    known_.reset();
    auto applied = pipeline::commit(*kernel_, record_path(held, policy_path), *target, options_.state,
                                    false, std::move(known), pipeline::StateWrites::caller_finishes);
    if (!applied) {
        Diagnostics diags;
        for (const Diagnostic& d : applied.error().diagnostics) diags.add(d);
        out.diagnostics += render_all(diags);
        set_failure(out, pipeline::failure_of(applied.error()), diags);
        return false;
    }
    known_ = std::move(applied->report.known_after);
    elements_unsaved_ = elements_unsaved_ || applied->elements_unsaved;
    record_unsynced_ = record_unsynced_ || applied->record_unsynced;
    synced_genid_ = applied->report.genid + (applied->report.committed ? 1 : 0);
    out.committed = applied->report.committed;
    out.changes = std::move(applied->report.changes);
    for (auto& n : applied->report.notes) out.notes.push_back(std::move(n));
    for (auto& w : applied->warnings) out.warnings.push_back(std::move(w));
    if (auto genid = kernel_->generation()) last_genid_ = *genid;
    // No read-back: the kernel acknowledged the whole batch (or the diff
    // against what it held, read just before, sent nothing), and a foreign
    // change after that is the drift watch's to repair.
    std::string hash = pipeline::ruleset_hash(*target);
    if (hash != holding_.hash || held != holding_.held) ++holding_.generation;
    holding_.held = held;
    holding_.compiled = target;
    holding_.hash = std::move(hash);
    return true;
}

bool Engine::kernel_has_table(const std::string& table) {
    auto view = kernel_->read(table, kernel::ReadOptions{nullptr, false});
    return view && view->table.has_value();
}

// Why a freshly compiled ruleset must not replace the held one: it is the
// ruleset a rollback took back (until `nftpolicy apply` loads it again),
// or it cuts management access (lockout guard).
std::optional<pipeline::Failure> Engine::refuse(const pipeline::Compiled& next, bool force,
                                                const std::vector<ir::SshClient>& ssh) const {
    const std::string& dir = options_.state.state_dir;
    auto record = read_confirm(confirm_path(dir));
    // Hashed only after a rollback: at a million addresses the hash is a
    // pass over 32 MB, and commit() hashes the ruleset it keeps anyway.
    const bool rolled_back = record && *record && (*record)->state == ConfirmState::rolled_back;
    const std::string hash = rolled_back ? pipeline::ruleset_hash(next) : std::string();
    if (rolled_back && (*record)->applied == hash) {
        return pipeline::Failure{
            pipeline::FailureKind::refused,
            fmt::format("the policy compiles to ruleset {}, which was rolled back at {} ({}); "
                        "`nftpolicy apply` loads it again",
                        hash, format_time((*record)->rolled_back_at), (*record)->reason)};
    }
    if (force || !holding_.compiled || holding_.held == Held::builtin ||
        holding_.compiled->table.name != next.table.name) {
        return std::nullopt;
    }
    // Management access, and each asking client's SSH session with it.
    std::vector<std::optional<ir::SshClient>> sessions(ssh.begin(), ssh.end());
    if (sessions.empty()) sessions.emplace_back(std::nullopt);
    for (const auto& session : sessions) {
        if (auto cut = lockout_refusal(holding_.compiled->table, next.table, session)) {
            return pipeline::Failure{pipeline::FailureKind::refused,
                                     *cut + " (`nftpolicy reload --force` loads it anyway)"};
        }
    }
    return std::nullopt;
}

// The ruleset of the policy is the last confirmed one, unless an
// `apply --confirm` waits for its confirmation.
void Engine::keep_last_good(const pipeline::Compiled& target, Outcome& out) {
    auto record = read_confirm(confirm_path(options_.state.state_dir));
    if (!record || (*record && (*record)->state == ConfirmState::pending)) return;
    if (last_good_hash_ == holding_.hash) return;
    if (auto w = write_last_good(last_good_path(options_.state.state_dir), saved_of(target)); !w) {
        out.warnings.push_back("last good ruleset not saved: " + w.error().message);
    } else {
        last_good_hash_ = holding_.hash;
    }
}

// The state files a commit left unwritten (see finish()); the caller holds
// the apply lock.
void Engine::save_state(Outcome& out) {
    if (std::exchange(record_unsynced_, false)) {
        if (auto s = sync_file(options_.state.record_path()); !s) out.warnings.push_back(s.error().message);
    }
    if (std::exchange(elements_unsaved_, false))
        pipeline::save_elements(options_.state, known_, out.warnings);
    if (auto target = std::move(last_good_pending_)) keep_last_good(*target, out);
}

std::vector<std::string> Engine::finish() {
    if (!finish_lock_) return {};
    Outcome out;
    save_state(out);
    finish_lock_.reset();
    return std::move(out.warnings);
}

// A converge's apply lock: the one that writes left pending hold (this
// converge supersedes what they would write, and leaves its own), or a new
// one.
Result<kernel::ApplyLock> Engine::take_lock() {
    if (finish_lock_) return *std::exchange(finish_lock_, std::nullopt);
    return kernel::ApplyLock::acquire(options_.state.lock, options_.state.lock_timeout);
}

Outcome Engine::converge(bool recompile, bool force, const std::vector<ir::SshClient>& ssh) {
    Outcome out;
    auto lock = take_lock();
    if (!lock) {
        set_failure(out, pipeline::failure_of(lock.error()), {});
        return out;
    }
    converge_locked(recompile, force, ssh, out);
    if (elements_unsaved_ || record_unsynced_ || last_good_pending_) finish_lock_.emplace(std::move(*lock));
    return out;
}

void Engine::converge_locked(bool recompile, bool force, const std::vector<ir::SshClient>& ssh, Outcome& out) {
    auto target = compile_if_needed(recompile, out);
    if (target && target != holding_.compiled) {
        if (auto refused = refuse(*target, force, ssh)) {
            set_failure(out, *refused, {});
            target = nullptr;
        }
    }
    const bool compiled = target != nullptr;
    if (!target) target = holding_.compiled;  // keep (and restore) what is held
    if (!target) return;
    // A rollback stays what is held while nothing it was compiled from changed.
    const Held held = compiled && target != holding_.compiled ? Held::policy : holding_.held;
    Outcome commit_out;
    if (!commit(target, held, options_.policy.policy, compiled ? out : commit_out)) return;
    if (!compiled) {
        out.committed = commit_out.committed;
        out.changes = std::move(commit_out.changes);
        return;
    }
    out.ok = true;
    last_good_pending_ = target;
}

Outcome Engine::confirm(std::int64_t now, std::string& message) {
    Outcome out;
    out.warnings = finish();
    auto lock = kernel::ApplyLock::acquire(options_.state.lock, options_.state.lock_timeout);
    if (!lock) {
        set_failure(out, pipeline::failure_of(lock.error()), {});
        return out;
    }
    auto pending = pending_record(options_.state.state_dir);
    if (pending && now >= pending->deadline) {
        out = rollback_locked("confirmed too late", true, now, message);
        set_failure(
            out,
            {pipeline::FailureKind::refused,
             "too late: the deadline was " + format_time(pending->deadline) + "; " + message},
            {});
        return out;
    }
    auto done = confirm_pending(options_.state.state_dir, now);
    if (!done) {
        set_failure(out, pipeline::failure_of(done.error()), {});
        return out;
    }
    last_good_hash_ = done->applied;
    message = fmt::format("confirmed: ruleset {} is now the last confirmed ruleset", done->applied);
    out.ok = true;
    return out;
}

Outcome Engine::rollback(const std::string& reason, bool if_pending, std::int64_t now,
                         std::string& message) {
    Outcome out;
    out.warnings = finish();
    auto lock = kernel::ApplyLock::acquire(options_.state.lock, options_.state.lock_timeout);
    if (!lock) {
        set_failure(out, pipeline::failure_of(lock.error()), {});
        return out;
    }
    return rollback_locked(reason, if_pending, now, message);
}

Outcome Engine::rollback_locked(const std::string& reason, bool if_pending, std::int64_t now,
                                std::string& message) {
    Outcome out;
    const std::string& dir = options_.state.state_dir;
    auto record = read_confirm(confirm_path(dir));
    if (!record) {
        set_failure(out, pipeline::failure_of(record.error()), {});
        return out;
    }
    const bool pending = *record && (*record)->state == ConfirmState::pending;
    if (if_pending && (!pending || now < (*record)->deadline)) {
        message = "nothing to roll back: no confirmation is due";
        out.ok = true;
        return out;
    }
    auto target = restore_point(dir, pending ? *record : std::optional<ConfirmRecord>());
    if (!target) {
        set_failure(out, pipeline::failure_of(target.error()), {});
        return out;
    }
    if (!commit(*target, Held::rolled_back, options_.policy.policy, out)) return out;
    save_state(out);
    if (pending) {
        if (auto m = mark_rolled_back(dir, **record, reason, now); !m)
            out.warnings.push_back(m.error().message);
    }
    message = fmt::format(
        "rolled back to the last confirmed ruleset {}: {} in one transaction", holding_.hash,
        out.committed ? fmt::format("{} changes", out.changes.size()) : "nothing to change");
    out.ok = true;
    return out;
}

// After a start whose policy gave no ruleset: the best ruleset there is.
void Engine::fall_back(Outcome& out) {
    auto saved = read_last_good(last_good_path(options_.state.state_dir));
    if (!saved) out.warnings.push_back("last good ruleset unusable: " + saved.error().message);
    Outcome fb;
    if (saved && *saved &&
        commit(compiled_of(std::move(**saved)), Held::last_good, options_.policy.policy, fb)) {
        return;
    }
    if (!fb.error.empty()) out.warnings.push_back("last good ruleset not loaded: " + fb.error);
    const std::string table = options_.policy.table.empty() ? "nftpolicy" : options_.policy.table;
    if (kernel_has_table(table)) {
        holding_.held = Held::kept;
        ++holding_.generation;
        return;
    }
    Fallback builtin = builtin_ruleset(options_.policy);
    Outcome bo;
    if (commit(builtin.compiled, Held::builtin, options_.policy.policy, bo)) {
        holding_.note = builtin.access;
        return;
    }
    out.warnings.push_back("built-in ruleset not loaded: " + bo.error);
}

Outcome Engine::start() {
    Outcome out = converge(true);
    if (out.ok || holding_.held != Held::nothing) return out;
    if (out.failure && out.failure->kind == pipeline::FailureKind::busy) return out;
    for (auto& w : finish()) out.warnings.push_back(std::move(w));
    auto lock = kernel::ApplyLock::acquire(options_.state.lock, options_.state.lock_timeout);
    if (!lock) return out;
    fall_back(out);
    save_state(out);
    return out;
}

}  // namespace nftpolicy::service
