// resolve_site: every flow of the policy, resolved once for the whole site.
#include "resolve/site.h"

#include "resolve/flows.h"
#include "resolve/groups.h"
#include "resolve/phases.h"
#include "resolve/services.h"

namespace nftpolicy::resolve {

namespace {

std::vector<policy::Service> copies(const std::vector<const policy::Service*>& services) {
    std::vector<policy::Service> out;
    for (const auto* service : services) out.push_back(*service);
    return out;
}

SiteFlow site_flow(const ResolvedFlow& resolved, bool active) {
    const policy::Flow& flow = *resolved.flow;
    return SiteFlow{flow.id,           &flow.from,    &flow.to, copies(resolved.services),
                    resolved.ipv4,     resolved.ipv6, active,   flow.retired_by,
                    flow.introduced_by};
}

// The management access, from its group to every host, in every phase.
std::optional<SiteFlow> management(const policy::Policy& policy, GroupEvaluator& groups,
                                   const ServiceTable& services, Diagnostics& diags) {
    if (!policy.management) return std::nullopt;
    const policy::Management& m = *policy.management;
    std::vector<policy::NameRef> refs = m.services;
    if (refs.empty()) refs.push_back(policy::NameRef{"ssh", m.span});
    auto from = groups.evaluate_used(m.from);
    auto found = services.find_all(refs, diags);
    if (!from || !found) return std::nullopt;
    SiteFlow flow{"management", &m.from, nullptr, copies(*found)};
    flow.ipv4 = !from->empty(net::Family::ipv4);
    flow.ipv6 = !from->empty(net::Family::ipv6);
    flow.active = true;
    return flow;
}

}  // namespace

std::optional<Site> resolve_site(const policy::Policy& policy, const ResolveOptions& options,
                                 Diagnostics& diags) {
    const std::size_t errors_before = diags.error_count();
    ResolveOptions site_options = options;
    site_options.host.clear();
    MigrationState migrations(policy, site_options, diags);
    GroupEvaluator groups(policy, diags);
    ServiceTable services(policy);
    groups.evaluate_all();
    Site site{migrations.phases(), migrations.flipped_gates(), {}, {}};
    if (auto m = management(policy, groups, services, diags)) site.flows.push_back(std::move(*m));
    const std::set<std::string> disabled = disabled_ids(policy, diags);
    for (const auto& flow : policy.flows) {
        if (disabled.count(flow.id)) continue;
        const bool lifecycle_ok = migrations.check_flow(flow, diags);
        auto outcome = resolve_flow(flow, groups, services, diags);
        if (!outcome || !lifecycle_ok) continue;
        if (auto* omitted = std::get_if<OmittedFlow>(&*outcome)) {
            site.omitted.push_back(std::move(*omitted));
            continue;
        }
        site.flows.push_back(
            site_flow(std::get<ResolvedFlow>(*outcome), migrations.is_active(flow)));
    }
    if (diags.error_count() > errors_before) return std::nullopt;
    return site;
}

}  // namespace nftpolicy::resolve
