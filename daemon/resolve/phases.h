// Migrations, phases and gates: the effective phase of each migration, the set
// of flipped gates, and from them which flows are active.
//
//   retired_by "m.g"     legacy: yes   coexist: until g flips   final: no
//   retired_by "m"       legacy: yes   coexist: yes             final: no
//   introduced_by "m"    legacy: no    coexist: yes             final: yes
//   introduced_by "m.g"  legacy: no    coexist: once g flips    final: yes
#pragma once

#include <map>
#include <set>
#include <string>

#include "policy/model.h"
#include "resolve/projection.h"
#include "support/diagnostic.h"

namespace nftpolicy::resolve {

class MigrationState {
  public:
    // Computes phases and flipped gates from the policy and the options,
    // reporting unknown migrations and gates in either.
    MigrationState(const policy::Policy& policy, const ResolveOptions& options, Diagnostics& diags);

    // Checks that a flow's lifecycle references name declared migrations and
    // gates, and that it has at most one of them. False after reporting.
    bool check_flow(const policy::Flow& flow, Diagnostics& diags) const;
    // Whether a (checked) flow exists in the current phases.
    bool is_active(const policy::Flow& flow) const;

    policy::Phase phase(const std::string& migration) const { return phases_.at(migration); }
    bool flipped(const std::string& migration, const std::string& gate) const;
    const std::map<std::string, policy::Phase>& phases() const { return phases_; }
    const std::set<std::string>& flipped_gates() const { return flipped_; }

  private:
    bool check_ref(const policy::GateRef& ref, Diagnostics& diags) const;
    void apply_policy_flips(const ResolveOptions& options, Diagnostics& diags);
    void apply_option_flips(const ResolveOptions& options, Diagnostics& diags);
    bool retired_active(const policy::GateRef& ref) const;
    bool introduced_active(const policy::GateRef& ref) const;

    const policy::Policy& policy_;
    std::map<std::string, policy::Phase> phases_;
    std::set<std::string> flipped_;  // "migration.gate"
};

// The migration named `name`, or nullptr after reporting that there is none.
const policy::Migration* find_migration(const policy::Policy& policy, const std::string& name,
                                        SourceSpan span, Diagnostics& diags);
// True if `text` ("migration.gate") names a gate its migration declares;
// reports it otherwise.
bool check_gate_text(const policy::Policy& policy, const std::string& text, SourceSpan span,
                     Diagnostics& diags);

// Why a flow exists, and for a legacy flow the gate that retires it.
struct FlowLifecycle {
    Lifecycle kind = Lifecycle::permanent;
    std::string gate;
};
FlowLifecycle lifecycle_of(const policy::Flow& flow);

// "legacy", "coexist", "final"
const char* phase_name(policy::Phase phase);

}  // namespace nftpolicy::resolve
