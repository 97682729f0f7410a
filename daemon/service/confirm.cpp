// Confirm, roll back, and the lockout guard on the state directory; see confirm.h.
#include "service/confirm.h"

#include <time.h>

#include <cstdio>
#include <filesystem>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "kernel/apply_lock.h"
#include "kernel/apply_record.h"
#include "kernel/element_cache.h"
#include "service/fallback.h"
#include "state/site_state.h"

namespace nftpolicy::service {

namespace {

Result<std::optional<SavedRuleset>> read_saved(const std::string& path) {
    return read_last_good(path);
}

bool pending(const std::optional<ConfirmRecord>& r) {
    return r && r->state == ConfirmState::pending;
}

std::string rolled_back_text(const ConfirmRecord& r) {
    return fmt::format("the apply of {} was rolled back at {} ({})", format_time(r.armed),
                       format_time(r.rolled_back_at), r.reason);
}

}  // namespace

std::int64_t wall_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec);
}

std::string format_time(std::int64_t t) {
    return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(static_cast<std::time_t>(t)));
}

// ---- the lockout guard ---------------------------------------------------------

Result<std::optional<ir::Table>> current_ruleset(const std::string& state_dir) {
    auto record = read_confirm(confirm_path(state_dir));
    if (!record) return tl::unexpected(record.error());
    const std::string path =
        pending(*record) ? unconfirmed_path(state_dir) : last_good_path(state_dir);
    auto saved = read_saved(path);
    if (!saved) return tl::unexpected(saved.error());
    if (!*saved) return std::optional<ir::Table>();
    return std::optional(std::move((*saved)->table));
}

std::optional<std::string> lockout_refusal(const std::optional<ir::Table>& before,
                                           const ir::Table& after,
                                           const std::optional<ir::SshClient>& ssh) {
    auto cuts = ir::lockout(before, after, ssh);
    if (cuts.empty()) return std::nullopt;
    std::string out = "refusing to commit a ruleset that cuts management access:";
    for (const ir::Cut& c : cuts) out += "\n  " + ir::describe(c);
    return out;
}

namespace {

std::optional<pipeline::Failure> pending_refusal(const std::string& state_dir) {
    auto r = read_confirm(confirm_path(state_dir));
    if (r && !pending(*r)) return std::nullopt;
    if (!r) return pipeline::Failure{pipeline::FailureKind::system, r.error().message};
    return pipeline::Failure{
        pipeline::FailureKind::refused,
        fmt::format("a confirmation is pending (deadline {}): `nftpolicy confirm` or "
                    "`nftpolicy rollback` first; nothing was changed (--force commits, and "
                    "what it commits is confirmed)",
                    format_time((*r)->deadline))};
}

}  // namespace

std::optional<pipeline::Failure> cli_guard(const std::string& state_dir, const ir::Table& after,
                                           const std::string& ssh_connection, bool pending_ok) {
    if (!pending_ok) {
        if (auto refused = pending_refusal(state_dir)) return refused;
    }
    auto before = current_ruleset(state_dir);
    if (!before) {
        return pipeline::Failure{pipeline::FailureKind::system,
                                 "cannot check management access: " + before.error().message};
    }
    auto refusal = lockout_refusal(*before, after, ir::parse_ssh_connection(ssh_connection));
    if (!refusal) return std::nullopt;
    return pipeline::Failure{pipeline::FailureKind::refused,
                             *refusal + "\nnothing was changed (--force commits it anyway)"};
}

// ---- the migration state before `apply --confirm` ----------------------------------

namespace {

// `apply --confirm --phase P` records P in the state directory: a rollback
// puts the state back as it was, with the ruleset.
std::string state_before_path(const std::string& state_dir) {
    return state::state_path(state_dir) + ".before-confirm";
}

// No copy means there was no state file.
Result<void> save_state_before(const std::string& state_dir) {
    namespace fs = std::filesystem;
    const std::string copy = state_before_path(state_dir);
    std::error_code ec;
    fs::remove(copy, ec);
    if (!fs::exists(state::state_path(state_dir), ec)) return {};
    fs::copy_file(state::state_path(state_dir), copy, ec);
    if (ec) return fail(ErrorKind::io, "cannot keep the migration state in " + copy + ": " + ec.message());
    return {};
}

void restore_state_before(const std::string& state_dir) {
    const std::string state = state::state_path(state_dir);
    if (std::rename(state_before_path(state_dir).c_str(), state.c_str()) != 0) std::remove(state.c_str());
}

}  // namespace

// ---- confirmed and unconfirmed rulesets ------------------------------------------

Result<ConfirmRecord> arm_pending(const std::string& state_dir, const pipeline::Compiled& c,
                                  const ArmRequest& req) {
    auto old = read_confirm(confirm_path(state_dir));
    if (!old) return tl::unexpected(old.error());
    if (pending(*old) && !req.replace) {
        return fail(
            ErrorKind::refused,
            fmt::format("a confirmation is already pending (deadline {}); `nftpolicy confirm` or "
                        "`nftpolicy rollback` first, or --force to replace it (the rollback then "
                        "still restores the ruleset confirmed before {})",
                        format_time((*old)->deadline), format_time((*old)->armed)));
    }
    auto restore = last_good_hash(last_good_path(state_dir));
    if (!restore) {
        return fail(ErrorKind::refused, "no confirmed ruleset to roll back to in " + state_dir +
                                            " (apply once without --confirm, or start nftpolicyd)");
    }
    SavedRuleset saved = saved_of(c);
    ConfirmRecord r{ConfirmState::pending,
                    req.now,
                    req.now + req.seconds,
                    saved.hash,
                    *restore,
                    c.table.name,
                    req.policy,
                    req.enforcer,
                    req.enforcer_id,
                    0,
                    ""};
    if (auto w = write_last_good(unconfirmed_path(state_dir), saved); !w)
        return tl::unexpected(w.error());
    if (!pending(*old)) {  // a replaced confirmation keeps the original state too
        if (auto s = save_state_before(state_dir); !s) return tl::unexpected(s.error());
    }
    if (auto w = write_confirm(confirm_path(state_dir), r); !w) return tl::unexpected(w.error());
    return r;
}

void disarm(const std::string& state_dir) {
    std::remove(confirm_path(state_dir).c_str());
    std::remove(unconfirmed_path(state_dir).c_str());
    std::remove(state_before_path(state_dir).c_str());
}

Result<void> keep_confirmed(const std::string& state_dir, const SavedRuleset& saved) {
    const std::string path = last_good_path(state_dir);
    if (last_good_hash(path) != saved.hash) {
        if (auto w = write_last_good(path, saved); !w) return w;
    }
    disarm(state_dir);
    return {};
}

Result<ConfirmRecord> pending_record(const std::string& state_dir) {
    auto r = read_confirm(confirm_path(state_dir));
    if (!r) return tl::unexpected(r.error());
    if (!*r) return fail(ErrorKind::refused, "no confirmation is pending; nothing was changed");
    if ((*r)->state == ConfirmState::rolled_back) {
        return fail(ErrorKind::refused,
                    rolled_back_text(**r) + "; nothing to confirm, nothing was changed");
    }
    return **r;
}

Result<ConfirmRecord> confirm_pending(const std::string& state_dir, std::int64_t now) {
    auto r = pending_record(state_dir);
    if (!r) return r;
    if (now >= r->deadline) {
        return fail(ErrorKind::conflict,
                    fmt::format("too late: the deadline was {}", format_time(r->deadline)));
    }
    auto saved = read_saved(unconfirmed_path(state_dir));
    if (!saved) return tl::unexpected(saved.error());
    if (!*saved || (*saved)->hash != r->applied) {
        return fail(ErrorKind::invalid, unconfirmed_path(state_dir) +
                                            " is missing or does not hold the ruleset "
                                            "applied with --confirm; nothing was changed");
    }
    if (auto k = keep_confirmed(state_dir, **saved); !k) return tl::unexpected(k.error());
    return r;
}

Result<std::shared_ptr<const pipeline::Compiled>> restore_point(
    const std::string& state_dir, const std::optional<ConfirmRecord>& record) {
    const std::string path = last_good_path(state_dir);
    auto saved = read_saved(path);
    if (!saved) return tl::unexpected(saved.error());
    if (!*saved)
        return fail(ErrorKind::invalid,
                    "no confirmed ruleset to restore (" + path + " is missing)");
    if (record && (*saved)->hash != record->restore) {
        return fail(ErrorKind::invalid,
                    fmt::format("{} holds ruleset {}, not the confirmed ruleset {} the "
                                "confirmation would restore; nothing was changed",
                                path, (*saved)->hash, record->restore));
    }
    return compiled_of(std::move(**saved));
}

Result<void> mark_rolled_back(const std::string& state_dir, ConfirmRecord record,
                              const std::string& reason, std::int64_t now) {
    record.state = ConfirmState::rolled_back;
    record.rolled_back_at = now;
    record.reason = reason;
    std::remove(unconfirmed_path(state_dir).c_str());
    restore_state_before(state_dir);
    return write_confirm(confirm_path(state_dir), record);
}

// ---- rollback without the daemon ---------------------------------------------------

namespace {

bool due(const std::optional<ConfirmRecord>& r, std::int64_t now) {
    return pending(r) && now >= r->deadline;
}

Result<RolledBack> commit_restore(const RollbackRequest& req,
                                  const std::optional<ConfirmRecord>& record) {
    auto target = restore_point(req.state.state_dir, record);
    if (!target) return tl::unexpected(target.error());
    auto k = kernel::NetlinkKernel::open();
    if (!k) return tl::unexpected(k.error());
    auto applied = pipeline::commit(**k, "(nftpolicy: last confirmed ruleset)", **target, req.state,
                                    false, kernel::read_known(req.state.elements_path()));
    if (!applied) return tl::unexpected(applied.error());
    RolledBack out{true, std::move(applied->report), record, saved_of(**target).hash};
    if (pending(record)) {
        if (auto m = mark_rolled_back(req.state.state_dir, *record, req.reason, req.now); !m)
            return tl::unexpected(m.error());
    }
    return out;
}

}  // namespace

Result<RolledBack> rollback(const RollbackRequest& req) {
    auto lock = kernel::ApplyLock::acquire(req.state.lock, req.state.lock_timeout);
    if (!lock) return tl::unexpected(lock.error());
    auto record = read_confirm(confirm_path(req.state.state_dir));
    // A damaged record does not stand between the admin and the last
    // confirmed ruleset; only the deadline's own run needs to read it.
    if (!record && req.if_pending) return tl::unexpected(record.error());
    if (!record) record = std::optional<ConfirmRecord>();
    if (req.if_pending && !due(*record, req.now)) return RolledBack{};
    return commit_restore(req, pending(*record) ? *record : std::optional<ConfirmRecord>());
}

}  // namespace nftpolicy::service
