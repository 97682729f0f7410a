// Reachability of this machine's services through a compiled table; see reach.h.
#include "ir/reach.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace nftpolicy::ir {

namespace {

using Addrs = net::AddrSet;

constexpr int kMaxJumpDepth = 16;  // nft allows 16 levels of jumps too
constexpr std::uint32_t kCtNew = 8;
constexpr const char* kManagementComment = "flow:management";

Addrs only_family(const Addrs& in, net::Family f) {
    Addrs out;
    (f == net::Family::ipv4 ? out.v4 : out.v6) = in.family(f);
    return out;
}

const Addrs kNone{};

// What one evaluation of a chain did with the addresses that entered it.
struct Flow {
    Addrs accepted;
    Addrs rest;  // fell through (or returned)
};

class Evaluator {
  public:
    Evaluator(const Table& t, const Service& s) : table_(t), service_(s) {}

    Flow chain(const Chain& c, Addrs in, int depth) const {
        Flow out;
        for (const Rule& r : c.rules) {
            if (in.empty()) break;
            rule(r, in, out, depth);
        }
        out.rest = net::set_union(out.rest, in);  // returned, and what fell through
        return out;
    }

  private:
    // Narrows `in` by one match statement; verdicts and actions keep it.
    Addrs filter(const Statement& s, const Addrs& in) const {
        return std::visit([&](const auto& st) { return match(st, in); }, s);
    }

    Addrs match(const MatchNfproto& m, const Addrs& in) const { return only_family(in, m.family); }
    Addrs match(const MatchL4proto& m, const Addrs& in) const {
        return std::ranges::find(m.protos, service_.l4proto) != m.protos.end() ? in : kNone;
    }
    Addrs match(const MatchInterface& m, const Addrs& in) const {
        // Not loopback; any other interface a zone names may be the one.
        const bool lo = std::ranges::find(m.names, "lo") != m.names.end() && m.names.size() == 1;
        return m.dir == MatchInterface::Dir::in && lo ? kNone : in;
    }
    Addrs match(const MatchAddrSet& m, const Addrs& in) const {
        const Addrs* set = addresses(m.set);
        if (!set) return kNone;
        if (m.field == MatchAddrSet::Field::daddr)
            return set->empty() ? kNone : only_family(in, m.family);
        return net::set_intersection(only_family(in, m.family), *set);
    }
    Addrs match(const MatchCtState& m, const Addrs& in) const {
        return (m.mask & kCtNew) ? in : kNone;
    }
    Addrs match(const MatchIcmpType&, const Addrs&) const { return kNone; }
    Addrs match(const MatchDport& m, const Addrs& in) const {
        if (m.l4proto != service_.l4proto) return kNone;
        for (const auto& [lo, hi] : m.ranges) {
            if (lo <= service_.port && service_.port <= hi) return in;
        }
        return kNone;
    }
    template <typename T>
    Addrs match(const T&, const Addrs& in) const {  // limit, counter, log, update, verdict, vmap
        return in;
    }

    const Addrs* addresses(const std::string& name) const {
        auto it = std::ranges::find(table_.sets, name, &ir::AddrSet::name);
        if (it == table_.sets.end()) return nullptr;
        auto [pos, fresh] = cache_.try_emplace(name);
        if (fresh)
            (it->family == net::Family::ipv4 ? pos->second.v4 : pos->second.v6) = it->elements;
        return &pos->second;
    }

    const Chain* chain_named(const std::string& name) const {
        auto it = std::ranges::find(table_.chains, name, &Chain::name);
        return it == table_.chains.end() ? nullptr : &*it;
    }

    // The chain a service map sends this service to, if any.
    const Chain* vmap_target(const ServiceVmap& v) const {
        auto map = std::ranges::find(table_.maps, v.map, &ServiceMap::name);
        if (map == table_.maps.end()) return nullptr;
        for (const ServiceMapElement& e : map->elements) {
            if (e.l4proto == service_.l4proto && e.port_lo <= service_.port &&
                service_.port <= e.port_hi)
                return chain_named(e.chain);
        }
        return nullptr;
    }

    // Sends `matched` to `target` (a jump); what comes back rejoins `in`.
    void jump(const Chain* target, const Addrs& matched, Addrs& in, Flow& out, int depth) const {
        if (!target || depth >= kMaxJumpDepth) return;
        Flow sub = chain(*target, matched, depth + 1);
        out.accepted = net::set_union(out.accepted, sub.accepted);
        in = net::set_union(net::set_difference(in, matched), sub.rest);
    }

    void verdict(const Verdict& v, const Addrs& matched, Addrs& in, Flow& out, int depth) const {
        switch (v.kind) {
            case Verdict::Kind::accept:
                out.accepted = net::set_union(out.accepted, matched);
                in = net::set_difference(in, matched);
                return;
            case Verdict::Kind::drop:
                in = net::set_difference(in, matched);
                return;
            case Verdict::Kind::jump:
                return jump(chain_named(v.chain), matched, in, out, depth);
            case Verdict::Kind::return_:
                in = net::set_difference(in, matched);
                out.rest = net::set_union(out.rest, matched);
                return;
        }
    }

    void rule(const Rule& r, Addrs& in, Flow& out, int depth) const {
        Addrs matched = in;
        for (const Stmt& s : r.stmts) {
            if (const auto* v = std::get_if<Verdict>(&s.kind))
                return verdict(*v, matched, in, out, depth);
            if (const auto* m = std::get_if<ServiceVmap>(&s.kind)) {
                return jump(vmap_target(*m), matched, in, out, depth);
            }
            matched = filter(s.kind, matched);
            if (matched.empty()) return;
        }
    }

    const Table& table_;
    Service service_;
    mutable std::map<std::string, Addrs> cache_;
};

std::vector<const Chain*> input_chains(const Table& t) {
    std::vector<const Chain*> out;
    for (const Chain& c : t.chains) {
        if (c.base && c.base->hook == Hook::input) out.push_back(&c);
    }
    return out;
}

bool is_management(const Rule& r) {
    return r.comment == kManagementComment;
}

// The services a chain of management rules is reached by: service map
// elements that jump to it, and the rules' own port matches.
void services_to(const Table& t, const Chain& c, std::set<Service>& out) {
    for (const ServiceMap& m : t.maps) {
        for (const ServiceMapElement& e : m.elements) {
            if (e.chain != c.name) continue;
            out.insert({e.l4proto, e.port_lo});
            out.insert({e.l4proto, e.port_hi});
        }
    }
    for (const Rule& r : c.rules) {
        if (!is_management(r)) continue;
        for (const Stmt& s : r.stmts) {
            if (const auto* d = std::get_if<MatchDport>(&s.kind)) {
                for (const auto& [lo, hi] : d->ranges) out.insert({d->l4proto, lo});
            }
        }
    }
}

void sources_of(const Table& t, const Rule& r, Addrs& out) {
    for (const Stmt& s : r.stmts) {
        const auto* m = std::get_if<MatchAddrSet>(&s.kind);
        if (!m || m->field != MatchAddrSet::Field::saddr) continue;
        auto set = std::ranges::find(t.sets, m->set, &ir::AddrSet::name);
        if (set == t.sets.end()) continue;
        for (const net::Interval& iv : set->elements) out.add(set->family, iv);
    }
}

bool contains(const Addrs& s, const SshClient& c) {
    return s.contains(c.family, c.addr);
}

Addrs everything() {
    return net::AddrSet::everything();
}

}  // namespace

std::string service_name(const Service& s) {
    const char* proto = s.l4proto == kProtoTcp ? "tcp" : s.l4proto == kProtoUdp ? "udp" : "proto";
    return fmt::format("{}/{}", proto, s.port);
}

net::AddrSet accepted_sources(const Table& table, const Service& s) {
    const Evaluator eval(table, s);
    std::optional<Addrs> accepted;
    for (const Chain* c : input_chains(table)) {
        Flow f = eval.chain(*c, everything(), 0);
        if (c->base->policy == ChainPolicy::accept) f.accepted = net::set_union(f.accepted, f.rest);
        // Every base chain on the hook must accept the packet.
        accepted = accepted ? net::set_intersection(*accepted, f.accepted) : f.accepted;
    }
    return accepted ? *accepted : everything();
}

Management management_of(const Table& table) {
    std::set<Service> services;
    Management out;
    for (const Chain& c : table.chains) {
        if (std::ranges::none_of(c.rules, is_management)) continue;
        services_to(table, c, services);
        for (const Rule& r : c.rules) {
            if (is_management(r)) sources_of(table, r, out.sources);
        }
    }
    out.services.assign(services.begin(), services.end());
    return out;
}

std::optional<SshClient> parse_ssh_connection(const std::string& text) {
    std::istringstream in(text);
    std::string client, client_port, server, server_port, extra;
    if (!(in >> client >> client_port >> server >> server_port) || (in >> extra))
        return std::nullopt;
    auto addr = net::parse_address(client);
    if (!addr || server_port.empty() || server_port.size() > 5 ||
        server_port.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    const unsigned long port = std::stoul(server_port);
    if (port == 0 || port > 65535) return std::nullopt;
    return SshClient{addr->family, addr->range.lo, static_cast<std::uint16_t>(port)};
}

namespace {

void check_service(const std::optional<Table>& before, const Addrs& sources, const Table& after,
                   const Service& s, std::vector<Cut>& out) {
    Addrs was = before ? net::set_intersection(accepted_sources(*before, s), sources) : Addrs{};
    Addrs cut = net::set_difference(was, accepted_sources(after, s));
    if (!cut.empty()) out.push_back(Cut{s, std::move(cut), false});
}

void check_ssh(const std::optional<Table>& before, const Table& after, const SshClient& ssh,
               std::vector<Cut>& out) {
    const Service s{kProtoTcp, ssh.server_port};
    const bool was = !before || contains(accepted_sources(*before, s), ssh);
    if (!was || contains(accepted_sources(after, s), ssh)) return;
    Addrs one;
    one.add(ssh.family, {ssh.addr, ssh.addr});
    out.push_back(Cut{s, std::move(one), true});
}

}  // namespace

std::vector<Cut> lockout(const std::optional<Table>& before, const Table& after,
                         const std::optional<SshClient>& ssh) {
    std::set<Service> services;
    Addrs sources;
    if (before) {
        Management m = management_of(*before);
        services.insert(m.services.begin(), m.services.end());
        sources = std::move(m.sources);
    }
    for (const Service& s : management_of(after).services) services.insert(s);
    std::vector<Cut> out;
    for (const Service& s : services) check_service(before, sources, after, s, out);
    if (ssh) check_ssh(before, after, *ssh, out);
    return out;
}

std::string describe(const Cut& cut) {
    std::vector<std::string> addrs;
    for (net::Family f : {net::Family::ipv4, net::Family::ipv6}) {
        for (const net::Interval& iv : cut.sources.family(f))
            addrs.push_back(net::format_interval(f, iv));
    }
    constexpr std::size_t kShown = 8;
    std::string more =
        addrs.size() > kShown ? fmt::format(" and {} more", addrs.size() - kShown) : "";
    if (addrs.size() > kShown) addrs.resize(kShown);
    return fmt::format("{} from {}{}{}", service_name(cut.service), fmt::join(addrs, ", "), more,
                       cut.ssh_client ? " (this SSH session's client, $SSH_CONNECTION)" : "");
}

}  // namespace nftpolicy::ir
