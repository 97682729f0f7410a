// Flow projection per direction (see project.h).
#include "resolve/project.h"

namespace nftpolicy::resolve {

using net::Family;

namespace {

bool is_full(const net::AddrSet& set) {
    return set.full(Family::ipv4) && set.full(Family::ipv6);
}

// A side matched unless it is everything (then matching it is a no-op).
Endpoint matched(const policy::GroupExpr& expr, const net::AddrSet& value) {
    return Endpoint{value, expr.text, !is_full(value), expr.span};
}

Endpoint unmatched(const policy::GroupExpr& expr, const net::AddrSet& value) {
    return Endpoint{value, expr.text, false, expr.span};
}

bool same(const policy::PortRange& a, const policy::PortRange& b) {
    return a.lo == b.lo && a.hi == b.hi;
}
bool same(const policy::IcmpType& a, const policy::IcmpType& b) {
    return a.type == b.type;
}

// Appends the items of `in` that `out` does not hold yet, keeping their order.
template <typename T>
void append_unique(std::vector<T>& out, const std::vector<T>& in) {
    for (const auto& item : in) {
        bool seen = false;
        for (const auto& have : out) seen = seen || same(have, item);
        if (!seen) out.push_back(item);
    }
}

void copy_services(const std::vector<const policy::Service*>& services, ProjectedFlow& out) {
    for (const auto* service : services) {
        append_unique(out.tcp, service->tcp);
        append_unique(out.udp, service->udp);
        append_unique(out.icmp, service->icmp);
        append_unique(out.icmpv6, service->icmpv6);
    }
}

// Everything but the direction and the endpoints.
ProjectedFlow base_of(const ResolvedFlow& resolved) {
    const policy::Flow& flow = *resolved.flow;
    ProjectedFlow out;
    out.id = flow.id;
    out.ipv4 = resolved.ipv4;
    out.ipv6 = resolved.ipv6;
    copy_services(resolved.services, out);
    FlowLifecycle lifecycle = lifecycle_of(flow);
    out.lifecycle = lifecycle.kind;
    out.gate = lifecycle.gate;
    out.comment = flow.comment;
    out.span = flow.span;
    return out;
}

ProjectedFlow with_direction(ProjectedFlow flow, Direction direction, Endpoint src, Endpoint dst) {
    flow.direction = direction;
    flow.src = std::move(src);
    flow.dst = std::move(dst);
    return flow;
}

}  // namespace

void project_flow(const ResolvedFlow& resolved, const Target& target,
                  std::vector<ProjectedFlow>& out) {
    const policy::Flow& flow = *resolved.flow;
    const ProjectedFlow base = base_of(resolved);
    if (target.host->member_of(flow.to, resolved.to)) {
        out.push_back(with_direction(base, Direction::input, matched(flow.from, resolved.from),
                                     unmatched(flow.to, resolved.to)));
    }
    if (target.egress && target.host->member_of(flow.from, resolved.from)) {
        out.push_back(with_direction(base, Direction::output, unmatched(flow.from, resolved.from),
                                     matched(flow.to, resolved.to)));
    }
    if (target.mode != policy::HostMode::gateway) return;
    // One forward flow per path: the rules of each match its interfaces
    // together; all of them share the flow's counter.
    for (auto& path : crossing(*target.zones, resolved.from, resolved.to)) {
        ProjectedFlow forward = with_direction(base, Direction::forward,
                                               matched(flow.from, resolved.from),
                                               matched(flow.to, resolved.to));
        forward.iifnames = std::move(path.iifnames);
        forward.oifnames = std::move(path.oifnames);
        out.push_back(std::move(forward));
    }
}

std::optional<ProjectedFlow> management_flow(const policy::Management& management,
                                             const net::AddrSet& from_set,
                                             const std::vector<const policy::Service*>& services,
                                             const HostMembership& host, Diagnostics& diags) {
    // The host's own addresses limit the families; unknown ones limit nothing.
    net::AddrSet self =
        host.own_addresses().empty() ? net::AddrSet::everything() : host.own_addresses();
    ProjectedFlow out;
    out.id = "management";
    out.direction = Direction::input;
    out.src = matched(management.from, from_set);
    out.dst = Endpoint{self, host.host().name, false, host.host().span};
    out.ipv4 = !from_set.empty(Family::ipv4) && !self.empty(Family::ipv4);
    out.ipv6 = !from_set.empty(Family::ipv6) && !self.empty(Family::ipv6);
    if (!out.ipv4 && !out.ipv6) {
        diags.error(management.span, "management access can match no address family: 'from' is " +
                                         describe_families(from_set) + " and host '" +
                                         host.host().name + "' is " + describe_families(self));
        return std::nullopt;
    }
    copy_services(services, out);
    out.comment = "management access";
    out.span = management.span;
    return out;
}

}  // namespace nftpolicy::resolve
