// The last good ruleset file; see ruleset_file.h. The JSON half is written
// and read field by field (one function per IR kind, one exhaustive visit
// over statements), so an IR change that this file does not follow fails to
// compile instead of being silently dropped.
#include "service/ruleset_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kernel/apply_record.h"
#include "resolve/phases.h"
#include "support/atomic_file.h"

namespace nftpolicy::service {

using nlohmann::json;

namespace {

constexpr const char* kMagic = "nftpolicy-ruleset";
constexpr int kVersion = 1;

template <class... Ts>
struct Overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// ---- statements --------------------------------------------------------------

json stmt_json(const ir::Statement& s) {
    return std::visit(
        Overloaded{
            [](const ir::MatchNfproto& m) {
                return json{{"t", "nfproto"}, {"f", int(m.family)}};
            },
            [](const ir::MatchL4proto& m) {
                return json{{"t", "l4proto"}, {"p", m.protos}};
            },
            [](const ir::MatchInterface& m) {
                return json{
                    {"t", "iface"}, {"d", int(m.dir)}, {"byname", m.by_name}, {"n", m.names}};
            },
            [](const ir::MatchAddrSet& m) {
                return json{
                    {"t", "addrset"}, {"f", int(m.family)}, {"fld", int(m.field)}, {"s", m.set}};
            },
            [](const ir::MatchCtState& m) {
                return json{{"t", "ct"}, {"m", m.mask}};
            },
            [](const ir::MatchIcmpType& m) {
                return json{{"t", "icmp"}, {"f", int(m.family)}, {"ty", m.types}};
            },
            [](const ir::MatchDport& m) {
                return json{{"t", "dport"}, {"p", m.l4proto}, {"r", m.ranges}};
            },
            [](const ir::ServiceVmap& m) {
                return json{{"t", "vmap"}, {"m", m.map}};
            },
            [](const ir::Limit& m) {
                return json{{"t", "limit"}, {"r", m.rate}, {"u", int(m.unit)}, {"b", m.burst}};
            },
            [](const ir::CounterStmt& m) {
                return json{{"t", "counter"}, {"n", m.name}};
            },
            [](const ir::Log& m) {
                return json{{"t", "log"}, {"p", m.prefix}};
            },
            [](const ir::UpdateSet& m) {
                return json{
                    {"t", "update"}, {"f", int(m.family)}, {"fld", int(m.field)}, {"s", m.set}};
            },
            [](const ir::FlowOffload& m) {
                return json{{"t", "flow"}, {"ft", m.flowtable}};
            },
            [](const ir::Verdict& m) {
                return json{{"t", "verdict"}, {"k", int(m.kind)}, {"c", m.chain}};
            },
        },
        s);
}

template <typename E>
E enum_of(const json& j, int last) {
    const int v = j.get<int>();
    if (v < 0 || v > last) throw std::out_of_range("enum value out of range");
    return static_cast<E>(v);
}

net::Family family_of(const json& j) {
    return enum_of<net::Family>(j, int(net::Family::ipv6));
}

ir::Statement match_of(const std::string& t, const json& j) {
    if (t == "nfproto") return ir::MatchNfproto{family_of(j.at("f"))};
    if (t == "l4proto") return ir::MatchL4proto{j.at("p").get<std::vector<std::uint8_t>>()};
    if (t == "iface") {
        return ir::MatchInterface{enum_of<ir::MatchInterface::Dir>(j.at("d"), 1),
                                  j.at("byname").get<bool>(),
                                  j.at("n").get<std::vector<std::string>>()};
    }
    if (t == "addrset") {
        return ir::MatchAddrSet{family_of(j.at("f")),
                                enum_of<ir::MatchAddrSet::Field>(j.at("fld"), 1),
                                j.at("s").get<std::string>()};
    }
    if (t == "ct") return ir::MatchCtState{j.at("m").get<std::uint32_t>()};
    if (t == "icmp")
        return ir::MatchIcmpType{family_of(j.at("f")), j.at("ty").get<std::vector<std::uint8_t>>()};
    if (t == "dport") {
        return ir::MatchDport{
            j.at("p").get<std::uint8_t>(),
            j.at("r").get<std::vector<std::pair<std::uint16_t, std::uint16_t>>>()};
    }
    throw std::invalid_argument("unknown statement '" + t + "'");
}

ir::Statement stmt_of(const json& j) {
    const std::string t = j.at("t").get<std::string>();
    if (t == "vmap") return ir::ServiceVmap{j.at("m").get<std::string>()};
    if (t == "limit") {
        return ir::Limit{j.at("r").get<std::uint64_t>(),
                         enum_of<ir::RateUnit>(j.at("u"), int(ir::RateUnit::day)),
                         j.at("b").get<std::uint32_t>()};
    }
    if (t == "counter") return ir::CounterStmt{j.at("n").get<std::string>()};
    if (t == "log") return ir::Log{j.at("p").get<std::string>()};
    if (t == "update") {
        return ir::UpdateSet{family_of(j.at("f")), enum_of<ir::MatchAddrSet::Field>(j.at("fld"), 1),
                             j.at("s").get<std::string>()};
    }
    if (t == "flow") return ir::FlowOffload{j.at("ft").get<std::string>()};
    if (t == "verdict") {
        return ir::Verdict{enum_of<ir::Verdict::Kind>(j.at("k"), int(ir::Verdict::Kind::return_)),
                           j.at("c").get<std::string>()};
    }
    return match_of(t, j);
}

// ---- objects -----------------------------------------------------------------

json chain_json(const ir::Chain& c) {
    json rules = json::array();
    for (const auto& r : c.rules) {
        json stmts = json::array();
        for (const auto& s : r.stmts) stmts.push_back(stmt_json(s.kind));
        rules.push_back({{"s", stmts}, {"c", r.comment}});
    }
    json out{{"name", c.name}, {"rules", rules}};
    if (c.base) out["base"] = {int(c.base->hook), c.base->priority, int(c.base->policy)};
    return out;
}

ir::Chain chain_of(const json& j) {
    ir::Chain c;
    c.name = j.at("name").get<std::string>();
    if (j.contains("base")) {
        const json& b = j.at("base");
        c.base = ir::BaseChain{enum_of<ir::Hook>(b.at(0), int(ir::Hook::output)),
                               b.at(1).get<std::int32_t>(),
                               enum_of<ir::ChainPolicy>(b.at(2), int(ir::ChainPolicy::drop))};
    }
    for (const json& r : j.at("rules")) {
        ir::Rule rule;
        for (const json& s : r.at("s")) rule.stmts.emplace_back(stmt_of(s));
        rule.comment = r.at("c").get<std::string>();
        c.rules.push_back(std::move(rule));
    }
    return c;
}

json table_json(const ir::Table& t) {
    json out{{"name", t.name}};
    out["counters"] = json::array();
    for (const auto& c : t.counters) out["counters"].push_back({c.name, c.comment});
    out["sets"] = json::array();
    for (const auto& s : t.sets)
        out["sets"].push_back({s.name, int(s.family), s.comment, s.elements.size(), s.interval, s.size});
    out["dynamic_sets"] = json::array();
    for (const auto& s : t.dynamic_sets) {
        out["dynamic_sets"].push_back({s.name, int(s.family), s.timeout_ms, s.size, s.comment});
    }
    out["maps"] = json::array();
    for (const auto& m : t.maps) {
        json elems = json::array();
        for (const auto& e : m.elements)
            elems.push_back({e.l4proto, e.port_lo, e.port_hi, e.chain});
        out["maps"].push_back({{"name", m.name}, {"e", elems}});
    }
    if (const auto& f = t.flowtable) {
        out["flowtable"] = {{"name", f->name}, {"devices", f->devices}, {"prio", f->priority},
                            {"counter", f->counter}, {"required", f->required}};
    }
    out["chains"] = json::array();
    for (const auto& c : t.chains) out["chains"].push_back(chain_json(c));
    return out;
}

// The table without set elements; `counts` gets each address set's size.
ir::Table table_of(const json& j, std::vector<std::size_t>& counts) {
    ir::Table t;
    t.name = j.at("name").get<std::string>();
    for (const json& c : j.at("counters")) t.counters.push_back({c.at(0), c.at(1), {}});
    for (const json& s : j.at("sets")) {
        ir::AddrSet set;
        set.name = s.at(0).get<std::string>();
        set.family = family_of(s.at(1));
        set.comment = s.at(2).get<std::string>();
        counts.push_back(s.at(3).get<std::size_t>());
        set.interval = s.size() < 5 || s.at(4).get<bool>();  // files before hash sets: all interval sets
        set.size = s.size() < 6 ? 0 : s.at(5).get<std::uint32_t>();
        t.sets.push_back(std::move(set));
    }
    for (const json& s : j.at("dynamic_sets")) {
        t.dynamic_sets.push_back({s.at(0), family_of(s.at(1)), s.at(2), s.at(3), s.at(4), {}});
    }
    for (const json& m : j.at("maps")) {
        ir::ServiceMap map{m.at("name"), {}, {}};
        for (const json& e : m.at("e"))
            map.elements.push_back({e.at(0), e.at(1), e.at(2), e.at(3), {}});
        t.maps.push_back(std::move(map));
    }
    if (j.contains("flowtable")) {  // files before flowtables have none
        const json& f = j.at("flowtable");
        t.flowtable = ir::Flowtable{f.at("name"), f.at("devices").get<std::vector<std::string>>(), f.at("prio"),
                                    f.at("counter"), f.at("required"), {}};
    }
    for (const json& c : j.at("chains")) t.chains.push_back(chain_of(c));
    return t;
}

// ---- addresses ---------------------------------------------------------------

// Writes `v` in lowercase hex without leading zeros ("0" for zero) at `at`;
// the end of what it wrote. A million lines per last good ruleset, so no
// formatting library and one append per line, not per character.
char* put_hex(char* at, net::U128 v) {
    char digits[32];
    std::size_t n = 0;
    do {
        digits[n++] = "0123456789abcdef"[static_cast<unsigned>(v & 0xf)];
        v >>= 4;
    } while (v != 0);
    while (n > 0) *at++ = digits[--n];
    return at;
}

// "LO HI\n".
void append_interval(std::string& out, const net::Interval& iv) {
    char line[2 * 32 + 2];
    char* end = put_hex(line, iv.lo);
    *end++ = ' ';
    end = put_hex(end, iv.hi);
    *end++ = '\n';
    out.append(line, static_cast<std::size_t>(end - line));
}

bool parse_hex(std::string_view s, net::U128& out) {
    if (s.empty() || s.size() > 32) return false;
    out = 0;
    for (char ch : s) {
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (d < 0) return false;
        out = (out << 4) | static_cast<net::U128>(d);
    }
    return true;
}

bool parse_interval(std::string_view line, net::Interval& iv) {
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos) return false;
    return parse_hex(line.substr(0, sp), iv.lo) && parse_hex(line.substr(sp + 1), iv.hi) &&
           iv.lo <= iv.hi;
}

// Reads the next line of `text` from `pos`; false at the end.
bool next_line(const std::string& text, std::size_t& pos, std::string_view& line) {
    if (pos >= text.size()) return false;
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    line = std::string_view(text).substr(pos, nl - pos);
    pos = nl + 1;
    return true;
}

Result<void> read_elements(const std::string& text, std::size_t& pos,
                           const std::vector<std::size_t>& counts, ir::Table& table,
                           const std::string& path) {
    for (std::size_t i = 0; i < table.sets.size(); ++i) {
        net::IntervalList::Builder ivs;  // straight into chunks: no flat copy beside them
        std::string_view line;
        for (std::size_t n = 0; n < counts[i]; ++n) {
            net::Interval iv;
            if (!next_line(text, pos, line) || !parse_interval(line, iv)) {
                return fail(ErrorKind::invalid,
                            fmt::format("{}: set {}: element {} of {} is missing or malformed",
                                        path, table.sets[i].name, n + 1, counts[i]));
            }
            ivs.push_back(iv);
        }
        table.sets[i].elements = std::move(ivs).finish();
    }
    if (pos < text.size())
        return fail(ErrorKind::invalid, path + ": text after the last set element");
    return {};
}

json meta_json(const SavedRuleset& s) {
    json phases = json::object();
    for (const auto& [m, p] : s.phases) phases[m] = resolve::phase_name(p);
    return {{"host", s.host}, {"phases", phases}, {"gates", s.flipped_gates}, {"flows", s.flows}};
}

void meta_of(const json& j, SavedRuleset& s) {
    s.host = j.at("host").get<std::string>();
    for (const auto& [m, p] : j.at("phases").items()) {
        auto phase = policy::phase_from_name(p.get<std::string>());
        if (!phase) throw std::invalid_argument("unknown phase");
        s.phases[m] = *phase;
    }
    s.flipped_gates = j.at("gates").get<std::set<std::string>>();
    s.flows = j.at("flows").get<std::size_t>();
}

}  // namespace

std::string last_good_path(const std::string& state_dir) {
    return state_dir + "/last-good";
}

std::string serialize_ruleset(const SavedRuleset& saved) {
    json doc = meta_json(saved);
    doc["table"] = table_json(saved.table);
    std::string out = fmt::format("{} {} {}\n", kMagic, kVersion, saved.hash);
    out += doc.dump();
    out += '\n';
    std::size_t intervals = 0;
    for (const auto& set : saved.table.sets) intervals += set.elements.size();
    out.reserve(out.size() + intervals * 18);  // two IPv4 addresses a line; IPv6 lines grow it
    for (const auto& set : saved.table.sets) {
        for (const auto& iv : set.elements) append_interval(out, iv);
    }
    return out;
}

namespace {

Result<std::string> header_hash(std::string_view header, const std::string& path) {
    const std::string prefix = fmt::format("{} {} ", kMagic, kVersion);
    if (header.substr(0, prefix.size()) != prefix || header.size() == prefix.size()) {
        return fail(ErrorKind::invalid, fmt::format("{}: line 1: expected '{}HASH'", path, prefix));
    }
    return std::string(header.substr(prefix.size()));
}

}  // namespace

Result<SavedRuleset> parse_ruleset(const std::string& text, const std::string& path) {
    std::size_t pos = 0;
    std::string_view header, body;
    if (!next_line(text, pos, header) || !next_line(text, pos, body)) {
        return fail(ErrorKind::invalid, path + ": truncated (expected a header and a JSON line)");
    }
    auto hash = header_hash(header, path);
    if (!hash) return tl::unexpected(hash.error());
    SavedRuleset saved;
    std::vector<std::size_t> counts;
    try {
        const json doc = json::parse(body);
        meta_of(doc, saved);
        saved.table = table_of(doc.at("table"), counts);
    } catch (const std::exception& e) {
        return fail(ErrorKind::invalid, fmt::format("{}: line 2: {}", path, e.what()));
    }
    if (auto read = read_elements(text, pos, counts, saved.table, path); !read)
        return tl::unexpected(read.error());
    saved.hash = kernel::ruleset_hash(saved.table);
    if (saved.hash != *hash) {
        return fail(
            ErrorKind::invalid,
            fmt::format("{}: the ruleset hashes to {}, the header says {}: the file was changed",
                        path, saved.hash, *hash));
    }
    return saved;
}

Result<void> write_last_good(const std::string& path, const SavedRuleset& saved) {
    return write_file_atomic(path, serialize_ruleset(saved));
}

Result<std::optional<SavedRuleset>> read_last_good(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) return std::optional<SavedRuleset>();
        return fail(ErrorKind::io, fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    auto saved = parse_ruleset(buf.str(), path);
    if (!saved) return tl::unexpected(saved.error());
    return std::optional(std::move(*saved));
}

std::optional<std::string> last_good_hash(const std::string& path) {
    std::ifstream in(path);
    std::string header;
    if (!in || !std::getline(in, header)) return std::nullopt;
    auto hash = header_hash(header, path);
    if (!hash) return std::nullopt;
    return *hash;
}

}  // namespace nftpolicy::service
