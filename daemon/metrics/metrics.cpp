// Gathering and rendering the metrics; see metrics.h.
#include "metrics/metrics.h"

#include <algorithm>

#include <fmt/format.h>

#include "ir/lower.h"
#include "kernel/netlink_kernel.h"
#include "migration/evidence.h"
#include "migration/facts.h"
#include "state/site_state.h"
#include "support/atomic_file.h"

namespace nftpolicy::metrics {

namespace {

void add_status(const pipeline::Status& status, Snapshot& out) {
    out.table = status.table;
    out.table_present = status.view.table.has_value();
    if (status.record) {
        out.host = status.record->host;
        out.last_apply_time = status.record->applied_at;
    }
    if (!status.view.table) return;
    for (const auto& c : status.view.table->counters) out.flows.push_back({ir::flow_of_counter(c.name), c.packets, c.bytes});
}

// A dry apply: the policy's errors and warnings, and whether the kernel
// already holds what it compiles to (no lock, nothing committed).
void add_policy(const Request& request, Snapshot& out) {
    pipeline::ApplyRequest dry{request.policy, request.state, true, true};
    auto applied = pipeline::apply(dry);
    out.policy_errors = applied.diagnostics.error_count();
    out.policy_warnings = applied.diagnostics.warning_count();
    if (applied.result) {
        out.in_sync = applied.result->report.changes.empty();
        return;
    }
    using pipeline::FailureKind;
    const auto kind = applied.result.error().kind;
    const bool policy_fault = kind == FailureKind::invalid_policy || kind == FailureKind::unreadable ||
                              kind == FailureKind::bad_selection;
    if (policy_fault) out.policy_errors = std::max<std::size_t>(out.policy_errors, 1);
}

GateSample gate_sample(const migration::GateEvidence& ev) {
    return {ev.migration->name, ev.gate->ref, ev.users.size(), ev.recent, ev.gate->flipped, ev.safe_to_flip()};
}

}  // namespace

Result<std::unique_ptr<GateSource>> load_gates(const Request& request) {
    pipeline::PolicyRequest cli = request.policy;
    cli.state_dir.clear();  // gather_facts merges the state itself
    auto out = std::make_unique<GateSource>();
    Diagnostics diags;
    out->policy = pipeline::load(cli, out->sources, diags);
    if (!out->policy) return out;
    auto options = pipeline::resolve_options(cli, *out->policy, diags);
    if (!options || !*options) return out;
    auto st = state::read_state(state::state_path(request.state.state_dir));
    if (!st) return tl::unexpected(st.error());
    out->facts = migration::gather_facts(*out->policy, **options, *st, diags);
    return out;
}

Result<void> add_kernel(const Request& request, Snapshot& out) {
    auto status = pipeline::status(request.state, request.policy.table);
    if (!status) return tl::unexpected(status.error());
    add_status(*status, out);
    return {};
}

Result<void> add_gates(const GateSource& gates, std::int64_t now, Snapshot& out) {
    if (!gates.facts) return {};
    if (out.host.empty()) out.host = gates.facts->host;
    auto k = kernel::NetlinkKernel::open();
    if (!k) return tl::unexpected(k.error());
    auto evidence = migration::read_evidence(**k, *gates.facts, now);
    if (!evidence) return tl::unexpected(evidence.error());
    for (const auto& ev : evidence->gates) out.gates.push_back(gate_sample(ev));
    return {};
}

namespace {

// Label values escape backslash, double quote and newline; HELP text
// backslash and newline (the text exposition format).
std::string escape(const std::string& value, bool quote) {
    std::string out;
    for (char c : value) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '"': out += quote ? "\\\"" : "\""; break;
            default: out += c;
        }
    }
    return out;
}

struct Label {
    const char* name;
    std::string value;
};

std::string labels(const std::vector<Label>& list) {
    std::string out;
    for (const auto& l : list) out += fmt::format("{}{}=\"{}\"", out.empty() ? "" : ",", l.name, escape(l.value, true));
    return "{" + out + "}";
}

std::string header(const char* name, const char* type, const char* help) {
    return fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape(help, false), name, type);
}

template <typename T>
std::string sample(const char* name, const std::vector<Label>& list, T value) {
    return fmt::format("{}{} {}\n", name, labels(list), value);
}

std::string render_flows(const Snapshot& s) {
    std::string packets = header("nftpolicy_flow_packets_total", "counter", "Packets accepted by the flow's rules.");
    std::string bytes = header("nftpolicy_flow_bytes_total", "counter", "Bytes accepted by the flow's rules.");
    for (const auto& f : s.flows) {
        const std::vector<Label> l{{"host", s.host}, {"table", s.table}, {"flow", f.flow}};
        packets += sample("nftpolicy_flow_packets_total", l, f.packets);
        bytes += sample("nftpolicy_flow_bytes_total", l, f.bytes);
    }
    return packets + bytes;
}

std::string render_gates(const Snapshot& s) {
    std::string users = header("nftpolicy_legacy_users", "gauge",
                               "Addresses in the gate's seen sets: who used a flow it retires within seen_timeout.");
    std::string recent = header("nftpolicy_legacy_users_recent", "gauge",
                                "Legacy users seen within the migration's quiet_for window.");
    std::string flipped = header("nftpolicy_gate_flipped", "gauge", "1 when the gate has flipped.");
    std::string safe = header("nftpolicy_gate_safe_to_flip", "gauge",
                              "1 when `nftpolicy migration complete` would flip the gate without --force.");
    for (const auto& g : s.gates) {
        const std::vector<Label> l{{"host", s.host}, {"migration", g.migration}, {"gate", g.gate}};
        users += sample("nftpolicy_legacy_users", l, g.users);
        recent += sample("nftpolicy_legacy_users_recent", l, g.recent);
        flipped += sample("nftpolicy_gate_flipped", l, g.flipped ? 1 : 0);
        safe += sample("nftpolicy_gate_safe_to_flip", l, g.safe_to_flip ? 1 : 0);
    }
    return users + recent + flipped + safe;
}

std::string render_machine(const Snapshot& s) {
    const std::vector<Label> l{{"host", s.host}, {"table", s.table}};
    std::string out = header("nftpolicy_table_present", "gauge", "1 when nftpolicy's table is in the kernel.") +
                      sample("nftpolicy_table_present", l, s.table_present ? 1 : 0);
    if (s.last_apply_time) {
        out += header("nftpolicy_last_apply_timestamp_seconds", "gauge", "When the last successful apply committed.") +
               sample("nftpolicy_last_apply_timestamp_seconds", l, *s.last_apply_time);
    }
    if (s.last_apply_success) {
        out += header("nftpolicy_last_apply_success", "gauge", "1 when the last apply succeeded.") +
               sample("nftpolicy_last_apply_success", l, *s.last_apply_success ? 1 : 0);
    }
    if (s.in_sync) {
        out += header("nftpolicy_in_sync", "gauge", "1 when the kernel holds exactly what the policy compiles to.") +
               sample("nftpolicy_in_sync", l, *s.in_sync ? 1 : 0);
    }
    out += header("nftpolicy_policy_errors", "gauge", "Errors in the site policy (0: valid).") +
           sample("nftpolicy_policy_errors", l, s.policy_errors);
    out += header("nftpolicy_policy_warnings", "gauge", "Warnings about the site policy.") +
           sample("nftpolicy_policy_warnings", l, s.policy_warnings);
    if (s.drift_repairs) {
        out += header("nftpolicy_drift_repairs_total", "counter", "Times the daemon restored its table.") +
               sample("nftpolicy_drift_repairs_total", l, *s.drift_repairs);
    }
    return out;
}

}  // namespace

// A policy that does not load or resolve has no gates to report
// (add_policy counted its errors).
Result<Snapshot> gather(const Request& request) {
    Snapshot out;
    if (auto k = add_kernel(request, out); !k) return tl::unexpected(k.error());
    add_policy(request, out);
    auto gates = load_gates(request);
    if (!gates) return tl::unexpected(gates.error());
    if (auto g = add_gates(**gates, request.now, out); !g) return tl::unexpected(g.error());
    return out;
}

std::string render(const Snapshot& snapshot) {
    return render_machine(snapshot) + render_flows(snapshot) + render_gates(snapshot);
}

std::string textfile_path(const std::string& dir) { return dir + "/nftpolicy.prom"; }

// Replaced atomically (node_exporter never reads half a file) but not
// synced: it is rewritten on every reload and interval, and nftpolicyd
// writes it before answering a reload, where two fsyncs would be most of a
// small reload's time.
Result<void> write_textfile(const std::string& dir, const Snapshot& snapshot) {
    return write_file_atomic(textfile_path(dir), render(snapshot), Sync::later);
}

}  // namespace nftpolicy::metrics
