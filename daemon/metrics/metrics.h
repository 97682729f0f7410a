// Prometheus metrics of one machine, for node_exporter's textfile collector
// (`nftpolicy metrics --textfile DIR`, and nftpolicyd after every commit and
// on a timer): per-flow packet and byte counters, legacy users per gate,
// the last apply, whether the kernel holds the policy, policy errors and,
// from the daemon, drift repairs. gather() reads; render() and
// write_textfile() are pure formatting and an atomic file write; nothing
// here prints.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "migration/facts.h"
#include "pipeline/apply.h"
#include "support/result.h"

namespace nftpolicy::metrics {

struct FlowSample {
    std::string flow;  // the flow id
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

struct GateSample {
    std::string migration;
    std::string gate;           // "migration.gate"
    std::size_t users = 0;      // addresses in its seen sets
    std::size_t recent = 0;     // of those, seen within quiet_for
    bool flipped = false;
    bool safe_to_flip = false;
};

struct Snapshot {
    std::string host;   // the [hosts.NAME] (label on every sample)
    std::string table;  // the inet table
    bool table_present = false;
    std::vector<FlowSample> flows;
    std::vector<GateSample> gates;
    std::optional<std::int64_t> last_apply_time;  // unix seconds, from the apply record
    std::optional<bool> in_sync;                  // the kernel holds what the policy compiles to
    std::size_t policy_errors = 0;
    std::size_t policy_warnings = 0;
    // Known only to a caller that keeps them (nftpolicyd); left out otherwise.
    std::optional<bool> last_apply_success;
    std::optional<std::uint64_t> drift_repairs;
};

struct Request {
    pipeline::PolicyRequest policy;  // its state_dir is set from `state`
    pipeline::StateOptions state;
    std::int64_t now = 0;  // the caller's clock (unix seconds), for "recent" users
};

// The policy side of the gates' evidence: the policy and the facts that say
// which seen sets belong to which gate. Loading it parses the policy; a
// caller that keeps it (nftpolicyd, until the policy changes) then reads
// only the kernel's seen sets per snapshot. Not movable: the facts point
// into the policy and its sources.
struct GateSource {
    GateSource() = default;
    GateSource(const GateSource&) = delete;
    GateSource& operator=(const GateSource&) = delete;
    SourceManager sources;
    std::optional<policy::Policy> policy;
    std::optional<migration::SiteFacts> facts;  // none: the policy does not load or resolve
};
// `request.policy` with the state directory's phases and gates.
Result<std::unique_ptr<GateSource>> load_gates(const Request& request);

// Our table's counters and the apply record (kernel and state directory).
Result<void> add_kernel(const Request& request, Snapshot& out);
// Legacy users per gate: reads the seen sets named by `gates`.
Result<void> add_gates(const GateSource& gates, std::int64_t now, Snapshot& out);

// Reads the kernel (our table's counters, the seen sets), the apply record
// and the policy. An invalid policy is not a failure: it is counted in
// policy_errors and the kernel's counters are still reported. Fails only
// when the kernel or the state directory cannot be read.
Result<Snapshot> gather(const Request& request);

// The node_exporter textfile: HELP and TYPE lines, one sample per line.
std::string render(const Snapshot& snapshot);

// DIR/nftpolicy.prom, replaced atomically (node_exporter reads only *.prom,
// never the temporary file next to it).
std::string textfile_path(const std::string& dir);
Result<void> write_textfile(const std::string& dir, const Snapshot& snapshot);

}  // namespace nftpolicy::metrics
