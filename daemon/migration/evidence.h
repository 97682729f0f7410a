// Evidence of who still uses the flows a gate retires: their counters and
// the addresses in the gate's seen sets with the time each was last seen,
// read from the kernel (the seen sets only, never the large address sets),
// and the verdict `migration status` prints and `migration complete` obeys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel/netlink_kernel.h"
#include "migration/facts.h"

namespace nftpolicy::migration {

struct FlowCounter {
    std::string id;
    bool present = false;  // the counter exists in the kernel
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

// An address seen on a retired flow.
struct Sighting {
    net::Family family = net::Family::ipv4;
    std::string address;
    std::int64_t last_seen = 0;  // unix seconds
    std::uint64_t idle = 0;      // seconds since
};

enum class Verdict {
    safe,            // recording, complete evidence, nobody within the window
    recent_users,    // someone used a retired flow within the window
    incomplete,      // a seen set is full: unrecorded users may exist
    not_recording,   // the gate's flows are here but their seen sets are not in the kernel
    no_flows,        // the gate retires nothing on this host: flipping only records it
    flipped,         // already flipped
    wrong_phase,     // gates flip only in phase coexist
};
const char* verdict_name(Verdict v);  // "safe", "recent-users", ... (JSON)

struct GateEvidence {
    const GateFacts* gate = nullptr;
    const MigrationFacts* migration = nullptr;
    std::uint32_t quiet_for = 0;            // the window applied (seconds)
    std::vector<FlowCounter> flows;
    std::vector<std::string> sets;          // seen sets read (present in the kernel)
    std::vector<std::string> full_sets;
    std::vector<Sighting> users;            // newest first
    std::size_t recent = 0;                 // users[0..recent) are within quiet_for
    Verdict verdict = Verdict::safe;
    std::string reason;                     // a short fact: "2 addresses used it within 24h"
    bool safe_to_flip() const { return verdict == Verdict::safe || verdict == Verdict::no_flows; }
};

struct SiteEvidence {
    std::int64_t now = 0;
    std::uint32_t generation = 0;
    bool table_present = false;
    std::vector<GateEvidence> gates;  // every gate of every migration, in order
};

// Reads counters and seen sets for every gate. `quiet_for` overrides each
// migration's window when set. `now` is the caller's clock (unix seconds).
Result<SiteEvidence> read_evidence(kernel::NetlinkKernel& kernel, const SiteFacts& facts, std::int64_t now,
                                   std::optional<std::uint32_t> quiet_for = std::nullopt);

}  // namespace nftpolicy::migration
