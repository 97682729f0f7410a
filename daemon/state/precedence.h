// Where the phase of a migration and the state of its gates come from, in
// order of precedence (docs/migrations.md, "Precedence"):
//   1. the command line (--phase, --gates),
//   2. the state file (what `apply --phase`, `migration set-phase`,
//      `complete` and `reopen` recorded),
//   3. the policy file (`phase`, `flipped`).
// This unit folds the state into resolve options that already hold the
// command line, and records what a command chose into the state.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "policy/model.h"
#include "resolve/projection.h"
#include "state/site_state.h"

namespace nftpolicy::state {

// Adds the state's choices to `options` where the command line made none.
// Entries naming a migration or gate the policy does not declare (it was
// edited since) are skipped and returned as warnings.
std::vector<std::string> merge_state(const SiteState& state, const policy::Policy& policy,
                                     resolve::ResolveOptions& options);

// Records the command line's explicit choices (`apply --phase`, `--gates`):
// a global --phase sets every migration in `migrations` (the policy's).
// False when the command line chose nothing (the state stays as it is).
bool record_choices(const resolve::ResolveOptions& cli, const std::map<std::string, policy::Phase>& migrations,
                    std::int64_t now, SiteState& state);

}  // namespace nftpolicy::state
