// What the policy and the state say about each migration on this host: its
// effective phase and where that phase came from, its gates and whether each
// has flipped, and, per gate, the flows the gate retires here (projected as
// they are while the gate is still open, whatever the current phase).
// Pure: policy + options + state in, facts out; no kernel, no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/model.h"
#include "resolve/projection.h"
#include "state/site_state.h"
#include "support/diagnostic.h"

namespace nftpolicy::migration {

enum class Source { command_line, state, policy, default_ };
const char* source_name(Source s);  // "command line", "state", "policy", "default"

struct GateFacts {
    std::string migration;
    std::string name;        // the gate's own name
    std::string ref;         // "migration.gate"
    bool flipped = false;    // effective (command line > state > policy)
    Source flipped_from = Source::default_;
    std::int64_t since = 0;  // when the state recorded the flip or reopen; 0: unknown
    std::vector<resolve::ProjectedFlow> retired;  // on this host; a flow may project more than once
    // Not a gate: the migration's phase final, for the flows the migration
    // itself retires (`retired_by = "MIGRATION"`). Its `ref` is the
    // migration's name (and so are its seen sets), `name` is "final",
    // `flipped` means the phase is final. Status reports it like a gate;
    // complete and reopen never find it (set-phase moves to final).
    bool final_phase = false;
    std::vector<std::string> flow_ids() const;    // distinct, in policy order
};

struct MigrationFacts {
    std::string name;
    policy::Phase phase = policy::Phase::legacy;
    Source phase_from = Source::default_;
    std::uint32_t quiet_for = policy::kDefaultQuietFor;  // seconds
    policy::SeenSettings seen;
    // In declaration order, then the phase final when the migration itself
    // retires flows on this host (GateFacts::final_phase).
    std::vector<GateFacts> gates;
};

struct SiteFacts {
    std::string host;
    std::string table;
    std::vector<MigrationFacts> migrations;
    // The gate "migration.gate", or nullptr (never a phase final entry).
    const GateFacts* find_gate(const std::string& ref) const;
    const MigrationFacts* find_migration(const std::string& name) const;
};

// `cli` holds the command line's choices only; the state is merged here.
// Returns nullopt after reporting errors in `diags` (as compile would).
std::optional<SiteFacts> gather_facts(const policy::Policy& policy, const resolve::ResolveOptions& cli,
                                      const state::SiteState& state, Diagnostics& diags);

// The options a compile uses: the command line's, with the state merged in.
// Warnings about state entries the policy lacks go to `warnings`.
resolve::ResolveOptions effective_options(const policy::Policy& policy, const resolve::ResolveOptions& cli,
                                          const state::SiteState& state, std::vector<std::string>& warnings);

}  // namespace nftpolicy::migration
