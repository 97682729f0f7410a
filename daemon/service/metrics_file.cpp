// nftpolicyd's textfile; see metrics_file.h.
#include "service/metrics_file.h"

#include <filesystem>
#include <system_error>

namespace nftpolicy::service {

MetricsFile::MetricsFile(MetricsOptions options, EngineOptions engine)
    : options_(std::move(options)), request_{std::move(engine.policy), std::move(engine.state), 0} {
    request_.policy.state_dir = request_.state.state_dir;
}

bool MetricsFile::ready() const {
    std::error_code ec;
    return std::filesystem::is_directory(options_.dir, ec);
}

// The gates' facts follow the held ruleset: a new generation means a new
// policy, phase or gate.
Result<void> MetricsFile::refresh_gates(const Holding& holding) {
    if (gates_ && gates_generation_ == holding.generation) return {};
    auto gates = metrics::load_gates(request_);
    if (!gates) return tl::unexpected(gates.error());
    gates_ = std::move(*gates);
    gates_generation_ = holding.generation;
    return {};
}

Result<void> MetricsFile::write(const Holding& holding, const DaemonFacts& facts, std::int64_t now) {
    metrics::Snapshot s;
    if (auto k = metrics::add_kernel(request_, s); !k) return k;
    if (auto g = refresh_gates(holding); !g) return g;
    if (auto g = metrics::add_gates(*gates_, now, s); !g) return g;
    s.last_apply_success = facts.last_ok;
    s.in_sync = facts.last_ok && holding.held == Held::policy;
    s.drift_repairs = facts.drift_repairs;
    s.policy_errors = facts.policy_errors;
    s.policy_warnings = facts.policy_warnings;
    return metrics::write_textfile(options_.dir, s);
}

}  // namespace nftpolicy::service
