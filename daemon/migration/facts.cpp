// Migration facts from the policy, the command line and the state; see facts.h.
#include "migration/facts.h"

#include <algorithm>

#include "resolve/phases.h"
#include "state/precedence.h"

namespace nftpolicy::migration {

namespace {

Source phase_source(const policy::Migration& m, const resolve::ResolveOptions& cli, const state::SiteState& st) {
    if (cli.phase || cli.phase_of.contains(m.name)) return Source::command_line;
    if (st.phases.contains(m.name)) return Source::state;
    return m.phase ? Source::policy : Source::default_;
}

Source gate_source(const GateFacts& g, const policy::Migration& m, const resolve::ResolveOptions& cli,
                   const state::SiteState& st) {
    if (cli.flipped_gates.contains(g.ref)) return Source::command_line;
    if (st.gates.contains(g.ref)) return Source::state;
    const bool in_policy = std::any_of(m.flipped.begin(), m.flipped.end(), [&](const auto& f) { return f.name == g.name; });
    return in_policy ? Source::policy : Source::default_;
}

// Every legacy flow of the host, whatever the phases and gates: each
// migration in coexist with every gate open.
std::optional<resolve::Projection> everything_open(const policy::Policy& policy, const resolve::ResolveOptions& cli,
                                                   Diagnostics& diags) {
    resolve::ResolveOptions open;
    open.host = cli.host;
    open.cli_span = cli.cli_span;
    open.phase = policy::Phase::coexist;
    for (const auto& [name, m] : policy.migrations) {
        for (const auto& g : m.gates) open.reopened_gates.insert(name + "." + g.name);
    }
    return resolve::resolve_policy(policy, open, diags);
}

GateFacts gate_facts(const policy::Migration& m, const policy::NameRef& gate, const resolve::MigrationState& ms,
                     const resolve::Projection& open, const resolve::ResolveOptions& cli, const state::SiteState& st) {
    GateFacts g{m.name, gate.name, m.name + "." + gate.name, ms.flipped(m.name, gate.name), Source::default_, 0, {}};
    g.flipped_from = gate_source(g, m, cli, st);
    if (auto it = st.gates.find(g.ref); it != st.gates.end()) g.since = it->second.since;
    for (const auto& flow : open.flows) {
        if (flow.lifecycle == resolve::Lifecycle::legacy && flow.gate == g.ref) g.retired.push_back(flow);
    }
    return g;
}

// The migration's phase final, when the migration itself retires flows on
// this host (`retired_by = "MIGRATION"`): reported like a gate.
std::optional<GateFacts> final_facts(const policy::Migration& m, const resolve::MigrationState& ms,
                                     const resolve::Projection& open, const resolve::ResolveOptions& cli,
                                     const state::SiteState& st) {
    const bool final_ = ms.phase(m.name) == policy::Phase::final_;
    GateFacts f{m.name, "final", m.name, final_, phase_source(m, cli, st), 0, {}};
    f.final_phase = true;
    if (auto it = st.phases.find(m.name); it != st.phases.end() && final_) f.since = it->second.since;
    for (const auto& flow : open.flows) {
        if (flow.lifecycle == resolve::Lifecycle::legacy && flow.gate == f.ref) f.retired.push_back(flow);
    }
    if (f.retired.empty()) return std::nullopt;
    return f;
}

}  // namespace

const char* source_name(Source s) {
    switch (s) {
        case Source::command_line: return "command line";
        case Source::state: return "state";
        case Source::policy: return "policy";
        case Source::default_: return "default";
    }
    return "default";
}

std::vector<std::string> GateFacts::flow_ids() const {
    std::vector<std::string> ids;
    for (const auto& f : retired) {
        if (std::find(ids.begin(), ids.end(), f.id) == ids.end()) ids.push_back(f.id);
    }
    return ids;
}

const GateFacts* SiteFacts::find_gate(const std::string& ref) const {
    for (const auto& m : migrations) {
        for (const auto& g : m.gates) {
            if (g.ref == ref && !g.final_phase) return &g;
        }
    }
    return nullptr;
}

const MigrationFacts* SiteFacts::find_migration(const std::string& name) const {
    for (const auto& m : migrations) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

resolve::ResolveOptions effective_options(const policy::Policy& policy, const resolve::ResolveOptions& cli,
                                          const state::SiteState& state, std::vector<std::string>& warnings) {
    resolve::ResolveOptions options = cli;
    for (auto& w : state::merge_state(state, policy, options)) warnings.push_back(std::move(w));
    return options;
}

std::optional<SiteFacts> gather_facts(const policy::Policy& policy, const resolve::ResolveOptions& cli,
                                      const state::SiteState& state, Diagnostics& diags) {
    std::vector<std::string> ignored;  // reported by whoever compiles
    const resolve::ResolveOptions options = effective_options(policy, cli, state, ignored);
    auto current = resolve::resolve_policy(policy, options, diags);
    if (!current) return std::nullopt;
    // The same policy again: its diagnostics were reported once already.
    Diagnostics again;
    auto open = everything_open(policy, cli, again);
    if (!open) return std::nullopt;
    const resolve::MigrationState ms(policy, options, again);
    SiteFacts facts{current->host, policy.table, {}};
    for (const auto& [name, m] : policy.migrations) {
        MigrationFacts mf{name, ms.phase(name), phase_source(m, cli, state), m.quiet_for, m.seen, {}};
        for (const auto& gate : m.gates) mf.gates.push_back(gate_facts(m, gate, ms, *open, cli, state));
        if (auto f = final_facts(m, ms, *open, cli, state)) mf.gates.push_back(std::move(*f));
        facts.migrations.push_back(std::move(mf));
    }
    return facts;
}

}  // namespace nftpolicy::migration
