// resolve_policy: the entry point of the resolve stage. It checks the whole
// policy (every group, service, gate and flow, active or not) and projects the
// active flows onto the selected host. Every error of the stage is reported;
// the projection is returned only when there were none.
#include <algorithm>
#include <set>

#include "resolve/flows.h"
#include "resolve/groups.h"
#include "resolve/membership.h"
#include "resolve/phases.h"
#include "resolve/project.h"
#include "resolve/projection.h"
#include "resolve/services.h"
#include "resolve/suggest.h"
#include "resolve/zones.h"

namespace nftpolicy::resolve {

namespace {

// The host to compile for: the one named in the options, else the policy's
// only host. nullptr when there is none (no [hosts] at all: check only) and
// after reporting an unknown or ambiguous choice.
const policy::Host* select_host(const policy::Policy& policy, const ResolveOptions& options,
                                Diagnostics& diags) {
    std::vector<std::string> names = keys_of(policy.hosts);
    if (!options.host.empty()) {
        auto it = policy.hosts.find(options.host);
        if (it != policy.hosts.end()) return &it->second;
        auto& d = diags.error(options.cli_span, "unknown host '" + options.host + "'" +
                                                    did_you_mean(options.host, names));
        add_note(d, {},
                 names.empty() ? "the policy declares no [hosts] table"
                               : "the policy declares hosts " + quoted_list(names));
        return nullptr;
    }
    if (names.size() == 1) return &policy.hosts.begin()->second;
    if (names.size() > 1) {
        std::string list;
        for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
        diags.error(options.cli_span,
                    "policy declares several hosts (" + list + "); choose one with --host");
    }
    return nullptr;
}

// Every interface of a gateway's zones, once, sorted.
std::vector<std::string> zone_interfaces(const std::vector<ResolvedZone>& zones) {
    std::set<std::string> names;
    for (const auto& z : zones) names.insert(z.interfaces.begin(), z.interfaces.end());
    return {names.begin(), names.end()};
}

// `[baseline] flowtable = true` asks every gateway for a flowtable on its
// zone interfaces: a gateway without zones has none to give it.
void check_flowtable(const policy::Policy& policy, const policy::Host& host, Diagnostics& diags) {
    const policy::FlowtableSetting& ft = policy.baseline.flowtable;
    if (ft.mode != policy::FlowtableMode::on || host.mode != policy::HostMode::gateway || !host.zones.empty()) return;
    auto& d = diags.error(ft.span, "flowtable = true needs the interfaces of gateway '" + host.name +
                                       "', which declares no zones");
    add_note(d, host.span, "declare its [hosts." + host.name + ".zones], or set flowtable = \"auto\" "
                           "(no flowtable where the interfaces are unknown)");
}

// The pieces of one resolve run, built in an order that reports problems
// from the general (host, options, groups) to the specific (flows).
class Resolver {
  public:
    Resolver(const policy::Policy& policy, const ResolveOptions& options, Diagnostics& diags)
        : policy_(policy),
          diags_(diags),
          host_(select_host(policy, options, diags)),
          migrations_(policy, options, diags),
          groups_(policy, diags),
          services_(policy) {}

    Projection run();

  private:
    void prepare_hosts();
    void add_management(Projection& out);
    void add_flows(Projection& out);
    void add_sources(const policy::Flow& flow, std::size_t first, Projection& out) const;

    const policy::Policy& policy_;
    Diagnostics& diags_;
    const policy::Host* host_;
    MigrationState migrations_;
    GroupEvaluator groups_;
    ServiceTable services_;
    std::optional<HostMembership> membership_;
    std::vector<ResolvedZone> zones_;
};

Projection Resolver::run() {
    groups_.evaluate_all();
    prepare_hosts();
    Projection out;
    if (host_) {
        out.host = host_->name;
        out.mode = host_->mode;
    }
    out.table = policy_.table;
    out.drift = policy_.drift.mode;
    out.baseline = policy_.baseline;
    out.phases = migrations_.phases();
    out.flipped_gates = migrations_.flipped_gates();
    out.interfaces = zone_interfaces(zones_);
    if (host_) out.interfaces_span = host_->span;
    add_management(out);
    add_flows(out);
    return out;
}

// Every host's roles and zones are checked, not only the selected one's, so
// that one run validates the policy every machine of the site receives.
void Resolver::prepare_hosts() {
    for (const auto& [name, host] : policy_.hosts) {
        HostMembership membership(host, groups_, diags_);
        check_flowtable(policy_, host, diags_);
        std::optional<std::vector<ResolvedZone>> zones;
        if (host.mode == policy::HostMode::gateway) zones = resolve_zones(host, groups_);
        if (&host != host_) continue;
        membership_.emplace(membership);
        if (zones) zones_ = std::move(*zones);
    }
}

void Resolver::add_management(Projection& out) {
    if (!policy_.management) return;
    const policy::Management& management = *policy_.management;
    std::vector<policy::NameRef> refs = management.services;
    if (refs.empty()) refs.push_back(policy::NameRef{"ssh", management.span});
    auto from = groups_.evaluate_used(management.from);
    auto services = services_.find_all(refs, diags_);
    if (!from || !services || !membership_) return;
    if (auto flow = management_flow(management, *from, *services, *membership_, diags_)) {
        flow->src.sources = groups_.sources(management.from);
        out.flows.push_back(std::move(*flow));
    }
}

void Resolver::add_flows(Projection& out) {
    std::set<std::string> disabled = disabled_ids(policy_, diags_);
    Target target{membership_ ? &*membership_ : nullptr,
                  host_ ? host_->mode : policy::HostMode::host, policy_.baseline.egress, &zones_};
    for (const auto& flow : policy_.flows) {
        if (disabled.count(flow.id)) continue;
        bool lifecycle_ok = migrations_.check_flow(flow, diags_);
        auto outcome = resolve_flow(flow, groups_, services_, diags_);
        if (!outcome || !lifecycle_ok) continue;
        if (auto* omitted = std::get_if<OmittedFlow>(&*outcome)) {
            out.omitted.push_back(std::move(*omitted));
            continue;
        }
        if (!target.host || !migrations_.is_active(flow)) continue;
        const std::size_t first = out.flows.size();
        project_flow(std::get<ResolvedFlow>(*outcome), target, out.flows);
        add_sources(flow, first, out);
        if (!flow.retired_by) continue;
        const policy::SeenSettings& seen = policy_.migrations.at(flow.retired_by->migration).seen;
        for (std::size_t i = first; i < out.flows.size(); ++i) out.flows[i].seen = seen;
    }
}

// Every projection of a flow takes its source from `from` and its
// destination from `to`, whatever the direction.
void Resolver::add_sources(const policy::Flow& flow, std::size_t first, Projection& out) const {
    if (first == out.flows.size()) return;
    std::vector<AddrSource> from = groups_.sources(flow.from);
    std::vector<AddrSource> to = groups_.sources(flow.to);
    for (std::size_t i = first; i < out.flows.size(); ++i) {
        out.flows[i].src.sources = from;
        out.flows[i].dst.sources = to;
    }
}

}  // namespace

bool check_options(const policy::Policy& policy, const ResolveOptions& options, Diagnostics& diags) {
    const std::size_t before = diags.error_count();
    select_host(policy, options, diags);
    for (const auto& [name, phase] : options.phase_of) find_migration(policy, name, options.cli_span, diags);
    for (const auto& text : options.flipped_gates) check_gate_text(policy, text, options.cli_span, diags);
    return diags.error_count() == before;
}

std::optional<Projection> resolve_policy(const policy::Policy& policy,
                                         const ResolveOptions& options, Diagnostics& diags) {
    std::size_t errors_before = diags.error_count();
    Projection projection = Resolver(policy, options, diags).run();
    if (diags.error_count() > errors_before) return std::nullopt;
    return projection;
}

}  // namespace nftpolicy::resolve
