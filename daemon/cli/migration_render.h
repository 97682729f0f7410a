// Rendering of the migration commands' results: `migration status` as text
// (80 columns, one verdict line per gate) and as JSON (docs/migrations.md,
// "migration status --json"), and the reports of complete/reopen/set-phase.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "migration/evidence.h"
#include "migration/facts.h"
#include "migration/flip.h"

namespace nftpolicy::cli {

inline constexpr int kStatusJsonVersion = 1;

nlohmann::json status_json(const migration::SiteFacts& facts, const migration::SiteEvidence& evidence);
// `limit`: addresses listed per gate (0: all).
std::string status_text(const migration::SiteFacts& facts, const migration::SiteEvidence& evidence,
                        std::size_t limit);

// Prints the outcome of complete/reopen; returns the exit code.
int print_flip(const migration::FlipRequest& request, const migration::FlipOutcome& outcome);
void print_set_phase(const migration::PhaseRequest& request, const migration::PhaseOutcome& outcome);

}  // namespace nftpolicy::cli
