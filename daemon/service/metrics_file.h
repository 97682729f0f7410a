// nftpolicyd's Prometheus textfile (node_exporter's textfile collector):
// DIR/nftpolicy.prom, rewritten atomically after every converge and on a
// timer, so that the flow counters stay fresh between changes. What only the
// daemon knows (the last converge's result, drift repairs, the policy's
// errors) comes from the manager; the kernel side is read per write, and the
// policy side of the gates' evidence only when the held ruleset changed (an
// idle daemon never re-parses the policy). Returns results; never logs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "metrics/metrics.h"
#include "service/engine.h"

namespace nftpolicy::service {

struct MetricsOptions {
    std::string dir;                         // empty: no textfile
    std::uint64_t interval_usec = 60000000;  // the timer's period
};

// The manager's part of a snapshot.
struct DaemonFacts {
    bool last_ok = false;  // the last converge left the policy in the kernel
    std::uint64_t drift_repairs = 0;
    std::size_t policy_errors = 0;
    std::size_t policy_warnings = 0;
};

class MetricsFile {
  public:
    MetricsFile(MetricsOptions options, EngineOptions engine);
    bool enabled() const { return !options_.dir.empty(); }
    // The directory exists (node_exporter's package makes it; we never do).
    bool ready() const;
    const MetricsOptions& options() const { return options_; }

    Result<void> write(const Holding& holding, const DaemonFacts& facts, std::int64_t now);

  private:
    Result<void> refresh_gates(const Holding& holding);

    MetricsOptions options_;
    metrics::Request request_;
    std::unique_ptr<metrics::GateSource> gates_;
    std::uint64_t gates_generation_ = 0;
};

}  // namespace nftpolicy::service
