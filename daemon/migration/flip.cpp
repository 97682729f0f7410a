// complete / reopen; see flip.h for the order of the steps and why.
#include "migration/flip.h"

#include <algorithm>

#include <fmt/format.h>

#include "ir/lower.h"
#include "kernel/apply.h"
#include "resolve/phases.h"
#include "resolve/suggest.h"
#include "state/precedence.h"
#include "support/text.h"

namespace nftpolicy::migration {

namespace {

std::vector<std::string> all_gates(const SiteFacts& facts) {
    std::vector<std::string> out;
    for (const auto& m : facts.migrations) {
        for (const auto& g : m.gates) {
            if (!g.final_phase) out.push_back(g.ref);
        }
    }
    return out;
}

Error unknown_gate(const SiteFacts& facts, const std::string& ref) {
    const auto gates = all_gates(facts);
    std::string text = fmt::format("unknown gate '{}'", ref);
    if (ref.find('.') == std::string::npos) text += "; expected MIGRATION.GATE";
    if (auto best = closest_match(ref, gates); !best.empty()) text += fmt::format("; did you mean '{}'?", best);
    text += gates.empty() ? " (the policy declares no gates)" : fmt::format(" (gates: {})", fmt::join(gates, ", "));
    return Error{ErrorKind::invalid, text};
}

// Why the request cannot apply to this gate, or empty.
std::string refusal(const FlipRequest& req, const GateFacts& g, const MigrationFacts& m) {
    if (!req.complete) {
        return g.flipped ? "" : fmt::format("gate '{}' is not flipped: nothing to reopen", g.ref);
    }
    if (g.flipped) {
        return fmt::format("gate '{}' is already flipped ({}); `nftpolicy migration reopen {}` undoes it", g.ref,
                           source_name(g.flipped_from), g.ref);
    }
    if (m.phase != policy::Phase::coexist) {
        return fmt::format("migration '{}' is in phase {} ({}); gates flip in phase coexist "
                           "(`nftpolicy migration set-phase {} coexist`)",
                           m.name, resolve::phase_name(m.phase), source_name(m.phase_from), m.name);
    }
    return {};
}

std::string address_list(const GateEvidence& ev) {
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < ev.recent; ++i) {
        parts.push_back(fmt::format("{} ({} ago)", ev.users[i].address, format_duration(ev.users[i].idle)));
    }
    return fmt::format("{}", fmt::join(parts, ", "));
}

// What stands against completing, one line each (empty: nothing).
std::vector<std::string> objections(const GateEvidence& ev) {
    std::vector<std::string> out;
    if (ev.recent > 0) {
        out.push_back(fmt::format("{} address{} used flows retired by {} within {}: {}", ev.recent,
                                  ev.recent == 1 ? "" : "es", ev.gate->ref, format_duration(ev.quiet_for),
                                  address_list(ev)));
    }
    for (const auto& s : ev.full_sets) out.push_back(fmt::format("seen set {} is full: evidence incomplete", s));
    return out;
}

std::optional<std::string> window_warning(const GateEvidence& ev) {
    if (ev.quiet_for <= ev.migration->seen.timeout) return std::nullopt;
    return fmt::format("the seen sets keep an address for {} (seen_timeout), less than the window {}: use "
                       "between {} and {} ago is not visible",
                       format_duration(ev.migration->seen.timeout), format_duration(ev.quiet_for),
                       format_duration(ev.migration->seen.timeout), format_duration(ev.quiet_for));
}

// Reads the evidence of the gate; refuses (returns false) unless forced.
Result<bool> weigh_evidence(kernel::NetlinkKernel& k, const SiteFacts& facts, const FlipRequest& req,
                            FlipOutcome& out) {
    auto site = read_evidence(k, facts, req.now, req.quiet_for);
    if (!site) return tl::unexpected(site.error());
    for (auto& ev : site->gates) {
        if (ev.gate->ref == req.gate) out.evidence = std::move(ev);
    }
    if (auto w = window_warning(*out.evidence)) out.warnings.push_back(*w);
    auto against = objections(*out.evidence);
    if (against.empty()) return true;
    out.overridden = std::move(against);
    if (req.force) return true;
    out.status = FlipOutcome::Status::refused;
    return false;
}

struct Compiled {
    resolve::Projection projection;
    ir::Table table;
};

Applied applied(const Compiled& c, kernel::ApplyReport& report) {
    return Applied{c.table, c.projection.host, c.projection.phases, c.projection.flipped_gates,
                   std::move(report.known_after), std::move(report.notes)};
}

Result<Compiled> compile(const policy::Policy& policy, const resolve::ResolveOptions& options, Diagnostics& diags) {
    auto projection = resolve::resolve_policy(policy, options, diags);
    if (!projection) return fail(ErrorKind::invalid, "the policy does not compile");
    ir::Table table = ir::lower(*projection);
    return Compiled{std::move(*projection), std::move(table)};
}

}  // namespace

kernel::ConnSelector retired_connections(const GateFacts& gate, const resolve::Projection& after) {
    auto accepts = [](const resolve::ProjectedFlow& f, const kernel::ConnTuple& t) {
        const auto& ranges = t.proto == ir::kProtoTcp ? f.tcp : t.proto == ir::kProtoUdp ? f.udp : decltype(f.tcp){};
        const bool port = std::any_of(ranges.begin(), ranges.end(),
                                      [&](const auto& r) { return r.lo <= t.dport && t.dport <= r.hi; });
        const bool family = t.family == net::Family::ipv4 ? f.ipv4 : f.ipv6;
        const bool src = !f.src.match || f.src.addrs.contains(t.family, t.src);
        const bool dst = !f.dst.match || f.dst.addrs.contains(t.family, t.dst);
        return port && family && src && dst;
    };
    return [accepts, retired = gate.retired, remaining = after.flows](const kernel::ConnTuple& t) {
        auto by = [&](const resolve::ProjectedFlow& f) { return accepts(f, t); };
        return std::any_of(retired.begin(), retired.end(), by) && std::none_of(remaining.begin(), remaining.end(), by);
    };
}

namespace {

// Commits `table` and records `next` in the state file: the state is
// written before the commit and put in place after it, so an unwritable
// state directory fails with the kernel untouched.
Result<kernel::ApplyReport> apply_with_state(kernel::NetlinkKernel& k, const ir::Table& table,
                                             const kernel::ApplyOptions& options, const std::string& path,
                                             const state::SiteState& next, const CommitGuard& guard) {
    if (guard) {
        if (auto why = guard(table)) return fail(ErrorKind::refused, *why);
    }
    auto pending = state::prepare_state(path, next);
    if (!pending) return tl::unexpected(pending.error());
    auto report = kernel::apply(k, table, options);
    if (!report) return tl::unexpected(report.error());
    if (auto r = pending->commit(); !r) {
        return fail(r.error().kind, r.error().message + " (the kernel already holds the change; run the command "
                                                        "again once the state directory is writable)");
    }
    return report;
}

// Steps 3-6 of flip.h, with the before and after rulesets compiled.
Result<void> commit_flip(kernel::NetlinkKernel& k, const FlipRequest& req, const state::SiteState& next,
                         const Compiled& before, const Compiled& after, const GateFacts& gate, FlipOutcome& out) {
    // Each apply consumes the known elements it uses: each gets its own copy
    // (the intervals themselves are shared, not copied).
    std::optional<kernel::KnownElements> known[2] = {req.known, req.known};
    kernel::ApplyOptions check;
    check.dry_run = true;
    check.known = known[0] ? &*known[0] : nullptr;
    auto current = kernel::apply(k, before.table, check);
    if (!current) return tl::unexpected(current.error());
    if (!current->changes.empty()) {
        out.status = FlipOutcome::Status::kernel_differs;
        out.differences = std::move(current->changes);
        return {};
    }
    const bool cut = req.complete && req.cut_established;
    kernel::ApplyOptions commit;
    commit.dry_run = req.dry_run;
    commit.known = known[1] ? &*known[1] : nullptr;
    if (req.dry_run) {
        auto plan = kernel::apply(k, after.table, commit);
        if (!plan) return tl::unexpected(plan.error());
        out.changes = std::move(plan->changes);
        if (cut) {
            auto who = kernel::cut_connections(retired_connections(gate, after.projection), true);
            if (!who) return tl::unexpected(who.error());
            out.cut = std::move(*who);
        }
        return {};
    }
    auto report = apply_with_state(k, after.table, commit, req.state_path, next, req.guard);
    if (!report) return tl::unexpected(report.error());
    out.changes = std::move(report->changes);
    out.committed = report->committed;
    out.applied = applied(after, *report);
    if (cut) {
        auto done = kernel::cut_connections(retired_connections(gate, after.projection), false);
        if (!done) return tl::unexpected(done.error());
        out.cut = std::move(*done);
    }
    return {};
}

}  // namespace

Result<FlipOutcome> flip_gate(kernel::NetlinkKernel& k, const policy::Policy& policy,
                              const resolve::ResolveOptions& cli, const FlipRequest& req, Diagnostics& diags) {
    auto st = state::read_state(req.state_path);
    if (!st) return tl::unexpected(st.error());
    auto facts = gather_facts(policy, cli, *st, diags);
    if (!facts) return fail(ErrorKind::invalid, "the policy does not compile");
    const GateFacts* gate = facts->find_gate(req.gate);
    if (gate == nullptr) return tl::unexpected(unknown_gate(*facts, req.gate));
    if (auto why = refusal(req, *gate, *facts->find_migration(gate->migration)); !why.empty()) {
        return fail(ErrorKind::invalid, why);
    }
    FlipOutcome out;
    if (req.complete) {
        auto go = weigh_evidence(k, *facts, req, out);
        if (!go) return tl::unexpected(go.error());
        if (!*go) return out;
    }
    state::SiteState next = *st;
    next.gates[gate->ref] = state::GateEntry{req.complete, req.now};
    Diagnostics again;  // the same policy: its diagnostics were reported by gather_facts
    auto before = compile(policy, effective_options(policy, cli, *st, out.warnings), again);
    std::vector<std::string> same;  // the same warnings again
    auto after = compile(policy, effective_options(policy, cli, next, same), again);
    if (!before || !after) return fail(ErrorKind::invalid, "the policy does not compile");
    if (auto r = commit_flip(k, req, next, *before, *after, *gate, out); !r) return tl::unexpected(r.error());
    return out;
}

Result<PhaseOutcome> set_phase(kernel::NetlinkKernel& k, const policy::Policy& policy,
                               const resolve::ResolveOptions& cli, const PhaseRequest& req, Diagnostics& diags) {
    auto st = state::read_state(req.state_path);
    if (!st) return tl::unexpected(st.error());
    if (!policy.migrations.contains(req.migration)) {
        const auto names = resolve::keys_of(policy.migrations);
        return fail(ErrorKind::invalid, fmt::format("unknown migration '{}'{}", req.migration,
                                                    resolve::did_you_mean(req.migration, names)));
    }
    state::SiteState next = *st;
    next.phases[req.migration] = state::PhaseEntry{req.phase, req.now};
    PhaseOutcome out;
    auto compiled = compile(policy, effective_options(policy, cli, next, out.warnings), diags);
    if (!compiled) return tl::unexpected(compiled.error());
    std::optional<kernel::KnownElements> known = req.known;
    kernel::ApplyOptions options;
    options.dry_run = req.dry_run;
    options.known = known ? &*known : nullptr;
    auto report = req.dry_run ? kernel::apply(k, compiled->table, options)
                              : apply_with_state(k, compiled->table, options, req.state_path, next, req.guard);
    if (!report) return tl::unexpected(report.error());
    out.changes = std::move(report->changes);
    out.committed = report->committed;
    if (!req.dry_run) out.applied = applied(*compiled, *report);
    return out;
}

}  // namespace nftpolicy::migration
