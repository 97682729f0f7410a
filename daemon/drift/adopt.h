// CLI and daemon never fight: `nftpolicy apply` from another process is a
// foreign commit to our table, but a legitimate one. It commits under the
// apply lock and writes its record (kernel/apply_record.h) before letting go,
// so the daemon, before repairing, takes the same lock, re-reads the record
// and asks here whether the CLI made the generation in question. If so the
// daemon adopts it: it reloads its desired state from the state directory
// (where the CLI's --phase and gate choices live) instead of restoring the
// ruleset it had.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "drift/assess.h"
#include "kernel/apply_record.h"

namespace nftpolicy::drift {

// Whether the apply that `record` describes made `change`. The record names
// the generation read right after its commit: equal to the change's, or
// later when another commit slipped in before the CLI read it back, in which
// case the committing process must be the CLI itself. Records of another
// table, or older than `not_before` (unix seconds: the daemon's last look at
// the record; generation ids restart with every boot and namespace), never
// match.
bool made_by_record(const Foreign& change, const kernel::ApplyRecord& record, const std::string& table,
                    std::int64_t not_before);

struct Resolution {
    bool adopt = false;   // a CLI apply made some of it: reload the desired state first
    bool repair = false;  // then converge (always, unless the drift mode is report)
    std::vector<std::uint32_t> adopted;  // generations the CLI made
};

// Decides, under the apply lock, what to do about `assessment` given the
// record just re-read. A resync always converges; what the CLI made is adopted,
// and the converge then repairs only what others changed on top of it. After
// lost events (resync) any record written since `not_before` is adopted.
// Adopting is never unsafe: it only makes the daemon recompile from the
// policy and the state directory before it converges.
Resolution resolve(const Assessment& assessment, const std::optional<kernel::ApplyRecord>& record,
                   const std::string& table, std::int64_t not_before);

// The process name the CLI commits under (NFTA_GEN_PROC_NAME).
inline constexpr const char* kCliProcess = "nftpolicy";

}  // namespace nftpolicy::drift
