// The drift tracker; see assess.h.
#include "drift/assess.h"

#include <fmt/format.h>

namespace nftpolicy::drift {

bool after(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) > 0; }

void Tracker::synced_at(std::uint32_t genid) {
    if (after(genid, cursor_)) cursor_ = genid;
}

namespace {

using kernel::Change;
using kernel::ChangeOp;
using kernel::ObjectKind;

// "table deleted (3 chains, 12 rules, 2 sets with it)": a deleted table's
// contents go with it in the same transaction; listing each would bury the
// one line that matters.
std::string table_deletion(const std::vector<const Change*>& ours) {
    std::size_t chains = 0, rules = 0, sets = 0;
    for (const Change* c : ours) {
        if (c->op != ChangeOp::removed) continue;
        chains += c->kind == ObjectKind::chain;
        rules += c->kind == ObjectKind::rule;
        sets += c->kind == ObjectKind::set;
    }
    return fmt::format("table deleted ({} chains, {} rules, {} sets with it)", chains, rules, sets);
}

bool deletes_table(const std::vector<const Change*>& ours) {
    for (const Change* c : ours) {
        if (c->kind == ObjectKind::table && c->op == ChangeOp::removed) return true;
    }
    return false;
}

std::vector<std::string> listed(const std::vector<const Change*>& ours, bool table_deleted) {
    std::vector<std::string> out;
    if (table_deleted) out.push_back(table_deletion(ours));
    std::size_t rest = 0;
    for (const Change* c : ours) {
        if (table_deleted && c->op == ChangeOp::removed) continue;  // counted above
        if (out.size() < kMaxListed) {
            out.push_back(kernel::describe(*c));
        } else {
            ++rest;
        }
    }
    if (rest > 0) out.push_back(fmt::format("... and {} more", rest));
    return out;
}

// Our KnownElements stay valid through a transaction that did not touch our
// sets, if they were valid right before it.
void carry(std::optional<kernel::KnownElements>& known, std::uint32_t before, std::uint32_t genid) {
    if (known && known->genid == before) known->genid = genid;
}

}  // namespace

Foreign Tracker::foreign_of(const kernel::MonitorBatch& batch) const {
    std::vector<const Change*> ours;
    for (const Change& c : batch.changes) {
        if (kernel::touches(c, watch_.family, watch_.table)) ours.push_back(&c);
    }
    Foreign f{batch.genid, batch.pid, batch.proc, {}, deletes_table(ours), {}};
    f.changes = listed(ours, f.table_deleted);
    for (const Change* c : ours) {
        if (c->kind == ObjectKind::set || c->kind == ObjectKind::element) f.sets.insert(c->name);
    }
    return f;
}

void Tracker::on_lost(Assessment& out, std::optional<kernel::KnownElements>& known) {
    out.lost = true;
    out.sets_untouched.clear();
    known.reset();  // our sets may have changed in what we missed
}

void Tracker::judge(const kernel::MonitorBatch& batch, Assessment& out, std::optional<kernel::KnownElements>& known) {
    if (!after(batch.genid, cursor_)) return;  // already reflected in a read or our own commit
    if (batch.genid != cursor_ + 1) on_lost(out, known);  // a generation went by unannounced
    const std::uint32_t before = cursor_;
    cursor_ = batch.genid;
    if (kernel::is_own(batch, watch_.us)) {
        ++out.own;  // the daemon replaces `known` with what its commit reports
        return;
    }
    if (!kernel::touches(batch, watch_.family, watch_.table)) {
        ++out.ignored;
        carry(known, before, batch.genid);
        if (!out.lost) out.sets_untouched.emplace_back(before, batch.genid);
        return;
    }
    Foreign f = foreign_of(batch);
    if (f.table_deleted) known.reset();
    if (known) {
        for (const std::string& s : f.sets) known->sets.erase(s);
        known->rest.reset();  // it describes our whole table, which this batch changed
    }
    carry(known, before, batch.genid);
    if (!out.lost && f.sets.empty() && !f.table_deleted) out.sets_untouched.emplace_back(before, batch.genid);
    out.foreign.push_back(std::move(f));
}

Assessment Tracker::assess(const kernel::MonitorRead& read, std::optional<std::uint32_t> now,
                           std::optional<kernel::KnownElements>& known) {
    Assessment out;
    const std::uint32_t start = cursor_;
    for (const kernel::MonitorBatch& b : read.batches) judge(b, out, known);
    // Lost events are harmless only when no generation beyond what we had
    // accounted for before this read exists: then they were our own, or
    // repeats of what we read. The batches of this read may be incomplete,
    // so they do not count.
    if (read.overrun && (!now || after(*now, start))) on_lost(out, known);
    const bool repair = watch_.mode == Mode::repair;
    if (out.lost) {
        out.action = repair ? Action::resync : Action::report;
    } else if (!out.foreign.empty()) {
        out.action = repair ? Action::repair : Action::report;
    }
    return out;
}

}  // namespace nftpolicy::drift
