// Command line > state > policy file; see precedence.h.
#include "state/precedence.h"

#include <algorithm>

namespace nftpolicy::state {

namespace {

bool declares_gate(const policy::Policy& policy, const std::string& text) {
    const auto dot = text.find('.');
    auto it = policy.migrations.find(text.substr(0, dot));
    if (dot == std::string::npos || it == policy.migrations.end()) return false;
    const auto& gates = it->second.gates;
    return std::any_of(gates.begin(), gates.end(), [&](const auto& g) { return g.name == text.substr(dot + 1); });
}

void merge_phases(const SiteState& state, const policy::Policy& policy, resolve::ResolveOptions& options,
                  std::vector<std::string>& warnings) {
    for (const auto& [migration, entry] : state.phases) {
        if (!policy.migrations.contains(migration)) {
            warnings.push_back("the state file sets the phase of migration '" + migration +
                               "', which the policy does not declare; ignored");
            continue;
        }
        if (options.phase || options.phase_of.contains(migration)) continue;  // the command line wins
        options.phase_of[migration] = entry.phase;
    }
}

void merge_gates(const SiteState& state, const policy::Policy& policy, resolve::ResolveOptions& options,
                 std::vector<std::string>& warnings) {
    const auto from_cli = options.flipped_gates;
    for (const auto& [gate, entry] : state.gates) {
        if (!declares_gate(policy, gate)) {
            warnings.push_back("the state file records gate '" + gate + "', which the policy does not declare; ignored");
            continue;
        }
        if (from_cli.contains(gate)) continue;  // the command line wins
        if (entry.flipped) {
            options.flipped_gates.insert(gate);
        } else {
            options.reopened_gates.insert(gate);
        }
    }
}

}  // namespace

std::vector<std::string> merge_state(const SiteState& state, const policy::Policy& policy,
                                     resolve::ResolveOptions& options) {
    std::vector<std::string> warnings;
    merge_phases(state, policy, options, warnings);
    merge_gates(state, policy, options, warnings);
    return warnings;
}

bool record_choices(const resolve::ResolveOptions& cli, const std::map<std::string, policy::Phase>& migrations,
                    std::int64_t now, SiteState& state) {
    if (cli.phase) {
        for (const auto& [name, unused] : migrations) state.phases[name] = PhaseEntry{*cli.phase, now};
    }
    for (const auto& [migration, phase] : cli.phase_of) state.phases[migration] = PhaseEntry{phase, now};
    for (const auto& gate : cli.flipped_gates) state.gates[gate] = GateEntry{true, now};
    return cli.phase || !cli.phase_of.empty() || !cli.flipped_gates.empty();
}

}  // namespace nftpolicy::state
