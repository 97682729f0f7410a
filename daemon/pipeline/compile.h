// The front half of the pipeline as one call: policy file -> load -> resolve
// -> lower, with every diagnostic collected (never printed) and the reason for
// stopping as a typed Failure. The CLI and nftpolicyd both compile through here.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "ir/ruleset.h"
#include "pipeline/failure.h"
#include "policy/load.h"
#include "resolve/projection.h"
#include "support/diagnostic.h"

namespace nftpolicy::pipeline {

inline constexpr const char* kDefaultPolicy = "/etc/nftpolicy/site.toml";

// What to compile, as the user spelled it.
struct PolicyRequest {
    std::string policy = kDefaultPolicy;
    std::vector<std::string> include_paths;  // searched before the default path
    std::string host;                        // empty: the only host, or this machine's hostname
    std::vector<std::string> phases;         // "coexist" or "migration=final"; each may be a comma list
    std::vector<std::string> gates;          // "migration.gate"; each may be a comma list
    std::string table;                       // overrides [settings] table
    // Non-empty (apply, diff): fold in the migration state kept in this
    // directory, command line > state > policy file (docs/migrations.md).
    std::string state_dir;
    // Address lists kept between compiles (nftpolicyd owns one); nullptr:
    // each compile parses every list in full.
    policy::AddressListCache* lists = nullptr;
};

// The result of a successful compile: the ruleset, what it was compiled for,
// and the sources that its spans point into. The model and the projection
// are dropped as soon as the next stage has consumed them: with a million
// addresses each holds a copy of the big sets.
struct Compiled {
    std::shared_ptr<const SourceManager> sources;
    ir::Table table;
    std::string host;
    policy::HostMode mode = policy::HostMode::host;
    std::map<std::string, policy::Phase> phases;  // effective phase per migration
    std::set<std::string> flipped_gates;          // "migration.gate"
    std::size_t flows = 0;                        // projected flows, management included
    policy::DriftMode drift = policy::DriftMode::repair;  // what nftpolicyd does about drift
    resolve::ResolveOptions chosen;               // what the command line chose (before the state)
    // kernel::ruleset_hash(table) once computed (ruleset_hash below): at a
    // million addresses the hash is a pass over 32 MB, and a commit, its
    // apply record and the last good ruleset each need it. A copy starts
    // empty, so a copied and changed table is hashed again.
    struct HashMemo {
        mutable std::string value;
        HashMemo() = default;
        HashMemo(const HashMemo&) {}
        HashMemo& operator=(const HashMemo&) {
            value.clear();
            return *this;
        }
    } hash_memo;
};

// kernel::ruleset_hash(c.table), computed on first use; `c.table` must not
// change after that.
const std::string& ruleset_hash(const Compiled& c);

// A compile's diagnostics (warnings even on success) and its outcome. The
// diagnostics' spans point into `sources`, which lives as long as this does.
struct CompileOutput {
    std::shared_ptr<const SourceManager> sources;
    Diagnostics diagnostics;
    tl::expected<Compiled, Failure> result = tl::unexpected(Failure{});
};

// An unreadable policy file is a system problem (exit 4), not an invalid
// policy: checked before loading so the message says which.
Result<void> check_readable(const std::string& path);

// Loads the policy with `request`'s search path; diagnostics go to `diags`.
std::optional<policy::Policy> load(const PolicyRequest& request, SourceManager& sources, Diagnostics& diags);

// A phase selection: "PHASE" for every migration, or "MIGRATION=PHASE".
struct PhaseArg {
    std::string migration;  // empty: every migration
    policy::Phase phase = policy::Phase::legacy;
};
std::optional<PhaseArg> parse_phase_arg(std::string_view text);
// "a,b,,c" -> {"a", "b", "", "c"}: empty entries are kept, to be reported.
std::vector<std::string> split_list(const std::string& value);

// The request's host, phases and gates as resolve options, without the
// policy. Fails on a phase that does not parse or on two different phases for
// one target ("--phase: migration 'm' is given two phases, ..."): what the
// user meant is not ours to guess.
Result<resolve::ResolveOptions> option_values(const PolicyRequest& request);

// option_values, then checked against the policy (unknown host, migration or
// gate: errors in `diags`, nullopt).
Result<std::optional<resolve::ResolveOptions>> resolve_options(const PolicyRequest& request,
                                                               const policy::Policy& policy, Diagnostics& diags);

// Why `compiled` must not be applied without insisting: a ruleset with no
// flow and no management access keeps only the baseline (by default: drop
// all input), which is what an empty or truncated policy compiles to.
std::optional<std::string> empty_ruleset(const Compiled& compiled);

// What stops a run before any policy file is read: option values that do
// not parse (bad_selection), an unreadable policy file (unreadable).
std::optional<Failure> precheck(const PolicyRequest& request);

// load -> resolve -> lower.
CompileOutput compile(const PolicyRequest& request);

}  // namespace nftpolicy::pipeline
