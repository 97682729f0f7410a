// The node_exporter textfile rendering: names, types, labels and escaping.
#include <catch2/catch.hpp>

#include "metrics/metrics.h"

using namespace nftpolicy::metrics;

namespace {

Snapshot sample_snapshot() {
    Snapshot s;
    s.host = "gw1";
    s.table = "nftpolicy";
    s.table_present = true;
    s.flows = {{"ses-agent-msrpc", 12, 720}};
    s.gates = {{"ses-2_7", "ses-2_7.agents-migrated", 3, 1, false, false}};
    s.last_apply_time = 1764645041;
    s.in_sync = true;
    return s;
}

}  // namespace

TEST_CASE("metrics: one sample per flow and gate, with HELP and TYPE", "[metrics]") {
    const std::string text = render(sample_snapshot());
    CHECK(text.find("# TYPE nftpolicy_flow_packets_total counter\n") != std::string::npos);
    CHECK(text.find("nftpolicy_flow_packets_total{host=\"gw1\",table=\"nftpolicy\",flow=\"ses-agent-msrpc\"} 12\n") !=
          std::string::npos);
    CHECK(text.find("nftpolicy_flow_bytes_total{host=\"gw1\",table=\"nftpolicy\",flow=\"ses-agent-msrpc\"} 720\n") !=
          std::string::npos);
    CHECK(text.find("nftpolicy_legacy_users{host=\"gw1\",migration=\"ses-2_7\",gate=\"ses-2_7.agents-migrated\"} "
                    "3\n") != std::string::npos);
    CHECK(text.find("nftpolicy_last_apply_timestamp_seconds{host=\"gw1\",table=\"nftpolicy\"} 1764645041\n") !=
          std::string::npos);
    CHECK(text.find("nftpolicy_in_sync{host=\"gw1\",table=\"nftpolicy\"} 1\n") != std::string::npos);
}

TEST_CASE("metrics: what the caller does not know is left out, not invented", "[metrics]") {
    Snapshot s = sample_snapshot();
    s.last_apply_time.reset();
    s.in_sync.reset();
    const std::string text = render(s);
    CHECK(text.find("nftpolicy_last_apply_timestamp_seconds") == std::string::npos);
    CHECK(text.find("nftpolicy_in_sync") == std::string::npos);
    CHECK(text.find("nftpolicy_last_apply_success") == std::string::npos);
    CHECK(text.find("nftpolicy_drift_repairs_total") == std::string::npos);
    s.last_apply_success = false;
    s.drift_repairs = 4;
    const std::string daemon = render(s);
    CHECK(daemon.find("nftpolicy_last_apply_success{host=\"gw1\",table=\"nftpolicy\"} 0\n") != std::string::npos);
    CHECK(daemon.find("# TYPE nftpolicy_drift_repairs_total counter\nnftpolicy_drift_repairs_total{host=\"gw1\","
                      "table=\"nftpolicy\"} 4\n") != std::string::npos);
}

TEST_CASE("metrics: label values escape backslash, quote and newline", "[metrics]") {
    Snapshot s = sample_snapshot();
    s.host = "a\\b\"c\nd";
    const std::string text = render(s);
    CHECK(text.find("{host=\"a\\\\b\\\"c\\nd\",table=\"nftpolicy\"}") != std::string::npos);
    for (std::size_t at = text.find('\n'); at != std::string::npos && at + 1 < text.size(); at = text.find('\n', at + 1)) {
        CHECK(text[at + 1] != 'd');  // the raw newline never starts a line of its own
    }
}
