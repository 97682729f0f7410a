// Text and JSON for the migration commands; see migration_render.h.
#include "cli/migration_render.h"

#include <ctime>
#include <iostream>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "cli/common.h"
#include "ir/ruleset.h"
#include "resolve/phases.h"
#include "support/text.h"

namespace nftpolicy::cli {

namespace {

using migration::GateEvidence;
using migration::Verdict;

std::string utc(std::int64_t t) { return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(static_cast<std::time_t>(t))); }
std::string iso(std::int64_t t) { return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(static_cast<std::time_t>(t))); }

const char* verdict_prefix(Verdict v) {
    switch (v) {
        case Verdict::safe:
        case Verdict::no_flows: return "safe to flip";
        case Verdict::recent_users:
        case Verdict::incomplete: return "NOT safe to flip";
        case Verdict::not_recording: return "cannot tell";
        case Verdict::flipped: return "flipped";
        case Verdict::wrong_phase: return "not now";
    }
    return "cannot tell";
}

nlohmann::json user_json(const migration::Sighting& s, std::uint32_t quiet_for) {
    return {{"address", s.address},
            {"family", s.family == net::Family::ipv4 ? "ipv4" : "ipv6"},
            {"last_seen", s.last_seen},
            {"last_seen_utc", iso(s.last_seen)},
            {"idle_seconds", s.idle},
            {"recent", s.idle < quiet_for}};
}

nlohmann::json gate_json(const GateEvidence& ev) {
    const auto& g = *ev.gate;
    nlohmann::json flows = nlohmann::json::array();
    for (const auto& f : ev.flows) {
        flows.push_back({{"id", f.id}, {"present", f.present}, {"packets", f.packets}, {"bytes", f.bytes}});
    }
    nlohmann::json users = nlohmann::json::array();
    for (const auto& u : ev.users) users.push_back(user_json(u, ev.quiet_for));
    return {{"gate", g.ref},           {"name", g.name}, {"kind", g.final_phase ? "final" : "gate"},
            {"flipped", g.flipped},    {"flipped_from", migration::source_name(g.flipped_from)},
            {"since", g.since},        {"verdict", migration::verdict_name(ev.verdict)},
            {"safe_to_flip", ev.safe_to_flip()}, {"reason", ev.reason},
            {"quiet_for", ev.quiet_for}, {"flows", flows},
            {"seen_sets", ev.sets},    {"full_sets", ev.full_sets},
            {"evidence_complete", ev.full_sets.empty()}, {"recent", ev.recent},
            {"users", users}};
}

std::string flow_line(const migration::FlowCounter& f) {
    if (!f.present) return fmt::format("    flow {}: not in the kernel\n", f.id);
    return fmt::format("    flow {}: {} packets, {} bytes\n", f.id, f.packets, f.bytes);
}

std::string users_text(const GateEvidence& ev, std::size_t limit) {
    std::size_t width = 0;
    const std::size_t shown = limit == 0 ? ev.users.size() : std::min(limit, ev.users.size());
    for (std::size_t i = 0; i < shown; ++i) width = std::max(width, ev.users[i].address.size());
    std::string out;
    for (std::size_t i = 0; i < shown; ++i) {
        const auto& u = ev.users[i];
        out += fmt::format("    {:<{}} last seen {} ({} ago)\n", u.address, width, utc(u.last_seen),
                           format_duration(u.idle));
    }
    if (shown < ev.users.size()) {
        out += fmt::format("    ... and {} more (--limit 0 or --json lists every address)\n", ev.users.size() - shown);
    }
    return out;
}

std::string gate_text(const GateEvidence& ev, std::size_t limit) {
    const auto& g = *ev.gate;
    // The phase final of a migration that retires flows itself reads like a gate.
    const std::string what = g.final_phase ? "phase final" : "gate " + g.name;
    std::string head = fmt::format("  {}: {}: {}", what, verdict_prefix(ev.verdict), ev.reason);
    if (ev.verdict == Verdict::flipped) {
        head = fmt::format("  {}: {} ({}{})", what, g.final_phase ? "reached" : "flipped",
                           migration::source_name(g.flipped_from), g.since != 0 ? ", " + utc(g.since) : "");
    }
    std::string out = head + "\n";
    for (const auto& f : ev.flows) {
        if (ev.verdict != Verdict::flipped) out += flow_line(f);
    }
    for (const auto& s : ev.full_sets) out += fmt::format("    set {} is full\n", s);
    return out + users_text(ev, limit);
}

}  // namespace

nlohmann::json status_json(const migration::SiteFacts& facts, const migration::SiteEvidence& evidence) {
    nlohmann::json migrations = nlohmann::json::array();
    for (const auto& m : facts.migrations) {
        nlohmann::json gates = nlohmann::json::array();
        for (const auto& ev : evidence.gates) {
            if (ev.migration == &m) gates.push_back(gate_json(ev));
        }
        migrations.push_back({{"name", m.name},
                              {"phase", resolve::phase_name(m.phase)},
                              {"phase_from", migration::source_name(m.phase_from)},
                              {"quiet_for", m.quiet_for},
                              {"seen_timeout", m.seen.timeout},
                              {"seen_size", m.seen.size},
                              {"gates", gates}});
    }
    return {{"version", kStatusJsonVersion}, {"table", facts.table},
            {"host", facts.host},            {"table_present", evidence.table_present},
            {"generation", evidence.generation}, {"now", evidence.now},
            {"now_utc", iso(evidence.now)},  {"migrations", migrations}};
}

std::string status_text(const migration::SiteFacts& facts, const migration::SiteEvidence& evidence,
                        std::size_t limit) {
    std::string out = fmt::format("table inet {}{}, {}\n", facts.table, evidence.table_present ? "" : " (absent)",
                                  utc(evidence.now));
    if (facts.migrations.empty()) return out + "the policy declares no migrations\n";
    for (const auto& m : facts.migrations) {
        out += fmt::format("migration {}: phase {} ({}), seen_timeout {}\n", m.name, resolve::phase_name(m.phase),
                           migration::source_name(m.phase_from), format_duration(m.seen.timeout));
        for (const auto& ev : evidence.gates) {
            if (ev.migration == &m) out += gate_text(ev, limit);
        }
    }
    return out;
}

namespace {

std::string tuple_text(const kernel::ConnTuple& t) {
    auto addr = [&](net::U128 a, std::uint16_t port) {
        const std::string s = net::format_address(t.family, a);
        return t.family == net::Family::ipv6 ? fmt::format("[{}]:{}", s, port) : fmt::format("{}:{}", s, port);
    };
    return fmt::format("{} {} -> {}", t.proto == ir::kProtoTcp ? "tcp" : "udp", addr(t.src, t.sport),
                       addr(t.dst, t.dport));
}

void print_cut(const migration::FlipRequest& req, const kernel::CutReport& cut) {
    if (req.dry_run) {
        std::cout << fmt::format("would cut {} established connection{}\n", cut.selected.size(),
                                 cut.selected.size() == 1 ? "" : "s");
    } else {
        std::cout << fmt::format("cut {} established connection{}\n", cut.deleted, cut.deleted == 1 ? "" : "s");
    }
    for (const auto& t : cut.selected) std::cout << "  " << tuple_text(t) << '\n';
}

int print_refused(const migration::FlipRequest& req, const migration::FlipOutcome& out) {
    std::cerr << fmt::format("nftpolicy: refused: gate {} still has legacy users:\n", req.gate);
    for (const auto& line : out.overridden) std::cerr << "  " << line << '\n';
    std::cerr << "nothing was changed; wait until they have moved (see `nftpolicy migration status`), "
                 "or use --force\n";
    return exit_refused;
}

int print_differs(const migration::FlipOutcome& out) {
    std::cerr << "nftpolicy: error: the kernel does not hold the policy as it stands; a flip would carry these "
                 "other changes too:\n";
    for (const auto& c : out.differences) std::cerr << "  " << c << '\n';
    std::cerr << "nothing was changed; run `nftpolicy apply` (or `nftpolicy diff`) first\n";
    return exit_differences;
}

}  // namespace

int print_flip(const migration::FlipRequest& req, const migration::FlipOutcome& out) {
    for (const auto& w : out.warnings) std::cerr << "nftpolicy: warning: " << w << '\n';
    using Status = migration::FlipOutcome::Status;
    if (out.status == Status::refused) return print_refused(req, out);
    if (out.status == Status::kernel_differs) return print_differs(out);
    for (const auto& line : out.overridden) std::cout << "forced: overrode: " << line << '\n';
    for (const auto& c : out.changes) std::cout << c << '\n';
    const char* verb = req.complete ? "flipped" : "reopened";
    if (req.dry_run) {
        std::cout << fmt::format("dry run: gate {} would be {}; nothing was changed\n", req.gate, verb);
    } else {
        std::cout << fmt::format("gate {} {}: {} change{} in one transaction; recorded in {}\n", req.gate, verb,
                                 out.changes.size(), out.changes.size() == 1 ? "" : "s", req.state_path);
    }
    if (out.cut) print_cut(req, *out.cut);
    return exit_ok;
}

void print_set_phase(const migration::PhaseRequest& req, const migration::PhaseOutcome& out) {
    for (const auto& w : out.warnings) std::cerr << "nftpolicy: warning: " << w << '\n';
    for (const auto& c : out.changes) std::cout << c << '\n';
    const char* phase = resolve::phase_name(req.phase);
    if (req.dry_run) {
        std::cout << fmt::format("dry run: migration {} would be in phase {}; nothing was changed\n", req.migration,
                                 phase);
    } else {
        std::cout << fmt::format("migration {} is in phase {}: {} change{} in one transaction; recorded in {}\n",
                                 req.migration, phase, out.changes.size(), out.changes.size() == 1 ? "" : "s",
                                 req.state_path);
    }
}

}  // namespace nftpolicy::cli
