// The fallback rulesets; see fallback.h.
#include "service/fallback.h"

#include "ir/lower.h"
#include "kernel/apply_record.h"

namespace nftpolicy::service {

namespace {

constexpr std::uint16_t kSshPort = 22;

// Whatever the policy says about default verdicts, the fallback drops.
policy::Baseline safe_baseline(policy::Baseline b) {
    b.input = policy::ChainPolicy::drop;
    b.forward = policy::ChainPolicy::drop;
    b.egress = false;
    return b;
}

std::shared_ptr<const pipeline::Compiled> lowered(const resolve::Projection& p,
                                                  std::shared_ptr<const SourceManager> sources) {
    auto c = std::make_shared<pipeline::Compiled>();
    c->sources = std::move(sources);
    c->table = ir::lower(p);
    c->host = p.host;
    c->mode = p.mode;
    c->flows = p.flows.size();
    return c;
}

std::string table_of(const pipeline::PolicyRequest& request, const std::string& from_policy) {
    if (!request.table.empty()) return request.table;
    return from_policy.empty() ? "nftpolicy" : from_policy;
}

// The policy with every flow left out, resolved: its management access.
std::optional<Fallback> policy_management(const pipeline::PolicyRequest& request) {
    auto sources = std::make_shared<SourceManager>();
    Diagnostics diags;
    auto policy = pipeline::load(request, *sources, diags);
    if (!policy || !policy->management) return std::nullopt;
    policy->flows.clear();
    policy->disabled_flows.clear();
    policy->table = table_of(request, policy->table);
    policy->baseline = safe_baseline(policy->baseline);
    auto options = pipeline::option_values(request);
    if (!options) return std::nullopt;
    options->phase.reset();
    options->phase_of.clear();
    options->flipped_gates.clear();
    auto projection = resolve::resolve_policy(*policy, *options, diags);
    if (!projection || projection->flows.empty()) return std::nullopt;
    return Fallback{lowered(*projection, sources), "the policy's [management] access (" +
                                                       projection->flows.front().src.label + ")"};
}

// tcp/22 from anywhere to this host, both families.
Fallback ssh_from_anywhere(const pipeline::PolicyRequest& request) {
    resolve::Projection p;
    p.table = table_of(request, {});
    p.baseline = safe_baseline(policy::Baseline{});
    resolve::ProjectedFlow f;
    f.id = "management";
    f.direction = resolve::Direction::input;
    f.src = resolve::Endpoint{net::AddrSet::everything(), "any", false, {}};
    f.dst = resolve::Endpoint{net::AddrSet::everything(), "this host", false, {}};
    f.tcp = {policy::PortRange{kSshPort, kSshPort, {}}};
    f.comment = "nftpolicyd built-in ruleset: ssh from anywhere";
    p.flows.push_back(std::move(f));
    return Fallback{lowered(p, std::make_shared<SourceManager>()), "tcp/22 from anywhere"};
}

}  // namespace

Fallback builtin_ruleset(const pipeline::PolicyRequest& request) {
    if (auto from_policy = policy_management(request)) return std::move(*from_policy);
    return ssh_from_anywhere(request);
}

std::shared_ptr<const pipeline::Compiled> compiled_of(SavedRuleset saved) {
    auto c = std::make_shared<pipeline::Compiled>();
    c->sources = std::make_shared<SourceManager>();
    c->table = std::move(saved.table);
    c->host = std::move(saved.host);
    c->phases = std::move(saved.phases);
    c->flipped_gates = std::move(saved.flipped_gates);
    c->flows = saved.flows;
    return c;
}

SavedRuleset saved_of(const pipeline::Compiled& c) {
    return SavedRuleset{c.table,         c.host,  c.phases,
                        c.flipped_gates, c.flows, pipeline::ruleset_hash(c)};
}

}  // namespace nftpolicy::service
