// The reachability matrix (see matrix.h).
#include "matrix/matrix.h"

#include <cstdlib>
#include <utility>

namespace nftpolicy::matrix {

namespace {

using policy::Phase;
using resolve::SiteFlow;

// The flows that count, management last (it is drawn to every host, so its
// nodes come after the roles of the policy's own flows).
std::vector<const SiteFlow*> counted_flows(const resolve::Site& site,
                                           const std::set<std::string>* only) {
    std::vector<const SiteFlow*> flows;
    const SiteFlow* management = nullptr;
    for (const auto& flow : site.flows) {
        if (only && !only->contains(flow.id)) continue;
        if (!flow.to) {
            management = &flow;
            continue;
        }
        flows.push_back(&flow);
    }
    if (management) flows.push_back(management);
    return flows;
}

// The operands of a union, recursively; any other expression is one leaf.
void union_leaves(const policy::GroupExpr& expr, std::vector<const policy::GroupExpr*>& out) {
    if (expr.op != policy::GroupExpr::Op::union_) {
        out.push_back(&expr);
        return;
    }
    for (const auto& operand : expr.operands) union_leaves(operand, out);
}

Status status_of(const SiteFlow& flow) {
    if (flow.retired_by) return Status::legacy;
    if (flow.introduced_by) return Status::introduced;
    return Status::permanent;
}

std::string gate_of(const SiteFlow& flow) {
    if (flow.retired_by) return flow.retired_by->text();
    if (flow.introduced_by) return flow.introduced_by->text();
    return {};
}

bool gate_done(Phase phase, bool flipped) {
    return phase == Phase::final_ || (phase == Phase::coexist && flipped);
}

class Builder {
  public:
    Builder(const policy::Policy& policy, const resolve::Site& site,
            const std::set<std::string>* only)
        : policy_(policy), site_(site), flows_(counted_flows(site, only)) {}

    Matrix run();

  private:
    std::vector<std::size_t> nodes_of(const policy::GroupExpr* expr);
    std::size_t node(const std::string& name);
    void add_flow(const SiteFlow& flow);
    void add_steps();
    Migration steps_of(const policy::Migration& migration) const;
    Step* step_for(Migration& migration, const policy::GateRef& ref, bool retired);

    const policy::Policy& policy_;
    const resolve::Site& site_;
    std::vector<const SiteFlow*> flows_;
    std::map<std::string, std::size_t> index_;
    std::map<std::pair<std::size_t, std::size_t>, Cell> cells_;
    std::vector<Change> changes_;  // of every flow with a lifecycle, to sort into steps
    std::vector<const SiteFlow*> change_flows_;
    Matrix out_;
};

Matrix Builder::run() {
    out_.phases = site_.phases;
    out_.flipped_gates = site_.flipped_gates;
    out_.omitted = site_.omitted;
    for (const SiteFlow* flow : flows_) add_flow(*flow);
    for (auto& [key, cell] : cells_) out_.cells.push_back(std::move(cell));
    add_steps();
    return std::move(out_);
}

std::size_t Builder::node(const std::string& name) {
    auto [it, added] = index_.emplace(name, out_.nodes.size());
    if (added) out_.nodes.push_back(Node{name});
    return it->second;
}

std::vector<std::size_t> Builder::nodes_of(const policy::GroupExpr* expr) {
    if (!expr) return {node(kEveryHost)};
    std::vector<const policy::GroupExpr*> leaves;
    union_leaves(*expr, leaves);
    std::vector<std::size_t> nodes;
    for (const auto* leaf : leaves) nodes.push_back(node(leaf->text));
    return nodes;
}

// Every (from, to) pair of the flow gets an entry per service: in its cell
// when the flow is active, and as a change of the step that adds or removes
// it when it has a lifecycle.
void Builder::add_flow(const SiteFlow& flow) {
    const std::vector<std::size_t> from = nodes_of(flow.from);
    const std::vector<std::size_t> to = nodes_of(flow.to);
    for (std::size_t f : from) {
        for (std::size_t t : to) {
            for (const policy::Service& service : flow.services) {
                Entry entry{flow.id, service, flow.ipv4, flow.ipv6, status_of(flow), gate_of(flow)};
                if (entry.status != Status::permanent) {
                    changes_.push_back(Change{f, t, entry});
                    change_flows_.push_back(&flow);
                }
                if (!flow.active) continue;
                Cell& cell = cells_[{f, t}];
                cell.from = f;
                cell.to = t;
                cell.entries.push_back(std::move(entry));
            }
        }
    }
}

Migration Builder::steps_of(const policy::Migration& migration) const {
    const Phase phase = site_.phases.at(migration.name);
    Migration out{migration.name, phase, {}};
    out.steps.push_back(Step{StepKind::coexist, {}, phase != Phase::legacy, {}, {}});
    for (const auto& gate : migration.gates) {
        const std::string text = migration.name + "." + gate.name;
        const bool flipped = site_.flipped_gates.contains(text);
        out.steps.push_back(Step{StepKind::gate, text, gate_done(phase, flipped), {}, {}});
    }
    out.steps.push_back(Step{StepKind::final_, {}, phase == Phase::final_, {}, {}});
    return out;
}

// The step at which a flow of `ref` comes (introduced) or goes (retired).
Step* Builder::step_for(Migration& migration, const policy::GateRef& ref, bool retired) {
    if (ref.gate.empty()) return retired ? &migration.steps.back() : &migration.steps.front();
    for (auto& step : migration.steps) {
        if (step.kind == StepKind::gate && step.gate == ref.text()) return &step;
    }
    return nullptr;  // not reached: resolve checked every gate reference
}

void Builder::add_steps() {
    std::map<std::string, std::size_t> position;
    for (const auto& [name, migration] : policy_.migrations) {
        position[name] = out_.migrations.size();
        out_.migrations.push_back(steps_of(migration));
    }
    for (std::size_t i = 0; i < changes_.size(); ++i) {
        const SiteFlow& flow = *change_flows_[i];
        const bool retired = flow.retired_by.has_value();
        const policy::GateRef& ref = retired ? *flow.retired_by : *flow.introduced_by;
        Step* step = step_for(out_.migrations[position.at(ref.migration)], ref, retired);
        if (step) (retired ? step->removed : step->added).push_back(changes_[i]);
    }
}

}  // namespace

Matrix build_matrix(const policy::Policy& policy, const resolve::Site& site,
                    const std::set<std::string>* only) {
    return Builder(policy, site, only).run();
}

namespace {

// The ids of the flows `options.host` enforces in any phase: legacy holds
// every retired flow, final every introduced one, both the permanent ones.
std::optional<std::set<std::string>> host_flow_ids(const policy::Policy& policy,
                                                   const resolve::ResolveOptions& options,
                                                   Diagnostics& diags) {
    std::set<std::string> ids;
    for (Phase phase : {Phase::legacy, Phase::final_}) {
        resolve::ResolveOptions in_phase = options;
        in_phase.phase = phase;
        in_phase.phase_of.clear();
        auto projection = resolve::resolve_policy(policy, in_phase, diags);
        if (!projection) return std::nullopt;
        for (const auto& flow : projection->flows) ids.insert(flow.id);
    }
    return ids;
}

}  // namespace

std::optional<Matrix> site_matrix(const policy::Policy& policy,
                                  const resolve::ResolveOptions& options, Diagnostics& diags) {
    auto site = resolve::resolve_site(policy, options, diags);
    if (!site) return std::nullopt;
    if (options.host.empty()) return build_matrix(policy, *site);
    // The host's own checks (its roles and zones); the site's were reported.
    Diagnostics host_diags;
    auto ids = host_flow_ids(policy, options, host_diags);
    if (!ids) {
        for (const auto& d : host_diags.all()) diags.add(d);
        return std::nullopt;
    }
    Matrix matrix = build_matrix(policy, *site, &*ids);
    matrix.host = options.host;
    return matrix;
}

const char* status_name(Status status) {
    switch (status) {
        case Status::permanent:
            return "permanent";
        case Status::legacy:
            return "legacy";
        case Status::introduced:
            return "introduced";
    }
    std::abort();  // not a Status
}

const char* step_kind_name(StepKind kind) {
    switch (kind) {
        case StepKind::coexist:
            return "coexist";
        case StepKind::gate:
            return "gate";
        case StepKind::final_:
            return "final";
    }
    std::abort();  // not a StepKind
}

}  // namespace nftpolicy::matrix
