// Effective phases, flipped gates and flow activity (see the table in phases.h).
#include "resolve/phases.h"

#include "resolve/suggest.h"

namespace nftpolicy::resolve {

using policy::Phase;

namespace {

std::vector<std::string> gate_names(const policy::Migration& migration) {
    std::vector<std::string> names;
    for (const auto& gate : migration.gates) names.push_back(gate.name);
    return names;
}

bool declares_gate(const policy::Migration& migration, const std::string& gate) {
    for (const auto& declared : migration.gates) {
        if (declared.name == gate) return true;
    }
    return false;
}

}  // namespace

const policy::Migration* find_migration(const policy::Policy& policy, const std::string& name,
                                        SourceSpan span, Diagnostics& diags) {
    auto it = policy.migrations.find(name);
    if (it != policy.migrations.end()) return &it->second;
    diags.error(
        span, "no migration named '" + name + "'" + did_you_mean(name, keys_of(policy.migrations)));
    return nullptr;
}

namespace {

// True if `gate` is one of the migration's gates; reports it otherwise.
bool check_gate(const policy::Migration& migration, const std::string& gate, SourceSpan span,
                Diagnostics& diags) {
    if (declares_gate(migration, gate)) return true;
    diags.error(span, "gate '" + gate + "' is not declared by migration '" + migration.name + "'" +
                          did_you_mean(gate, gate_names(migration)));
    return false;
}

}  // namespace

bool check_gate_text(const policy::Policy& policy, const std::string& text, SourceSpan span, Diagnostics& diags) {
    auto dot = text.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
        diags.error(span, "flipped gate '" + text + "' is not of the form 'migration.gate'");
        return false;
    }
    const auto* migration = find_migration(policy, text.substr(0, dot), span, diags);
    return migration && check_gate(*migration, text.substr(dot + 1), span, diags);
}

MigrationState::MigrationState(const policy::Policy& policy, const ResolveOptions& options,
                               Diagnostics& diags)
    : policy_(policy) {
    // Precedence: per-migration option, then the global option, then the policy.
    for (const auto& [name, migration] : policy.migrations) {
        phases_[name] = options.phase.value_or(migration.phase.value_or(Phase::legacy));
    }
    for (const auto& [name, phase] : options.phase_of) {
        if (find_migration(policy, name, options.cli_span, diags)) phases_[name] = phase;
    }
    apply_policy_flips(options, diags);
    apply_option_flips(options, diags);
}

// The policy's `flipped`, less the gates the state file reopened.
void MigrationState::apply_policy_flips(const ResolveOptions& options, Diagnostics& diags) {
    for (const auto& [name, migration] : policy_.migrations) {
        for (const auto& gate : migration.flipped) {
            if (check_gate(migration, gate.name, gate.span, diags) &&
                !options.reopened_gates.contains(name + "." + gate.name))
                flipped_.insert(name + "." + gate.name);
        }
    }
}

// Options name gates as "migration.gate" text; they have no source span.
void MigrationState::apply_option_flips(const ResolveOptions& options, Diagnostics& diags) {
    for (const auto& text : options.flipped_gates) {
        if (check_gate_text(policy_, text, options.cli_span, diags)) flipped_.insert(text);
    }
}

bool MigrationState::check_flow(const policy::Flow& flow, Diagnostics& diags) const {
    bool ok = true;
    if (flow.retired_by && flow.introduced_by) {
        diags.error(flow.span,
                    "flow '" + flow.id +
                        "' has both 'retired_by' and 'introduced_by'; expected at most one");
        ok = false;
    }
    if (flow.retired_by) ok = check_ref(*flow.retired_by, diags) && ok;
    if (flow.introduced_by) ok = check_ref(*flow.introduced_by, diags) && ok;
    return ok;
}

bool MigrationState::check_ref(const policy::GateRef& ref, Diagnostics& diags) const {
    const auto* migration = find_migration(policy_, ref.migration, ref.span, diags);
    if (!migration) return false;
    return ref.gate.empty() || check_gate(*migration, ref.gate, ref.span, diags);
}

bool MigrationState::flipped(const std::string& migration, const std::string& gate) const {
    return flipped_.count(migration + "." + gate) > 0;
}

bool MigrationState::is_active(const policy::Flow& flow) const {
    if (flow.retired_by) return retired_active(*flow.retired_by);
    if (flow.introduced_by) return introduced_active(*flow.introduced_by);
    return true;
}

bool MigrationState::retired_active(const policy::GateRef& ref) const {
    switch (phase(ref.migration)) {
        case Phase::legacy:
            return true;
        case Phase::coexist:
            return ref.gate.empty() || !flipped(ref.migration, ref.gate);
        case Phase::final_:
            return false;
    }
    return false;
}

bool MigrationState::introduced_active(const policy::GateRef& ref) const {
    switch (phase(ref.migration)) {
        case Phase::legacy:
            return false;
        case Phase::coexist:
            return ref.gate.empty() || flipped(ref.migration, ref.gate);
        case Phase::final_:
            return true;
    }
    return false;
}

FlowLifecycle lifecycle_of(const policy::Flow& flow) {
    if (flow.retired_by) return {Lifecycle::legacy, flow.retired_by->text()};
    if (flow.introduced_by) return {Lifecycle::introduced, {}};
    return {};
}

const char* phase_name(Phase phase) {
    switch (phase) {
        case Phase::legacy:
            return "legacy";
        case Phase::coexist:
            return "coexist";
        case Phase::final_:
            return "final";
    }
    return "legacy";
}

}  // namespace nftpolicy::resolve
