// Lowering: a host projection becomes the ruleset IR (see lower.h and
// docs/classification.md for the shape and why it keeps per-packet cost flat).
//
// Order of work: counters, address sets and the dynamic "seen" sets of legacy
// flows first (in flow order, so listings read like the policy), then per
// direction the port pieces with their chains and verdict-map elements, then
// the base chains with the baseline rules.
#include "ir/lower.h"

#include <algorithm>
#include <optional>

#include "ir/port_pieces.h"
#include "ir/split_sets.h"

namespace nftpolicy::ir {

// `seen_<migration>.<gate>_v4` (or `seen_<migration>_v4` for a flow retired
// by the whole migration): migration and gate names hold no '.', so names
// cannot collide, and nft accepts '.' and '-' in set names.
std::string seen_set_name(const std::string& gate, net::Family f) {
    return "seen_" + gate + (f == net::Family::ipv4 ? "_v4" : "_v6");
}

namespace {
constexpr std::string_view kFlowCounterPrefix = "flow_";
}

const char* const kFlowtableName = "fastpath";

std::string flow_counter_name(const std::string& flow_id) { return std::string(kFlowCounterPrefix) + flow_id; }

std::string flow_of_counter(const std::string& counter) {
    return counter.starts_with(kFlowCounterPrefix) ? counter.substr(kFlowCounterPrefix.size()) : counter;
}

namespace {

using resolve::Direction;
using resolve::Endpoint;
using resolve::ProjectedFlow;

constexpr net::Family kFamilies[] = {net::Family::ipv4, net::Family::ipv6};

// nft limits (bytes): comments 128, log prefixes 127 (NF_LOG_PREFIXLEN - 1).
constexpr std::size_t kMaxComment = 128;
constexpr std::size_t kMaxLogPrefix = 127;

// ICMP types the baseline lets through (IPv4 error reporting, IPv6 neighbour
// discovery and MLD: without them path MTU discovery and IPv6 itself break).
constexpr std::uint8_t kIcmpErrors[] = {3, 11, 12};
constexpr std::uint8_t kIcmpv6Errors[] = {1, 2, 3, 4};
constexpr std::uint8_t kIcmpv6InputControl[] = {1, 2, 3, 4, 130, 131, 133, 134, 135, 136, 143};
constexpr std::uint8_t kIcmpv6OutputControl[] = {131, 133, 135, 136, 143};
constexpr std::uint8_t kIcmpEcho = 8;
constexpr std::uint8_t kIcmpv6Echo = 128;

constexpr std::uint32_t kCtInvalid = 1;
constexpr std::uint32_t kCtEstablished = 2;
constexpr std::uint32_t kCtEstablishedRelated = 2 | 4;

// ---- names and text -----------------------------------------------------

// nft strings cannot escape a double quote or hold a newline, and have a byte
// limit; cut at a UTF-8 character boundary so the text stays valid.
std::string clean_text(std::string_view text, std::size_t max_bytes) {
    std::string out;
    for (char c : text) {
        if (c == '"')
            out += '\'';
        else if (static_cast<unsigned char>(c) < 0x20)
            out += ' ';
        else
            out += c;
    }
    if (out.size() <= max_bytes) return out;
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;
    out.resize(cut);
    return out;
}

bool is_plain_group_name(std::string_view label) {
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (label.empty() || !alpha(label[0])) return false;
    return std::all_of(label.begin(), label.end(),
                       [&](char c) { return alpha(c) || digit(c) || c == '_' || c == '-'; });
}

std::uint32_t fnv1a32(std::string_view text) {
    std::uint32_t h = 2166136261u;
    for (char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 16777619u;
    }
    return h;
}

std::string hex8(std::uint32_t v) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(8, '0');
    for (int i = 7; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = kDigits[v & 0xf];
    return out;
}

// A group name stays readable in the ruleset; an expression like
// "backend & agent_handler" is not a valid identifier, so it gets a stable hash.
// `n` > 1 numbers a name taken by another label.
std::string set_name(std::string_view label, net::Family f, int n = 1) {
    std::string base =
        is_plain_group_name(label) ? "g_" + std::string(label) : "x_" + hex8(fnv1a32(label));
    if (n > 1) base += "_" + std::to_string(n);
    return base + (f == net::Family::ipv4 ? "_v4" : "_v6");
}

const char* dir_prefix(Direction d) {
    switch (d) {
        case Direction::input:
            return "in";
        case Direction::output:
            return "out";
        case Direction::forward:
            return "fwd";
    }
    return "in";
}

const char* proto_name(std::uint8_t proto) {
    return proto == kProtoTcp ? "tcp" : "udp";
}

std::string counter_name(const ProjectedFlow& flow) {
    return flow_counter_name(flow.id);
}

bool records_users(const ProjectedFlow& flow) {
    return flow.lifecycle == resolve::Lifecycle::legacy;
}

std::string piece_chain_name(Direction d, std::uint8_t proto, const PortPiece& piece) {
    std::string ports = std::to_string(piece.lo);
    if (piece.hi != piece.lo) ports += "-" + std::to_string(piece.hi);
    return std::string(dir_prefix(d)) + "_" + proto_name(proto) + "_" + ports;
}

// ---- statements ---------------------------------------------------------

RateUnit rate_unit(policy::RateUnit u) {
    switch (u) {
        case policy::RateUnit::second:
            return RateUnit::second;
        case policy::RateUnit::minute:
            return RateUnit::minute;
        case policy::RateUnit::hour:
            return RateUnit::hour;
        case policy::RateUnit::day:
            return RateUnit::day;
    }
    return RateUnit::second;
}

Limit limit_of(const policy::Rate& r) {
    return Limit{r.count, rate_unit(r.unit), r.burst};
}

ChainPolicy chain_policy(policy::ChainPolicy p) {
    switch (p) {
        case policy::ChainPolicy::accept:
            return ChainPolicy::accept;
        case policy::ChainPolicy::drop:
            return ChainPolicy::drop;
    }
    return ChainPolicy::drop;
}

template <std::size_t N>
MatchIcmpType icmp_match(net::Family f, const std::uint8_t (&types)[N]) {
    return MatchIcmpType{f, std::vector<std::uint8_t>(types, types + N)};
}

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

// ---- the lowering itself ------------------------------------------------

// What one endpoint contributes to a rule of one family.
struct SideMatch {
    bool possible = true;            // false: the side has no address of this family
    std::optional<std::string> set;  // the set to match; none: any address
};

class Lowering {
  public:
    explicit Lowering(const resolve::Projection& p) : p_(p) { table_.name = p.table; }

    Table run();

  private:
    bool active(const ProjectedFlow& flow) const {
        return flow.direction != Direction::output || p_.baseline.egress;
    }
    void add_counter(const ProjectedFlow& flow);
    void register_set(const Endpoint& side, net::Family f);
    const AddrSet* find_set(const Endpoint& side, net::Family f) const;
    std::string set_for(const Endpoint& side, net::Family f) const;
    void register_flow_sets(const ProjectedFlow& flow);
    void register_seen_sets(const ProjectedFlow& flow);
    SideMatch side_match(const Endpoint& side, net::Family f) const;
    std::optional<std::vector<Stmt>> family_matches(const ProjectedFlow& flow,
                                                         net::Family f) const;
    std::vector<Stmt> interface_matches(const ProjectedFlow& flow) const;
    std::vector<std::vector<Stmt>> rule_prefixes(const ProjectedFlow& flow) const;
    Rule flow_rule(const ProjectedFlow& flow, std::vector<Stmt> stmts) const;
    Rule seen_rule(const ProjectedFlow& flow, net::Family f, std::vector<Stmt> stmts) const;
    std::vector<Rule> seen_rules(const ProjectedFlow& flow) const;
    std::vector<Rule> icmp_rules(Direction d) const;
    void lower_services(Direction d);
    void lower_protocol(Direction d, std::uint8_t proto, ServiceMap& map);
    Rule baseline_rule(std::vector<Stmt> stmts) const;
    void add_tail(Chain& chain, Direction d, const char* hook_word);
    Chain base_chain(const char* name, Hook hook, ChainPolicy policy) const;
    std::optional<Flowtable> flowtable() const;
    Chain input_chain();
    Chain forward_chain();
    Chain output_chain();

    const resolve::Projection& p_;
    Table table_;
    std::vector<std::string> set_labels_;  // the label of each of table_.sets
    std::vector<Chain> piece_chains_;
};

void Lowering::add_counter(const ProjectedFlow& flow) {
    std::string name = counter_name(flow);
    for (const auto& c : table_.counters)
        if (c.name == name) return;
    std::string comment =
        flow.comment.empty() ? flow.src.label + " -> " + flow.dst.label : flow.comment;
    table_.counters.push_back(Counter{name, clean_text(comment, kMaxComment), flow.span});
}

// A flow opens family f only if it has a service there: ports (either
// family) or ICMP types of that family.
bool uses_family(const ProjectedFlow& flow, net::Family f) {
    bool icmp = !(f == net::Family::ipv4 ? flow.icmp : flow.icmpv6).empty();
    return icmp || !flow.tcp.empty() || !flow.udp.empty();
}

// The entries of one family that fill a side's set, for kernel errors on
// its elements (files share their lists: nothing is copied per address).
std::vector<ElementSource> element_sources(const Endpoint& side, net::Family f) {
    std::vector<ElementSource> out;
    for (const resolve::AddrSource& s : side.sources) {
        if (!s.addrs.empty(f)) out.push_back(ElementSource{s.addrs.family(f), s.span});
    }
    return out;
}

// Sets are shared: every flow naming the same group matches the same set.
// Plain names are unique group names, but two expressions could hash alike
// (a 32-bit FNV collision); the later one then gets a numbered name, because
// silently matching the other expression's addresses would open the wrong hosts.
void Lowering::register_set(const Endpoint& side, net::Family f) {
    if (find_set(side, f)) return;
    auto taken = [&](const std::string& name) {
        return std::any_of(table_.sets.begin(), table_.sets.end(),
                           [&](const AddrSet& s) { return s.name == name; });
    };
    std::string name = set_name(side.label, f);
    for (int n = 2; taken(name); ++n) name = set_name(side.label, f, n);
    std::string comment =
        is_plain_group_name(side.label) ? "" : clean_text(side.label, kMaxComment);
    table_.sets.push_back(
        AddrSet{name, f, side.addrs.family(f), comment, side.span, element_sources(side, f)});
    set_labels_.push_back(side.label);
}

// The set made for this label, family and content, or nullptr. Content is
// compared too, so a label can never stand for two different address sets.
const AddrSet* Lowering::find_set(const Endpoint& side, net::Family f) const {
    for (std::size_t i = 0; i < table_.sets.size(); ++i) {
        const AddrSet& s = table_.sets[i];
        if (set_labels_[i] == side.label && s.family == f && s.elements == side.addrs.family(f))
            return &s;
    }
    return nullptr;
}

// The name of the set for one side and family (before registration: the name
// it will get unless it collides).
std::string Lowering::set_for(const Endpoint& side, net::Family f) const {
    const AddrSet* s = find_set(side, f);
    return s ? s->name : set_name(side.label, f);
}

// Only the sets some rule will match are created, in flow order (source
// before destination, IPv4 before IPv6).
void Lowering::register_flow_sets(const ProjectedFlow& flow) {
    for (const Endpoint* side : {&flow.src, &flow.dst}) {
        for (net::Family f : kFamilies) {
            if (!uses_family(flow, f) || !family_matches(flow, f)) continue;
            if (side_match(*side, f).set) register_set(*side, f);
        }
    }
}

// A legacy flow records who still uses it in one dynamic set per retiring
// gate and family, for each family it opens (the rules below update it).
void Lowering::register_seen_sets(const ProjectedFlow& flow) {
    if (!records_users(flow)) return;
    for (net::Family f : kFamilies) {
        if (!uses_family(flow, f) || !family_matches(flow, f)) continue;
        std::string name = seen_set_name(flow.gate, f);
        auto same = [&](const DynamicSet& s) { return s.name == name; };
        if (std::any_of(table_.dynamic_sets.begin(), table_.dynamic_sets.end(), same)) continue;
        std::string comment = clean_text("who still uses flows retired by " + flow.gate, kMaxComment);
        table_.dynamic_sets.push_back(DynamicSet{name, f, std::uint64_t{flow.seen.timeout} * 1000,
                                                 flow.seen.size, comment, flow.seen.span});
    }
}

SideMatch Lowering::side_match(const Endpoint& side, net::Family f) const {
    if (!side.match || side.addrs.full(f)) return {};
    if (side.addrs.empty(f)) return {false, std::nullopt};
    return {true, set_for(side, f)};
}

// The address matches of one family, or nullopt when a side cannot match it
// (then the flow must not open that family at all).
std::optional<std::vector<Stmt>> Lowering::family_matches(const ProjectedFlow& flow,
                                                               net::Family f) const {
    bool covered = f == net::Family::ipv4 ? flow.ipv4 : flow.ipv6;
    if (!covered) return std::nullopt;
    std::vector<Stmt> out;
    const std::pair<const Endpoint*, MatchAddrSet::Field> sides[] = {
        {&flow.src, MatchAddrSet::Field::saddr}, {&flow.dst, MatchAddrSet::Field::daddr}};
    for (auto [side, field] : sides) {
        SideMatch m = side_match(*side, f);
        if (!m.possible) return std::nullopt;
        if (m.set) out.push_back(Stmt{MatchAddrSet{f, field, *m.set}, side->span});
    }
    return out;
}

std::vector<Stmt> Lowering::interface_matches(const ProjectedFlow& flow) const {
    std::vector<Stmt> out;
    if (!flow.iifnames.empty())
        out.push_back(MatchInterface{MatchInterface::Dir::in, true, sorted_unique(flow.iifnames)});
    if (!flow.oifnames.empty())
        out.push_back(MatchInterface{MatchInterface::Dir::out, true, sorted_unique(flow.oifnames)});
    return out;
}

// The match part of each rule a flow needs in a piece chain: one per family,
// or a single family-less rule when neither family needs an address match.
std::vector<std::vector<Stmt>> Lowering::rule_prefixes(const ProjectedFlow& flow) const {
    auto v4 = family_matches(flow, net::Family::ipv4);
    auto v6 = family_matches(flow, net::Family::ipv6);
    auto prefix = interface_matches(flow);
    if (v4 && v6 && v4->empty() && v6->empty()) return {prefix};
    std::vector<std::vector<Stmt>> out;
    for (auto [f, m] : {std::pair{net::Family::ipv4, &v4}, std::pair{net::Family::ipv6, &v6}}) {
        if (!*m) continue;
        auto stmts = prefix;
        if ((*m)->empty()) stmts.push_back(Stmt{MatchNfproto{f}, flow.span});
        stmts.insert(stmts.end(), (*m)->begin(), (*m)->end());
        out.push_back(std::move(stmts));
    }
    return out;
}

Rule Lowering::flow_rule(const ProjectedFlow& flow, std::vector<Stmt> stmts) const {
    stmts.push_back(Stmt{CounterStmt{counter_name(flow)}, flow.span});
    stmts.push_back(Stmt{Verdict{Verdict::Kind::accept, {}}, flow.span});
    return Rule{std::move(stmts), clean_text("flow:" + flow.id, kMaxComment), flow.span};
}

// `MATCHES update @seen_… { ip saddr } counter name "flow_…" accept`: records
// the remote side of the flow (the source, or the destination of an output
// flow, where the host is the source) and accepts, so that a connection of a
// legacy flow costs one address lookup, not one to record and one to accept
// (issue 11). The kernel ends a rule whose set update fails (set full): the
// flow's plain accept rule follows this one and takes the connection then,
// so a full set stops the recording, never the flow. Both rules count in the
// flow's named counter.
Rule Lowering::seen_rule(const ProjectedFlow& flow, net::Family f,
                         std::vector<Stmt> stmts) const {
    auto field = flow.direction == Direction::output ? MatchAddrSet::Field::daddr
                                                     : MatchAddrSet::Field::saddr;
    stmts.push_back(Stmt{UpdateSet{f, field, seen_set_name(flow.gate, f)}, flow.seen.span});
    return flow_rule(flow, std::move(stmts));
}

// The seen rules of a flow in a piece chain, one per family it can match.
std::vector<Rule> Lowering::seen_rules(const ProjectedFlow& flow) const {
    std::vector<Rule> out;
    if (!records_users(flow)) return out;
    for (net::Family f : kFamilies) {
        auto addr = family_matches(flow, f);
        if (!addr) continue;
        auto stmts = interface_matches(flow);
        stmts.insert(stmts.end(), addr->begin(), addr->end());
        out.push_back(seen_rule(flow, f, std::move(stmts)));
    }
    return out;
}

std::vector<std::uint8_t> icmp_types(const std::vector<policy::IcmpType>& types) {
    std::vector<std::uint8_t> out;
    for (const auto& t : types) out.push_back(t.type);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// The ICMP types a flow opens in one family were written in its services:
// the first of them stands for the list.
SourceSpan icmp_span(const ProjectedFlow& flow, net::Family f) {
    const auto& types = f == net::Family::ipv4 ? flow.icmp : flow.icmpv6;
    return types.empty() ? flow.span : types.front().span;
}

// ICMP flows sit in the base chain: `icmp type` already implies the family.
std::vector<Rule> Lowering::icmp_rules(Direction d) const {
    std::vector<Rule> out;
    for (const auto& flow : p_.flows) {
        if (flow.direction != d || !active(flow)) continue;
        for (net::Family f : kFamilies) {
            auto types = icmp_types(f == net::Family::ipv4 ? flow.icmp : flow.icmpv6);
            auto addr = family_matches(flow, f);
            if (types.empty() || !addr) continue;
            // The type test goes first: its protocol check rejects every
            // TCP/UDP packet before any address-set lookup is spent on it.
            auto stmts = interface_matches(flow);
            stmts.push_back(Stmt{MatchIcmpType{f, std::move(types)}, icmp_span(flow, f)});
            stmts.insert(stmts.end(), addr->begin(), addr->end());
            if (records_users(flow)) out.push_back(seen_rule(flow, f, stmts));
            out.push_back(flow_rule(flow, std::move(stmts)));
        }
    }
    return out;
}

// The port (range) of a flow's services that covers part of a piece.
SourceSpan port_span(const ProjectedFlow& flow, std::uint8_t proto, const PortPiece& piece) {
    for (const auto& r : proto == kProtoTcp ? flow.tcp : flow.udp) {
        if (r.lo <= piece.hi && piece.lo <= r.hi) return r.span;
    }
    return flow.span;
}

void Lowering::lower_protocol(Direction d, std::uint8_t proto, ServiceMap& map) {
    std::vector<OwnedPortRange> ranges;
    for (std::size_t i = 0; i < p_.flows.size(); ++i) {
        const auto& flow = p_.flows[i];
        if (flow.direction != d || !active(flow)) continue;
        for (const auto& r : proto == kProtoTcp ? flow.tcp : flow.udp)
            ranges.push_back({r.lo, r.hi, i});
    }
    for (const auto& piece : split_port_ranges(ranges)) {
        Chain chain{
            piece_chain_name(d, proto, piece), std::nullopt, {}, p_.flows[piece.owners[0]].span};
        for (std::size_t owner : piece.owners) {
            const ProjectedFlow& flow = p_.flows[owner];
            for (auto& r : seen_rules(flow)) chain.rules.push_back(std::move(r));
            for (auto& prefix : rule_prefixes(flow))
                chain.rules.push_back(flow_rule(flow, std::move(prefix)));
        }
        if (chain.rules.empty()) continue;  // no family can match: nothing to jump to
        const SourceSpan span = port_span(p_.flows[piece.owners[0]], proto, piece);
        map.elements.push_back(ServiceMapElement{proto, piece.lo, piece.hi, chain.name, span});
        piece_chains_.push_back(std::move(chain));
    }
}

void Lowering::lower_services(Direction d) {
    ServiceMap map{std::string(dir_prefix(d)) + "_svc", {}, p_.baseline.span};
    lower_protocol(d, kProtoTcp, map);
    lower_protocol(d, kProtoUdp, map);
    if (!map.elements.empty()) table_.maps.push_back(std::move(map));
}

Rule Lowering::baseline_rule(std::vector<Stmt> stmts) const {
    return Rule{std::move(stmts), {}, p_.baseline.span};
}

Chain Lowering::base_chain(const char* name, Hook hook, ChainPolicy policy) const {
    Chain chain{name, BaseChain{hook, 0, policy}, {}, p_.baseline.span};
    chain.rules.push_back(baseline_rule({MatchCtState{kCtEstablishedRelated}, Verdict{}}));
    chain.rules.push_back(
        baseline_rule({MatchCtState{kCtInvalid}, Verdict{Verdict::Kind::drop, {}}}));
    return chain;
}

// Flow ICMP rules, the service lookup and the drop log close every base chain.
void Lowering::add_tail(Chain& chain, Direction d, const char* hook_word) {
    for (auto& r : icmp_rules(d)) chain.rules.push_back(std::move(r));
    std::string map = std::string(dir_prefix(d)) + "_svc";
    bool has_map = std::any_of(table_.maps.begin(), table_.maps.end(),
                               [&](const auto& m) { return m.name == map; });
    if (has_map) chain.rules.push_back(baseline_rule({ServiceVmap{map}}));
    if (!p_.baseline.log_drops) return;
    std::string prefix =
        clean_text(p_.baseline.log_prefix + " " + hook_word + " drop: ", kMaxLogPrefix);
    chain.rules.push_back(
        baseline_rule({Stmt{limit_of(p_.baseline.log_rate), p_.baseline.log_rate.span}, Log{prefix}}));
}

Chain Lowering::input_chain() {
    Chain chain = base_chain("input", Hook::input, chain_policy(p_.baseline.input));
    Stmt echo{limit_of(p_.baseline.echo_rate), p_.baseline.echo_rate.span};
    chain.rules.push_back(
        baseline_rule({MatchInterface{MatchInterface::Dir::in, false, {"lo"}}, Verdict{}}));
    chain.rules.push_back(baseline_rule({icmp_match(net::Family::ipv4, kIcmpErrors), Verdict{}}));
    chain.rules.push_back(
        baseline_rule({MatchIcmpType{net::Family::ipv4, {kIcmpEcho}}, echo, Verdict{}}));
    chain.rules.push_back(
        baseline_rule({icmp_match(net::Family::ipv6, kIcmpv6InputControl), Verdict{}}));
    chain.rules.push_back(
        baseline_rule({MatchIcmpType{net::Family::ipv6, {kIcmpv6Echo}}, echo, Verdict{}}));
    add_tail(chain, Direction::input, "input");
    return chain;
}

// A gateway's fast path ([baseline] flowtable, docs/policy-language.md) on
// its zone interfaces; a host, or a gateway whose interfaces are unknown,
// forwards nothing through one.
std::optional<Flowtable> Lowering::flowtable() const {
    const policy::FlowtableSetting& ft = p_.baseline.flowtable;
    if (p_.mode != policy::HostMode::gateway || ft.mode == policy::FlowtableMode::off || p_.interfaces.empty())
        return std::nullopt;
    const SourceSpan span = ft.span.valid() ? ft.span : p_.interfaces_span;
    return Flowtable{kFlowtableName, p_.interfaces, 0, true, ft.mode == policy::FlowtableMode::on, span};
}

// With a flowtable, the forward chain's first rule offloads established TCP
// and UDP flows. It must come before `ct state established,related accept`,
// which would end the chain for them; `flow add` ends its rule without a
// verdict, so every packet goes on to the rules below, and a connection the
// rules never accepted is never confirmed, hence never offloaded. New
// connections take every rule of the policy as before.
Chain Lowering::forward_chain() {
    Chain chain = base_chain("forward", Hook::forward, chain_policy(p_.baseline.forward));
    if (table_.flowtable) {
        Rule offload{{MatchCtState{kCtEstablished}, MatchL4proto{{kProtoTcp, kProtoUdp}},
                      Stmt{FlowOffload{table_.flowtable->name}, table_.flowtable->span}},
                     {},
                     table_.flowtable->span};
        chain.rules.insert(chain.rules.begin(), std::move(offload));
    }
    chain.rules.push_back(baseline_rule({icmp_match(net::Family::ipv4, kIcmpErrors), Verdict{}}));
    chain.rules.push_back(baseline_rule({icmp_match(net::Family::ipv6, kIcmpv6Errors), Verdict{}}));
    add_tail(chain, Direction::forward, "forward");
    return chain;
}

Chain Lowering::output_chain() {
    Chain chain = base_chain("output", Hook::output, ChainPolicy::drop);
    chain.rules.push_back(
        baseline_rule({MatchInterface{MatchInterface::Dir::out, false, {"lo"}}, Verdict{}}));
    chain.rules.push_back(
        baseline_rule({icmp_match(net::Family::ipv6, kIcmpv6OutputControl), Verdict{}}));
    chain.rules.push_back(baseline_rule({icmp_match(net::Family::ipv4, kIcmpErrors), Verdict{}}));
    chain.rules.push_back(baseline_rule({icmp_match(net::Family::ipv6, kIcmpv6Errors), Verdict{}}));
    add_tail(chain, Direction::output, "output");
    return chain;
}

Table Lowering::run() {
    for (const auto& flow : p_.flows) {
        if (!active(flow)) continue;
        add_counter(flow);
        register_flow_sets(flow);
        register_seen_sets(flow);
    }
    for (Direction d : {Direction::input, Direction::forward, Direction::output})
        if (d != Direction::output || p_.baseline.egress) lower_services(d);
    // Regular chains must exist before the maps that jump to them are filled,
    // and nft lists chains in creation order: pieces first, then base chains.
    table_.flowtable = flowtable();
    table_.chains = std::move(piece_chains_);
    table_.chains.push_back(input_chain());
    table_.chains.push_back(forward_chain());
    if (p_.baseline.egress) table_.chains.push_back(output_chain());
    return std::move(table_);
}

}  // namespace

Table lower(const resolve::Projection& projection) {
    return split_address_sets(Lowering(projection).run());
}

}  // namespace nftpolicy::ir
