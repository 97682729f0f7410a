// The migration state of this machine: the phase chosen for each migration
// and the gates flipped (or reopened) by `nftpolicy migration`, kept in the
// state directory (default /var/lib/nftpolicy/migrations) so that a reboot,
// a re-apply or the daemon keep them. Format (docs/migrations.md, "State"):
//
//   # comment
//   nftpolicy-state 1
//   phase MIGRATION legacy|coexist|final UNIX-SECONDS
//   gate MIGRATION.GATE flipped|open UNIX-SECONDS
//
// A missing file is an empty state (nothing chosen yet: the policy file
// decides); any other unreadable or malformed file is an error, never
// silently an empty state, because that would reopen flipped gates.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "policy/model.h"
#include "support/atomic_file.h"
#include "support/result.h"

namespace nftpolicy::state {

inline constexpr int kStateVersion = 1;

// The state file inside a state directory.
std::string state_path(const std::string& state_dir);

struct PhaseEntry {
    policy::Phase phase = policy::Phase::legacy;
    std::int64_t since = 0;  // unix seconds when it was chosen
    friend bool operator==(const PhaseEntry&, const PhaseEntry&) = default;
};

struct GateEntry {
    bool flipped = false;  // false: explicitly reopened (overrides the policy's `flipped`)
    std::int64_t since = 0;
    friend bool operator==(const GateEntry&, const GateEntry&) = default;
};

struct SiteState {
    std::map<std::string, PhaseEntry> phases;  // by migration
    std::map<std::string, GateEntry> gates;    // by "migration.gate"
    friend bool operator==(const SiteState&, const SiteState&) = default;
};

std::string serialize(const SiteState& state);
// `path` only names the file in error messages ("PATH:LINE: ...").
Result<SiteState> parse_state(std::string_view text, const std::string& path);

// Reads the state file; an empty state when it does not exist.
Result<SiteState> read_state(const std::string& path);
// Writes the new state to a synced temporary file; commit() puts it in place.
Result<PendingFile> prepare_state(const std::string& path, const SiteState& state);

}  // namespace nftpolicy::state
