// Flow references and address families (see flows.h).
#include "resolve/flows.h"

#include "resolve/suggest.h"

namespace nftpolicy::resolve {

using net::Family;

std::string describe_families(const net::AddrSet& set) {
    bool v4 = !set.empty(Family::ipv4);
    bool v6 = !set.empty(Family::ipv6);
    if (v4 && v6) return "IPv4 and IPv6";
    if (v4) return "IPv4 only";
    if (v6) return "IPv6 only";
    return "empty";
}

namespace {

// The error for a required flow's empty side, with the two ways out.
void report_empty_side(const policy::Flow& flow, const policy::GroupExpr& side,
                       GroupEvaluator& groups) {
    Diagnostic& d = groups.report_empty(side);
    add_note(d, flow.id_span,
             "flow '" + flow.id + "' needs it; a site without this traffic disables the flow with "
             "`disabled_flows = [\"" + flow.id + "\"]`, a profile marks a flow that only some "
             "layouts have `optional = true`");
}

OmittedFlow omitted(const policy::Flow& flow, const net::AddrSet& from) {
    const policy::GroupExpr& side = from.empty() ? flow.from : flow.to;
    return OmittedFlow{flow.id, "'" + side.text + "' resolves to no address", flow.span};
}

}  // namespace

// The ids in `disabled_flows`, each checked to name a flow.
// (A set, not a search of the list: a generated policy may disable tens of
// thousands of flows.)
std::set<std::string> disabled_ids(const policy::Policy& policy, Diagnostics& diags) {
    std::vector<std::string> ids;
    for (const auto& flow : policy.flows) ids.push_back(flow.id);
    const std::set<std::string> known(ids.begin(), ids.end());
    std::set<std::string> disabled;
    for (const auto& ref : policy.disabled_flows) {
        if (!known.count(ref.name)) {
            diags.error(ref.span,
                        "no flow with id '" + ref.name + "'" + did_you_mean(ref.name, ids));
            continue;
        }
        disabled.insert(ref.name);
    }
    return disabled;
}

std::optional<FlowOutcome> resolve_flow(const policy::Flow& flow, GroupEvaluator& groups,
                                        const ServiceTable& services, Diagnostics& diags) {
    // Everything is looked at before giving up, so one run reports it all.
    auto from = groups.evaluate(flow.from);
    const bool from_empty = from && from->empty();
    if (from_empty && !flow.optional) report_empty_side(flow, flow.from, groups);
    auto to = groups.evaluate(flow.to);
    const bool to_empty = to && to->empty();
    if (to_empty && !flow.optional) report_empty_side(flow, flow.to, groups);
    auto found = services.find_all(flow.services, diags);
    if (!from || !to || !found) return std::nullopt;
    if (from_empty || to_empty) {
        if (!flow.optional) return std::nullopt;
        return omitted(flow, *from);
    }

    ResolvedFlow resolved{&flow, *from, *to, *found, false, false};
    // A family is matched only if both ends have it, so that a flow never
    // opens IPv6 (or IPv4) wider than its endpoints say.
    resolved.ipv4 = !from->empty(Family::ipv4) && !to->empty(Family::ipv4);
    resolved.ipv6 = !from->empty(Family::ipv6) && !to->empty(Family::ipv6);
    if (!resolved.ipv4 && !resolved.ipv6) {
        diags.error(flow.span, "flow '" + flow.id + "' can match no address family: 'from' is " +
                                   describe_families(*from) + " and 'to' is " +
                                   describe_families(*to));
        return std::nullopt;
    }
    return resolved;
}

}  // namespace nftpolicy::resolve
