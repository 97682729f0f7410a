// Reading and judging the evidence; see evidence.h.
#include "migration/evidence.h"

#include <algorithm>

#include <fmt/format.h>

#include "ir/lower.h"
#include "support/text.h"

namespace nftpolicy::migration {

namespace {

constexpr net::Family kFamilies[] = {net::Family::ipv4, net::Family::ipv6};

std::vector<FlowCounter> counters_of(const GateFacts& gate, const std::optional<emit::ObservedTable>& table) {
    std::vector<FlowCounter> out;
    for (const auto& id : gate.flow_ids()) {
        FlowCounter c{id, false, 0, 0};
        const std::string name = ir::flow_counter_name(id);
        if (table) {
            for (const auto& oc : table->counters) {
                if (oc.name == name) c = FlowCounter{id, true, oc.packets, oc.bytes};
            }
        }
        out.push_back(std::move(c));
    }
    return out;
}

Result<void> read_sets(kernel::NetlinkKernel& k, const std::string& table, std::int64_t now, GateEvidence& ev) {
    for (net::Family f : kFamilies) {
        auto set = k.read_seen_set(table, ir::seen_set_name(ev.gate->ref, f));
        if (!set) return tl::unexpected(set.error());
        if (!set->present) continue;
        ev.sets.push_back(set->name);
        if (set->full()) ev.full_sets.push_back(set->name);
        for (const auto& e : set->elements) {
            const std::uint64_t idle = e.idle_ms() / 1000;
            ev.users.push_back(Sighting{e.family, net::format_address(e.family, e.addr),
                                        now - static_cast<std::int64_t>(idle), idle});
        }
    }
    std::stable_sort(ev.users.begin(), ev.users.end(),
                     [](const Sighting& a, const Sighting& b) { return a.idle < b.idle; });
    ev.recent = static_cast<std::size_t>(
        std::count_if(ev.users.begin(), ev.users.end(), [&](const Sighting& s) { return s.idle < ev.quiet_for; }));
    return {};
}

// The verdict for a gate whose state allows a flip, from what was read.
void judge_evidence(GateEvidence& ev) {
    const std::string window = format_duration(ev.quiet_for);
    if (ev.gate->retired.empty()) {
        ev.verdict = Verdict::no_flows;
        ev.reason = "it retires no flow on this host";
    } else if (ev.sets.empty()) {
        ev.verdict = Verdict::not_recording;
        ev.reason = "its seen sets are not in the kernel (is the policy applied?)";
    } else if (ev.recent > 0) {
        ev.verdict = Verdict::recent_users;
        ev.reason = fmt::format("{} address{} used it within {}", ev.recent, ev.recent == 1 ? "" : "es", window);
    } else if (!ev.full_sets.empty()) {
        ev.verdict = Verdict::incomplete;
        ev.reason = "a seen set is full: evidence incomplete";
    } else {
        ev.verdict = Verdict::safe;
        ev.reason = fmt::format("no use in the last {}", window);
    }
}

void judge(GateEvidence& ev) {
    if (ev.gate->flipped) {
        ev.verdict = Verdict::flipped;
        ev.reason = "its flows are gone";
    } else if (ev.gate->final_phase && ev.migration->phase == policy::Phase::legacy) {
        ev.verdict = Verdict::wrong_phase;
        ev.reason = "phase legacy: the migration moves to final from phase coexist";
    } else if (ev.migration->phase != policy::Phase::coexist) {
        ev.verdict = Verdict::wrong_phase;
        ev.reason = ev.migration->phase == policy::Phase::legacy ? "phase legacy: gates flip in phase coexist"
                                                                  : "phase final: every legacy flow is gone";
    } else {
        judge_evidence(ev);
    }
}

}  // namespace

const char* verdict_name(Verdict v) {
    switch (v) {
        case Verdict::safe: return "safe";
        case Verdict::recent_users: return "recent-users";
        case Verdict::incomplete: return "incomplete";
        case Verdict::not_recording: return "not-recording";
        case Verdict::no_flows: return "no-flows";
        case Verdict::flipped: return "flipped";
        case Verdict::wrong_phase: return "wrong-phase";
    }
    return "safe";
}

Result<SiteEvidence> read_evidence(kernel::NetlinkKernel& k, const SiteFacts& facts, std::int64_t now,
                                   std::optional<std::uint32_t> quiet_for) {
    auto view = k.read(facts.table, kernel::ReadOptions{nullptr, false});  // counters, no elements
    if (!view) return tl::unexpected(view.error());
    SiteEvidence out{now, view->genid, view->table.has_value(), {}};
    for (const auto& m : facts.migrations) {
        for (const auto& g : m.gates) {
            GateEvidence ev;
            ev.gate = &g;
            ev.migration = &m;
            ev.quiet_for = quiet_for.value_or(m.quiet_for);
            ev.flows = counters_of(g, view->table);
            if (auto r = read_sets(k, facts.table, now, ev); !r) return tl::unexpected(r.error());
            judge(ev);
            out.gates.push_back(std::move(ev));
        }
    }
    return out;
}

}  // namespace nftpolicy::migration
