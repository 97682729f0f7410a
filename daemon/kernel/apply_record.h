// What the last successful apply committed, kept in the state directory
// (default /var/lib/nftpolicy/applied) for `nftpolicy status`: the kernel
// holds the rules but not which policy, phase and gates produced them.
// Written atomically (support/atomic_file.h); a simple `key value`
// line format so that a half-understood file is still readable by a human.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/ruleset.h"
#include "support/atomic_file.h"
#include "support/result.h"

namespace nftpolicy::kernel {

struct ApplyRecord {
    std::string table;
    std::string policy;                // path of the policy file
    std::string host;
    std::vector<std::string> phases;   // "migration=phase"
    std::vector<std::string> gates;    // flipped gates, "migration.gate"
    std::string ruleset_hash;          // FNV-1a 64 of the compiled ruleset (ruleset_hash below)
    std::uint32_t genid = 0;           // ruleset generation right after the commit
    std::int64_t applied_at = 0;       // unix seconds
    // What apply decided besides its changes, one line each: "flowtable
    // fastpath left out: this kernel has no flowtables (...)".
    std::vector<std::string> notes = {};
};

Result<void> write_record(const std::string& path, const ApplyRecord& record, Sync sync = Sync::now);
// Whether the record and the element cache can be written into `dir` (or
// the directories write_record would create there), checked without writing
// anything: apply checks it before committing, so that a commit is never
// left without its record. An error names the directory and the reason.
Result<void> check_state_dir(const std::string& dir);
// nullopt when the file does not exist.
Result<std::optional<ApplyRecord>> read_record(const std::string& path);

// 16 hex digits of XXH3-64 over the table's nft text without its address
// set elements, followed by each set's count and content hash
// (net::IntervalList::hash; the hash is only compared on the machine that
// computed it). Equal tables hash
// equal; a million-address set is hashed without printing it (printing it to
// hash it cost ~100 MB and half of apply's userspace time at 1M).
std::string ruleset_hash(const ir::Table& table);

}  // namespace nftpolicy::kernel
