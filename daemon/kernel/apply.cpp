// The apply loop; see apply.h.
#include "kernel/apply.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstring>
#include <memory>

#include "emit/netlink_diff.h"
#include "emit/provenance.h"
#include "kernel/flowtable_probe.h"
#include "kernel/netlink_io.h"

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
    KnownElements known{desired.name, scope, genid, {}, nullptr};
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

// Whether `batch` changes nothing but elements of the sets in `known`.
bool only_elements_of(const emit::Batch& batch, const KnownElements& known) {
    for (const emit::BatchMessage& m : batch.messages()) {
        const int type = m.header->nlmsg_type & 0xff;
        if (type != NFT_MSG_NEWSETELEM && type != NFT_MSG_DELSETELEM) return false;
        std::string set;
        detail::for_each_attr(m.header, sizeof(nfgenmsg), [&set](const nlattr* a) {
            if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET) set = mnl_attr_get_str(a);
        });
        if (!known.sets.contains(set)) return false;
    }
    return true;
}

// Whether the kernel is still at the generation `known` kept the rest of
// the table for (no commit since ours, in this very kernel).
Result<bool> kept_is_current(RulesetKernel& kernel, const std::string& table, const KnownElements* known) {
    if (known == nullptr || !known->rest || known->table != table) return false;
    if (known->scope.empty() || known->scope != kernel.scope()) return false;
    auto genid = kernel.generation();
    if (!genid) return tl::unexpected(genid.error());
    return *genid == known->genid;
}

// The table as `known` kept it: a copy of the rest, with the known sets'
// contents (shared chunks, not copied).
KernelView kept_view(const KnownElements& known) {
    KernelView v{known.genid, known.scope, *known.rest};
    for (emit::ObservedSet& s : v.table->sets) {
        auto it = known.sets.find(s.def.name);
        if (it != known.sets.end()) s.known = it->second;
    }
    return v;
}

// The kernel's table and the plan against it.
struct Planned {
    KernelView view;
    emit::Plan plan;
};

// From what our last commit kept when the kernel is still where it left it
// and the plan changes only elements of the known sets (anything else,
// counters recreated with their values among it, is planned against a
// fresh read), else from a read.
Result<Planned> plan_against_kernel(RulesetKernel& kernel, const emit::DesiredTable& desired, KnownElements* known) {
    auto current = kept_is_current(kernel, desired.name, known);
    if (!current) return tl::unexpected(current.error());
    if (*current) {
        KernelView view = kept_view(*known);
        emit::Plan plan = emit::plan_commit(desired, &*view.table, view.genid);
        if (only_elements_of(plan.batch, *known)) return Planned{std::move(view), std::move(plan)};
    }
    auto view = kernel.read(desired.name, ReadOptions{known});
    if (!view) return tl::unexpected(view.error());
    const emit::ObservedTable* observed = view->table ? &*view->table : nullptr;
    emit::Plan plan = emit::plan_commit(desired, observed, view->genid);
    return Planned{std::move(*view), std::move(plan)};
}

// Commits the plan. Returns the generation the kernel now holds `desired`
// at (0 when unknown), or nullopt after a generation conflict.
Result<std::optional<std::uint32_t>> commit_planned(RulesetKernel& kernel, const Planned& p, bool dry_run,
                                                    ApplyReport& report) {
    report.changes = p.plan.changes;
    report.messages = p.plan.batch.size();
    report.genid = p.view.genid;
    report.scope = p.view.scope;
    if (dry_run) return std::optional<std::uint32_t>(0);
    if (p.plan.empty()) return std::optional<std::uint32_t>(p.view.genid);
    auto outcome = kernel.commit(p.plan.batch);
    if (!outcome) return tl::unexpected(outcome.error());
    switch (outcome->status) {
        case CommitOutcome::Status::committed:
            report.committed = true;
            // Only our commit happened since the read: the kernel holds exactly `desired`.
            return std::optional<std::uint32_t>(outcome->genid_after == p.view.genid + 1 ? outcome->genid_after : 0);
        case CommitOutcome::Status::conflict: return std::optional<std::uint32_t>{};
        case CommitOutcome::Status::rejected: return fail(ErrorKind::kernel, describe_rejections(p.plan.batch, *outcome));
    }
    return std::optional<std::uint32_t>{};
}

// What the next apply may plan against instead of reading
// (KnownElements::rest): the table as read, without the contents of the
// sets `after` knows, when the commit changed nothing but their elements.
void keep_rest(KnownElements& after, Planned& p) {
    if (!p.view.table || !only_elements_of(p.plan.batch, after)) return;
    emit::ObservedTable rest = std::move(*p.view.table);
    rest.genid = after.genid;
    for (emit::ObservedSet& s : rest.sets) {
        if (!after.sets.contains(s.def.name)) continue;
        s.known.reset();
        s.elements.clear();
    }
    after.rest = std::make_shared<const emit::ObservedTable>(std::move(rest));
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
        auto planned = plan_against_kernel(kernel, *desired, attempt == 1 ? options.known : nullptr);
        if (!planned) return tl::unexpected(planned.error());
        auto held_at = commit_planned(kernel, *planned, options.dry_run, report);
        if (!held_at) return tl::unexpected(held_at.error());
        if (!*held_at) continue;  // someone else committed in between: read again, recompute
        if (**held_at != 0 && !report.scope.empty()) {
            report.known_after = known_elements(*desired, report.scope, **held_at, options.known_threshold);
            keep_rest(*report.known_after, *planned);
        }
        if (!report.committed) report.attempts = 0;
        return report;
    }
    return fail(ErrorKind::conflict, "the ruleset changed during each of " + std::to_string(options.max_attempts) +
                                         " attempts to apply; another process keeps modifying nftables");
}

}  // namespace nftpolicy::kernel
