// The apply loop; see apply.h.
#include "kernel/apply.h"

#include <cstring>

#include "emit/netlink_diff.h"
#include "emit/provenance.h"
#include "kernel/flowtable_probe.h"

namespace nftpolicy::kernel {

namespace {

// The error under the policy text that produced what the kernel refused
// (an expression's statement, a set element's entry), with a note at the
// rule or set it belongs to when that is written elsewhere.
Diagnostic describe(const emit::Batch& batch, const Rejection& r) {
    std::string text = std::strerror(r.error);
    if (!r.message.empty()) text += " (" + r.message + ")";
    const emit::BatchMessage* m = batch.find(r.seq);
    if (m == nullptr) return Diagnostic{Severity::error, {}, "kernel rejected the batch: " + text, {}};
    const emit::Provenance at = emit::locate(*m, r.offset);
    Diagnostic d{Severity::error, at.span, "kernel rejected " + at.what + ": " + text, {}};
    const SourceSpan& whole = m->origin.span;
    if (whole.valid() && at.span.valid() && !(whole.file == at.span.file && whole.begin == at.span.begin)) {
        add_note(d, whole, "in " + m->origin.what + ", made from here");
    }
    return d;
}

// The elements of the large address sets of `desired`, which the kernel holds
// at generation `genid`.
KnownElements known_elements(const emit::DesiredTable& desired, const std::string& scope, std::uint32_t genid,
                             std::size_t threshold) {
    KnownElements known{desired.name, scope, genid, {}};
    for (const emit::DesiredSet& s : desired.sets) {
        if (s.addr == nullptr || s.addr->elements.size() <= threshold) continue;
        known.sets[s.def.name] = emit::IntervalContent{s.addr->family, s.addr->elements};  // shared, not copied
    }
    return known;
}

}  // namespace

std::vector<Diagnostic> describe_rejections(const emit::Batch& batch, const CommitOutcome& outcome) {
    std::vector<Diagnostic> out;
    for (const Rejection& r : outcome.rejections) out.push_back(describe(batch, r));
    return out;
}

namespace {

// One read-plan-commit round. Returns the generation the kernel now holds
// `desired` at (0 when unknown), or nullopt after a generation conflict.
Result<std::optional<std::uint32_t>> attempt_once(RulesetKernel& kernel, const emit::DesiredTable& desired,
                                                  KnownElements* known, bool dry_run, ApplyReport& report) {
    auto view = kernel.read(desired.name, ReadOptions{known});
    if (!view) return tl::unexpected(view.error());
    const emit::ObservedTable* observed = view->table ? &*view->table : nullptr;
    emit::Plan plan = emit::plan_commit(desired, observed, view->genid);
    report.changes = std::move(plan.changes);
    report.messages = plan.batch.size();
    report.genid = view->genid;
    report.scope = view->scope;
    if (dry_run) return std::optional<std::uint32_t>(0);
    if (plan.empty()) return std::optional<std::uint32_t>(view->genid);
    auto outcome = kernel.commit(plan.batch);
    if (!outcome) return tl::unexpected(outcome.error());
    switch (outcome->status) {
        case CommitOutcome::Status::committed:
            report.committed = true;
            // Only our commit happened since the read: the kernel holds exactly `desired`.
            return std::optional<std::uint32_t>(outcome->genid_after == view->genid + 1 ? outcome->genid_after : 0);
        case CommitOutcome::Status::conflict: return std::optional<std::uint32_t>{};
        case CommitOutcome::Status::rejected: return fail(ErrorKind::kernel, describe_rejections(plan.batch, *outcome));
    }
    return std::optional<std::uint32_t>{};
}

}  // namespace

Result<ApplyReport> apply(RulesetKernel& kernel, const ir::Table& table, const ApplyOptions& options) {
    auto decision = decide_flowtable(kernel, table);
    if (!decision) return tl::unexpected(decision.error());
    // The desired objects point into the table they were built from.
    const ir::Table& target = decision->without ? *decision->without : table;
    auto desired = emit::build_objects(target, options.objects);
    if (!desired) return tl::unexpected(desired.error());
    ApplyReport report;
    if (decision->note) report.notes.push_back(*decision->note);
    for (int attempt = 1; attempt <= options.max_attempts; ++attempt) {
        report.attempts = attempt;
        auto held_at = attempt_once(kernel, *desired, attempt == 1 ? options.known : nullptr, options.dry_run, report);
        if (!held_at) return tl::unexpected(held_at.error());
        if (!*held_at) continue;  // someone else committed in between: read again, recompute
        if (**held_at != 0 && !report.scope.empty()) {
            report.known_after = known_elements(*desired, report.scope, **held_at, options.known_threshold);
        }
        if (!report.committed) report.attempts = 0;
        return report;
    }
    return fail(ErrorKind::conflict, "the ruleset changed during each of " + std::to_string(options.max_attempts) +
                                         " attempts to apply; another process keeps modifying nftables");
}

}  // namespace nftpolicy::kernel
