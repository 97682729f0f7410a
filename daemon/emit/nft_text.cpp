// IR -> nft text, printed the way `nft -s list table inet NAME` (nftables
// 1.0.6) prints the same table: tab indentation, counters, sets, maps, the
// flowtable, then chains, a blank line between blocks, values in nft's canonical spelling.
// Matching the listing byte for byte (up to whitespace) is what lets the test
// suite hold the text emitter, the netlink emitter and the kernel against
// each other.
#include "emit/nft_text.h"

#include <algorithm>
#include <cassert>
#include <optional>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "net/icmp.h"

namespace nftpolicy::emit {

namespace {

using namespace ir;

std::string quote(std::string_view s) {
    return "\"" + std::string(s) + "\"";
}

// `a` for one value, `{ a, b }` for several (nft's anonymous-set form).
std::string value_list(const std::vector<std::string>& values) {
    assert(!values.empty());
    if (values.size() == 1) return values[0];
    std::string out = "{ ";
    for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + values[i];
    return out + " }";
}

std::string family_word(net::Family f) {
    return f == net::Family::ipv4 ? "ip" : "ip6";
}

std::string proto_text(std::uint8_t proto) {
    switch (proto) {
        case kProtoIcmp:
            return "icmp";
        case kProtoTcp:
            return "tcp";
        case kProtoUdp:
            return "udp";
        case kProtoIcmpv6:
            return "ipv6-icmp";  // /etc/protocols' name, which nft prints
    }
    return std::to_string(proto);
}

std::string port_range(std::uint16_t lo, std::uint16_t hi) {
    return lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi);
}

// nft prints conntrack state bits in ascending bit order.
std::string ct_state_text(std::uint32_t mask) {
    static constexpr std::pair<std::uint32_t, const char*> kBits[] = {
        {1, "invalid"}, {2, "established"}, {4, "related"}, {8, "new"}, {64, "untracked"}};
    std::string out;
    for (auto [bit, name] : kBits)
        if (mask & bit) out += (out.empty() ? "" : ",") + std::string(name);
    return out;
}

const char* rate_unit_text(RateUnit u) {
    switch (u) {
        case RateUnit::second:
            return "second";
        case RateUnit::minute:
            return "minute";
        case RateUnit::hour:
            return "hour";
        case RateUnit::day:
            return "day";
    }
    return "second";
}

std::string verdict_text(const Verdict& v) {
    switch (v.kind) {
        case Verdict::Kind::accept:
            return "accept";
        case Verdict::Kind::drop:
            return "drop";
        case Verdict::Kind::jump:
            return "jump " + v.chain;
        case Verdict::Kind::return_:
            return "return";
    }
    return "accept";
}

// ---- statements -----------------------------------------------------------

std::string stmt_text(const MatchNfproto& m) {
    return std::string("meta nfproto ") + (m.family == net::Family::ipv4 ? "ipv4" : "ipv6");
}

std::string stmt_text(const MatchL4proto& m) {
    std::vector<std::uint8_t> protos = m.protos;
    std::sort(protos.begin(), protos.end());
    std::vector<std::string> names;
    for (auto p : protos) names.push_back(proto_text(p));
    return "meta l4proto " + value_list(names);
}

std::string stmt_text(const MatchInterface& m) {
    std::string key = m.dir == MatchInterface::Dir::in ? "iif" : "oif";
    if (m.by_name) key += "name";
    std::vector<std::string> sorted = m.names;  // nft orders by the raw name bytes
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::string> names;
    for (const auto& n : sorted) names.push_back(quote(n));
    return key + " " + value_list(names);
}

std::string stmt_text(const MatchAddrSet& m) {
    return family_word(m.family) +
           (m.field == MatchAddrSet::Field::saddr ? " saddr @" : " daddr @") + m.set;
}

std::string stmt_text(const MatchCtState& m) {
    return "ct state " + ct_state_text(m.mask);
}

std::string stmt_text(const MatchIcmpType& m) {
    std::vector<std::uint8_t> types = m.types;
    std::sort(types.begin(), types.end());
    std::vector<std::string> names;
    for (auto t : types) names.push_back(net::icmp_type_name(m.family, t));
    return std::string(m.family == net::Family::ipv4 ? "icmp" : "icmpv6") + " type " +
           value_list(names);
}

std::string stmt_text(const MatchDport& m) {
    std::vector<std::string> ports;
    for (auto [lo, hi] : m.ranges) ports.push_back(port_range(lo, hi));
    return proto_text(m.l4proto) + " dport " + value_list(ports);
}

std::string stmt_text(const ServiceVmap& m) {
    return "meta l4proto . th dport vmap @" + m.map;
}

// nft leaves out the burst when it is its default of 5 packets.
std::string stmt_text(const Limit& l) {
    std::string out = "limit rate " + std::to_string(l.rate) + "/" + rate_unit_text(l.unit);
    if (l.burst != 5) out += " burst " + std::to_string(l.burst) + " packets";
    return out;
}

std::string stmt_text(const CounterStmt& c) {
    return c.name.empty() ? "counter" : "counter name " + quote(c.name);
}

std::string stmt_text(const Log& l) {
    return l.prefix.empty() ? "log" : "log prefix " + quote(l.prefix);
}

std::string stmt_text(const UpdateSet& u) {
    return "update @" + u.set + " { " + family_word(u.family) +
           (u.field == MatchAddrSet::Field::saddr ? " saddr" : " daddr") + " }";
}

std::string stmt_text(const FlowOffload& f) {
    return "flow add @" + f.flowtable;
}

std::string stmt_text(const Verdict& v) {
    return verdict_text(v);
}

// The family a statement implies on its own (`ip saddr` only sees IPv4).
std::optional<net::Family> implied_family(const Statement& stmt) {
    if (auto* a = std::get_if<MatchAddrSet>(&stmt)) return a->family;
    if (auto* i = std::get_if<MatchIcmpType>(&stmt)) return i->family;
    if (auto* u = std::get_if<UpdateSet>(&stmt)) return u->family;
    return std::nullopt;
}

// nft drops `meta nfproto F` from its listing when a later statement of the
// rule implies F; print it the same way so the round trip compares equal.
bool redundant(const Rule& rule, std::size_t i) {
    auto* nf = std::get_if<MatchNfproto>(&rule.stmts[i].kind);
    if (!nf) return false;
    return std::any_of(rule.stmts.begin() + static_cast<std::ptrdiff_t>(i) + 1, rule.stmts.end(),
                       [&](const Stmt& s) { return implied_family(s.kind) == nf->family; });
}

std::string rule_text(const Rule& rule) {
    std::string out;
    for (std::size_t i = 0; i < rule.stmts.size(); ++i) {
        const Statement& stmt = rule.stmts[i].kind;
        if (redundant(rule, i)) continue;
        if (!out.empty()) out += ' ';
        out += std::visit([](const auto& s) { return stmt_text(s); }, stmt);
    }
    if (!rule.comment.empty()) out += " comment " + quote(rule.comment);
    return out;
}

// ---- objects --------------------------------------------------------------

// Each object is one block; the caller separates blocks with blank lines.
std::string counter_block(const Counter& c) {
    std::string out = "\tcounter " + c.name + " {\n";
    if (!c.comment.empty()) out += "\t\tcomment " + quote(c.comment) + "\n";
    return out + "\t}\n";
}

std::string set_block(const AddrSet& s) {
    std::string out = "\tset " + s.name + " {\n";
    out += s.family == net::Family::ipv4 ? "\t\ttype ipv4_addr\n" : "\t\ttype ipv6_addr\n";
    if (s.size != 0) out += "\t\tsize " + std::to_string(s.size) + "\n";
    if (s.interval) out += "\t\tflags interval\n";
    if (!s.comment.empty()) out += "\t\tcomment " + quote(s.comment) + "\n";
    if (!s.elements.empty()) {
        std::vector<std::string> elems;
        for (const auto& iv : s.elements) elems.push_back(net::format_interval(s.family, iv));
        // always braced, even with one element, as nft lists it
        out +=
            "\t\telements = " + (elems.size() == 1 ? "{ " + elems[0] + " }" : value_list(elems)) +
            "\n";
    }
    return out + "\t}\n";
}

// nft's spelling of a duration: each non-zero unit from days down to
// milliseconds, `1d12h`, `7d`, `90s` as `1m30s`.
std::string duration_text(std::uint64_t ms) {
    static constexpr std::pair<std::uint64_t, const char*> kUnits[] = {
        {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
    std::string out;
    for (auto [unit, suffix] : kUnits) {
        if (ms / unit != 0) out += std::to_string(ms / unit) + suffix;
        ms %= unit;
    }
    return out;
}

std::string dynamic_set_block(const DynamicSet& s) {
    std::string out = "\tset " + s.name + " {\n";
    out += s.family == net::Family::ipv4 ? "\t\ttype ipv4_addr\n" : "\t\ttype ipv6_addr\n";
    if (s.size != 0) out += "\t\tsize " + std::to_string(s.size) + "\n";
    out += "\t\tflags dynamic,timeout\n";
    if (s.timeout_ms != 0) out += "\t\ttimeout " + duration_text(s.timeout_ms) + "\n";
    if (!s.comment.empty()) out += "\t\tcomment " + quote(s.comment) + "\n";
    return out + "\t}\n";
}

std::string map_block(const ServiceMap& m) {
    std::string out = "\tmap " + m.name + " {\n";
    out += "\t\ttype inet_proto . inet_service : verdict\n";
    out += "\t\tflags interval\n";
    if (!m.elements.empty()) {
        std::vector<std::string> elems;
        for (const auto& e : m.elements)
            elems.push_back(proto_text(e.l4proto) + " . " + port_range(e.port_lo, e.port_hi) +
                            " : jump " + e.chain);
        out +=
            "\t\telements = " + (elems.size() == 1 ? "{ " + elems[0] + " }" : value_list(elems)) +
            "\n";
    }
    return out + "\t}\n";
}

const char* hook_text(Hook h) {
    switch (h) {
        case Hook::input:
            return "input";
        case Hook::forward:
            return "forward";
        case Hook::output:
            return "output";
    }
    return "input";
}

// nft prints priorities relative to the standard "filter" (0) priority.
std::string priority_text(std::int32_t prio) {
    if (prio == 0) return "filter";
    if (prio > 0) return "filter + " + std::to_string(prio);
    return "filter - " + std::to_string(-static_cast<std::int64_t>(prio));
}

std::string base_chain_line(const BaseChain& b) {
    return std::string("\t\ttype filter hook ") + hook_text(b.hook) + " priority " +
           priority_text(b.priority) + "; policy " +
           (b.policy == ChainPolicy::accept ? "accept" : "drop") + ";\n";
}

// nft 1.0.6 lists flowtable devices unquoted, in the order the kernel
// holds them (the order they were sent: sorted).
std::string flowtable_block(const Flowtable& f) {
    std::string out = "\tflowtable " + f.name + " {\n";
    out += "\t\thook ingress priority " + priority_text(f.priority) + "\n";
    out += fmt::format("\t\tdevices = {{ {} }}\n", fmt::join(f.devices, ", "));
    if (f.counter) out += "\t\tcounter\n";
    return out + "\t}\n";
}

std::string chain_block(const Chain& c) {
    std::string out = "\tchain " + c.name + " {\n";
    if (c.base) out += base_chain_line(*c.base);
    for (const auto& r : c.rules) out += "\t\t" + rule_text(r) + "\n";
    return out + "\t}\n";
}

std::vector<std::string> blocks(const Table& t) {
    std::vector<std::string> out;
    for (const auto& c : t.counters) out.push_back(counter_block(c));
    for (const auto& s : t.sets) out.push_back(set_block(s));
    for (const auto& s : t.dynamic_sets) out.push_back(dynamic_set_block(s));
    for (const auto& m : t.maps) out.push_back(map_block(m));
    if (t.flowtable) out.push_back(flowtable_block(*t.flowtable));
    for (const auto& c : t.chains) out.push_back(chain_block(c));
    return out;
}

}  // namespace

std::string nft_text(const ir::Table& table, const TextOptions& options) {
    std::string out;
    // `table` creates it if missing, so `delete` cannot fail on a first load;
    // both run in the same transaction as the new definition.
    if (options.replace)
        out += "table inet " + table.name + "\ndelete table inet " + table.name + "\n";
    out += "table inet " + table.name + " {\n";
    auto parts = blocks(table);
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "\n" : "") + parts[i];
    return out + "}\n";
}

}  // namespace nftpolicy::emit
