// TOML tree -> FilePolicy. Every table is first checked against the schema
// (policy/schema.cpp); the readers below then convert values, reporting each
// bad value at its own span and carrying on, so one run reports every error.
#include <charconv>

#include <fmt/format.h>

#include "net/icmp.h"
#include "policy/address_file.h"
#include "policy/file_policy.h"
#include "policy/group_expr.h"
#include "policy/names.h"
#include "support/columns.h"
#include "policy/schema.h"
#include "policy/toml_reader.h"
#include "support/text.h"

namespace nftpolicy::policy {

namespace {

class Reader {
public:
    Reader(const SourceFile& file, SourceManager& sources, Diagnostics& diags, AddressListCache* lists)
        : file_(file), sources_(sources), diags_(diags), lists_(lists) {}

    SourceSpan span(const toml::node& n) const { return span_of(file_, n.source()); }
    SourceSpan span(const toml::key& k) const { return span_of(file_, k.source()); }
    Diagnostic& error(SourceSpan s, std::string msg) { return diags_.error(s, std::move(msg)); }
    Diagnostics& diags() { return diags_; }
    const SourceFile& file() const { return file_; }
    SourceManager& sources() { return sources_; }
    AddressListCache* lists() { return lists_; }

    bool check(const toml::table& t, const TableSpec& spec) { return check_table(t, spec, file_, diags_); }

    // Strings of an array; a non-string element is reported and skipped.
    std::vector<NameRef> strings(const toml::node& node, std::string_view what) {
        std::vector<NameRef> out;
        auto visit = [&](const toml::node& el) {
            if (auto s = el.as_string()) {
                out.push_back(NameRef{s->get(), span(el)});
            } else {
                error(span(el), fmt::format("{} must be a string, not {}", what, toml_type_name(el.type())));
            }
        };
        if (auto arr = node.as_array()) {
            for (const auto& el : *arr) visit(el);
        } else {
            visit(node);
        }
        return out;
    }

    // Where the text of a string value starts (after its opening quote).
    SourcePos string_start(const toml::node& n) const {
        auto s = span(n);
        std::size_t quotes = 1;
        std::string_view line = file_.line(s.begin.line);
        std::string_view rest = line.substr(std::min(byte_of_column(line, s.begin.column), line.size()));
        if (rest.starts_with("\"\"\"") || rest.starts_with("'''")) {
            quotes = 3;
        }
        return SourcePos{s.begin.line, s.begin.column + static_cast<std::uint32_t>(quotes)};
    }

    std::optional<GroupExpr> expr(const toml::node& n) {
        return parse_group_expr(n.as_string()->get(), file_, string_start(n), diags_);
    }

private:
    const SourceFile& file_;
    SourceManager& sources_;
    Diagnostics& diags_;
    AddressListCache* lists_;
};

// ---- groups -----------------------------------------------------------------

std::optional<AddressLiteral> read_address(Reader& r, const NameRef& text) {
    auto entry = net::parse_address_entry(text.name);
    if (!entry) {
        r.error(text.span, address_error(text.name, entry.error().message));
        return std::nullopt;
    }
    return AddressLiteral{*entry, text.name, text.span};
}

std::vector<AddressLiteral> read_addresses(Reader& r, const toml::node& node) {
    std::vector<AddressLiteral> out;
    for (const auto& text : r.strings(node, "an address")) {
        if (auto a = read_address(r, text)) out.push_back(*a);
    }
    return out;
}

std::optional<Group> read_group_table(Reader& r, Group g, const toml::table& t) {
    if (!r.check(t, schema::group_table)) return std::nullopt;
    if (auto c = t["comment"].as_string()) g.comment = c->get();
    const toml::node* addrs = t.get("addresses");
    const toml::node* expr = t.get("expr");
    const toml::node* file = t.get("file");
    if ((addrs != nullptr) + (expr != nullptr) + (file != nullptr) != 1) {
        r.error(g.span, fmt::format("group '{}' needs exactly one of 'addresses', 'expr' or 'file'", g.name));
        return std::nullopt;
    }
    if (addrs) {
        g.definition = read_addresses(r, *addrs);
        return g;
    }
    if (file) {
        auto list =
            read_address_file(r.file(), file->as_string()->get(), r.span(*file), r.sources(), r.diags(), r.lists());
        if (!list) return std::nullopt;
        g.definition = std::move(*list);
        return g;
    }
    auto e = r.expr(*expr);
    if (!e) return std::nullopt;
    g.definition = std::move(*e);
    return g;
}

std::optional<Group> read_group(Reader& r, const toml::key& key, const toml::node& value) {
    Group g;
    g.name = std::string(key.str());
    g.span = r.span(key);
    if (!is_group_name(g.name)) {
        r.error(g.span, fmt::format("invalid group name '{}': use letters, digits and '_' "
                                    "('-' is the difference operator)", g.name));
        return std::nullopt;
    }
    if (g.name == kGroupAny) {
        r.error(g.span, "'any' is a built-in group (every IPv4 and IPv6 address) and cannot be redefined");
        return std::nullopt;
    }
    if (auto t = value.as_table()) return read_group_table(r, std::move(g), *t);
    if (value.is_string()) {
        auto e = r.expr(value);
        if (!e) return std::nullopt;
        g.definition = std::move(*e);
        return g;
    }
    g.definition = read_addresses(r, value);
    return g;
}

void read_groups(Reader& r, const toml::table& t, FilePolicy& out) {
    r.check(t, schema::groups_map);
    for (auto&& [key, value] : t) {
        if (!kind_matches(value, ValueKind::group_value)) continue;
        if (auto g = read_group(r, key, value)) out.groups[g->name] = std::move(*g);
    }
}

// ---- services ---------------------------------------------------------------

std::optional<std::uint16_t> to_port(Reader& r, std::int64_t v, SourceSpan s) {
    if (v < 1 || v > 65535) {
        r.error(s, fmt::format("port {} is out of range (expected 1-65535)", v));
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(v);
}

std::optional<std::int64_t> parse_int(std::string_view s) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

std::optional<PortRange> read_port_string(Reader& r, const std::string& text, SourceSpan s) {
    auto dash = text.find('-');
    auto lo = parse_int(text.substr(0, dash));
    auto hi = dash == std::string::npos ? lo : parse_int(text.substr(dash + 1));
    if (!lo || !hi) {
        r.error(s, fmt::format("invalid port '{}': expected a number 1-65535 or a range \"lo-hi\"", text));
        return std::nullopt;
    }
    auto plo = to_port(r, *lo, s);
    auto phi = to_port(r, *hi, s);
    if (!plo || !phi) return std::nullopt;
    if (*plo > *phi) {
        r.error(s, fmt::format("port range '{}' starts above its end", text));
        return std::nullopt;
    }
    return PortRange{*plo, *phi, s};
}

std::optional<PortRange> read_port(Reader& r, const toml::node& n) {
    SourceSpan s = r.span(n);
    if (auto i = n.as_integer()) {
        auto p = to_port(r, i->get(), s);
        if (!p) return std::nullopt;
        return PortRange{*p, *p, s};
    }
    if (auto str = n.as_string()) return read_port_string(r, str->get(), s);
    r.error(s, fmt::format("a port must be a number or a \"lo-hi\" string, not {}", toml_type_name(n.type())));
    return std::nullopt;
}

std::vector<PortRange> read_ports(Reader& r, const toml::node& node) {
    std::vector<PortRange> out;
    auto one = [&](const toml::node& n) {
        if (auto p = read_port(r, n)) out.push_back(*p);
    };
    if (auto arr = node.as_array()) {
        if (arr->empty()) r.error(r.span(node), "empty port list; expected at least one port");
        for (const auto& el : *arr) one(el);
    } else {
        one(node);
    }
    return out;
}

std::vector<IcmpType> read_icmp(Reader& r, const toml::node& node, net::Family family) {
    std::vector<IcmpType> out;
    const char* proto = family == net::Family::ipv4 ? "icmp" : "icmpv6";
    for (const auto& ref : r.strings(node, "an ICMP type")) {
        auto type = net::icmp_type_by_name(family, ref.name);
        if (!type) {
            auto names = net::icmp_type_names(family);
            std::string msg = fmt::format("unknown {} type '{}'", proto, ref.name);
            if (auto best = closest_match(ref.name, names); !best.empty()) {
                msg += fmt::format("; did you mean '{}'?", best);
            }
            auto& d = r.error(ref.span, std::move(msg));
            add_note(d, {}, fmt::format("expected one of: {}", fmt::join(names, ", ")));
            continue;
        }
        out.push_back(IcmpType{*type, ref.name, ref.span});
    }
    return out;
}

std::optional<Service> read_service(Reader& r, const toml::key& key, const toml::table& t) {
    Service s;
    s.name = std::string(key.str());
    s.span = r.span(key);
    if (!is_name(s.name, true)) {
        r.error(s.span, fmt::format("invalid service name '{}': use letters, digits, '_' and '-'", s.name));
    }
    if (!r.check(t, schema::service)) return std::nullopt;
    if (auto n = t.get("tcp")) s.tcp = read_ports(r, *n);
    if (auto n = t.get("udp")) s.udp = read_ports(r, *n);
    if (auto n = t.get("icmp")) s.icmp = read_icmp(r, *n, net::Family::ipv4);
    if (auto n = t.get("icmpv6")) s.icmpv6 = read_icmp(r, *n, net::Family::ipv6);
    if (auto c = t["comment"].as_string()) s.comment = c->get();
    if (t.empty() || (!t.contains("tcp") && !t.contains("udp") && !t.contains("icmp") && !t.contains("icmpv6"))) {
        r.error(s.span, fmt::format("service '{}' has no ports; expected at least one of tcp, udp, icmp, icmpv6",
                                    s.name));
        return std::nullopt;
    }
    return s;
}

void read_services(Reader& r, const toml::table& t, FilePolicy& out) {
    r.check(t, schema::services_map);
    for (auto&& [key, value] : t) {
        auto tbl = value.as_table();
        if (!tbl) continue;
        if (auto s = read_service(r, key, *tbl)) out.services[s->name] = std::move(*s);
    }
}

// ---- flows ------------------------------------------------------------------

std::optional<GateRef> read_gate_ref(Reader& r, const toml::node& n) {
    std::string text = n.as_string()->get();
    SourceSpan s = r.span(n);
    auto dot = text.find('.');
    GateRef ref{text.substr(0, dot), dot == std::string::npos ? "" : text.substr(dot + 1), s};
    bool ok = is_name(ref.migration, true) && (dot == std::string::npos || is_name(ref.gate, true));
    if (!ok) {
        r.error(s, fmt::format("invalid gate reference '{}': expected \"migration\" or \"migration.gate\"", text));
        return std::nullopt;
    }
    return ref;
}

std::optional<Flow> read_flow(Reader& r, const toml::table& t) {
    Flow f;
    f.span = r.span(t);
    if (!r.check(t, schema::flow)) return std::nullopt;
    f.id = t["id"].as_string()->get();
    f.id_span = r.span(*t.get("id"));
    bool ok = true;
    if (!is_name(f.id, true)) {
        r.error(f.id_span, fmt::format("invalid flow id '{}': use letters, digits, '_' and '-'", f.id));
        ok = false;
    }
    auto from = r.expr(*t.get("from"));
    auto to = r.expr(*t.get("to"));
    f.services = r.strings(*t.get("services"), "a service name");
    if (t["services"].as_array() && t["services"].as_array()->empty()) {
        r.error(r.span(*t.get("services")), "a flow needs at least one service");
        ok = false;
    }
    if (auto c = t["comment"].as_string()) f.comment = c->get();
    if (auto o = t["optional"].as_boolean()) f.optional = o->get();
    if (auto n = t.get("retired_by")) ok = (f.retired_by = read_gate_ref(r, *n)).has_value() && ok;
    if (auto n = t.get("introduced_by")) ok = (f.introduced_by = read_gate_ref(r, *n)).has_value() && ok;
    if (!from || !to || !ok) return std::nullopt;
    f.from = std::move(*from);
    f.to = std::move(*to);
    return f;
}

void read_flows(Reader& r, const toml::array& arr, FilePolicy& out) {
    for (const auto& el : arr) {
        auto t = el.as_table();
        if (!t) continue;
        if (auto f = read_flow(r, *t)) out.flows.push_back(std::move(*f));
    }
}

// ---- migrations -------------------------------------------------------------

// A duration key ("7d", "1d12h", "90s") from `min` seconds to 365 days.
std::optional<std::uint32_t> read_duration(Reader& r, const toml::node& n, const char* key, std::uint64_t min,
                                           const char* examples) {
    std::string text = n.as_string()->get();
    auto secs = parse_duration(text);
    if (secs && *secs >= min && *secs <= kMaxSeenTimeout) return static_cast<std::uint32_t>(*secs);
    r.error(r.span(n), fmt::format("invalid {} '{}'; expected a duration like {} (units d, h, m, s) {} 365d", key,
                                   text, examples, min > 0 ? "from 1s to" : "up to"));
    return std::nullopt;
}

void read_seen_settings(Reader& r, const toml::table& t, PartialMigration& m) {
    if (auto n = t.get("seen_timeout")) {
        if (auto secs = read_duration(r, *n, "seen_timeout", 1, "\"7d\", \"12h\" or \"1d12h\"")) m.seen_timeout = *secs;
    }
    if (auto n = t.get("quiet_for")) {
        if (auto secs = read_duration(r, *n, "quiet_for", 0, "\"24h\", \"2d\" or \"0s\"")) m.quiet_for = *secs;
    }
    if (auto n = t["seen_size"].as_integer()) {
        if (n->get() < 1 || n->get() > kMaxSeenSize) {
            r.error(r.span(*n), fmt::format("seen_size {} is out of range (expected 1-{})", n->get(), kMaxSeenSize));
        } else {
            m.seen_size = static_cast<std::uint32_t>(n->get());
        }
    }
}

void read_migration(Reader& r, const toml::key& key, const toml::table& t, FilePolicy& out) {
    PartialMigration m;
    m.name = std::string(key.str());
    m.span = r.span(key);
    if (!is_name(m.name, true)) {
        r.error(m.span, fmt::format("invalid migration name '{}': use letters, digits, '_' and '-'", m.name));
    }
    if (!r.check(t, schema::migration)) return;
    if (auto n = t.get("gates")) {
        m.gates = r.strings(*n, "a gate name");
        for (const auto& g : *m.gates) {
            if (!is_name(g.name, true)) {
                r.error(g.span, fmt::format("invalid gate name '{}': use letters, digits, '_' and '-'", g.name));
            }
        }
    }
    if (auto n = t.get("phase")) {
        m.phase_span = r.span(*n);
        m.phase = phase_from_name(n->as_string()->get());
        if (!m.phase) {
            r.error(m.phase_span, fmt::format("unknown phase '{}'; expected legacy, coexist or final",
                                              n->as_string()->get()));
        }
    }
    if (auto n = t.get("flipped")) m.flipped = r.strings(*n, "a gate name");
    if (auto c = t["description"].as_string()) m.description = c->get();
    read_seen_settings(r, t, m);
    out.migrations[m.name] = std::move(m);
}

// ---- hosts ------------------------------------------------------------------

std::optional<Zone> read_zone(Reader& r, const toml::key& key, const toml::table& t) {
    Zone z;
    z.name = std::string(key.str());
    z.span = r.span(key);
    if (!r.check(t, schema::zone)) return std::nullopt;
    z.interfaces = r.strings(*t.get("interfaces"), "an interface name");
    for (const auto& i : z.interfaces) {
        if (i.name.empty() || i.name.size() > 15 || i.name.find_first_of("/ \t\"") != std::string::npos) {
            r.error(i.span, fmt::format("invalid interface name '{}': expected 1-15 characters, no '/' "
                                        "or spaces", i.name));
        }
    }
    if (auto n = t.get("networks")) z.networks = r.expr(*n);
    return z;
}

void read_host_mode(Reader& r, const toml::table& t, Host& h) {
    auto n = t.get("mode");
    if (!n) return;
    std::string mode = n->as_string()->get();
    if (mode == "gateway") {
        h.mode = HostMode::gateway;
    } else if (mode != "host") {
        r.error(r.span(*n), fmt::format("unknown mode '{}'; expected \"host\" or \"gateway\"", mode));
    }
}

void read_host(Reader& r, const toml::key& key, const toml::table& t, FilePolicy& out) {
    Host h;
    h.name = std::string(key.str());
    h.span = r.span(key);
    if (!is_name(h.name, true, true)) {
        r.error(h.span, fmt::format("invalid host name '{}': use letters, digits, '_', '-' and '.'", h.name));
    }
    if (!r.check(t, schema::host)) return;
    read_host_mode(r, t, h);
    if (auto n = t.get("roles")) h.roles = r.strings(*n, "a role (group name)");
    if (auto n = t.get("addresses")) h.addresses = read_addresses(r, *n);
    if (t.contains("roles") == t.contains("addresses")) {
        r.error(h.span, fmt::format("host '{}' needs exactly one of 'roles' (the groups it plays) or "
                                    "'addresses' (its own addresses, roles derived from them)", h.name));
    }
    if (auto z = t["zones"].as_table()) {
        r.check(*z, schema::zones_map);
        for (auto&& [zk, zv] : *z) {
            if (auto zt = zv.as_table()) {
                if (auto zone = read_zone(r, zk, *zt)) h.zones.push_back(std::move(*zone));
            }
        }
        if (h.mode != HostMode::gateway && !z->empty()) {
            r.error(r.span(*t.get("zones")), "zones are for mode = \"gateway\"; a host has no forward path");
        }
    }
    out.hosts[h.name] = std::move(h);
}

// ---- baseline, management, settings ----------------------------------------

std::optional<ChainPolicy> read_chain_policy(Reader& r, const toml::node& n) {
    std::string s = n.as_string()->get();
    if (s == "drop") return ChainPolicy::drop;
    if (s == "accept") return ChainPolicy::accept;
    r.error(r.span(n), fmt::format("unknown chain policy '{}'; expected \"accept\" or \"drop\"", s));
    return std::nullopt;
}

std::optional<Rate> read_rate(Reader& r, const toml::node& n) {
    std::string s = n.as_string()->get();
    auto slash = s.find('/');
    auto count = parse_int(s.substr(0, slash));
    std::string unit = slash == std::string::npos ? "" : s.substr(slash + 1);
    static const std::pair<const char*, RateUnit> units[] = {
        {"second", RateUnit::second}, {"minute", RateUnit::minute}, {"hour", RateUnit::hour}, {"day", RateUnit::day}};
    for (const auto& [name, u] : units) {
        if (unit == name && count && *count > 0 && *count <= 1000000) {
            return Rate{static_cast<std::uint32_t>(*count), u, 5, r.span(n)};
        }
    }
    r.error(r.span(n), fmt::format("invalid rate '{}'; expected \"N/second\", \"N/minute\", \"N/hour\" or "
                                   "\"N/day\" with N from 1 to 1000000", s));
    return std::nullopt;
}

std::optional<FlowtableSetting> read_flowtable(Reader& r, const toml::node& n) {
    if (auto b = n.as_boolean()) return FlowtableSetting{b->get() ? FlowtableMode::on : FlowtableMode::off, r.span(n)};
    const std::string& s = n.as_string()->get();
    if (s == "auto") return FlowtableSetting{FlowtableMode::auto_, r.span(n)};
    r.error(r.span(n), fmt::format("unknown flowtable setting '{}'; expected \"auto\" (where the kernel supports "
                                   "it), true (always) or false (never)", s));
    return std::nullopt;
}

void read_baseline(Reader& r, const toml::table& t, FilePolicy& out) {
    PartialBaseline& b = out.baseline;
    b.span = r.span(t);
    if (!r.check(t, schema::baseline)) return;
    if (auto n = t.get("input")) b.input = read_chain_policy(r, *n);
    if (auto n = t.get("forward")) b.forward = read_chain_policy(r, *n);
    if (auto n = t["egress"].as_boolean()) b.egress = n->get();
    if (auto n = t["log_drops"].as_boolean()) b.log_drops = n->get();
    if (auto n = t.get("log_rate")) b.log_rate = read_rate(r, *n);
    if (auto n = t.get("echo_rate")) b.echo_rate = read_rate(r, *n);
    if (auto n = t.get("flowtable")) b.flowtable = read_flowtable(r, *n);
    if (auto n = t["log_burst"].as_integer()) {
        if (n->get() < 1 || n->get() > 10000) {
            r.error(r.span(*n), fmt::format("log_burst {} is out of range (expected 1-10000)", n->get()));
        } else {
            b.log_burst = static_cast<std::uint32_t>(n->get());
        }
    }
    if (auto n = t["log_prefix"].as_string()) {
        if (n->get().size() > 100 || n->get().find('"') != std::string::npos) {
            r.error(r.span(*n), "log_prefix must be at most 100 characters without '\"'");
        } else {
            b.log_prefix = n->get();
        }
    }
}

void read_management(Reader& r, const toml::table& t, FilePolicy& out) {
    if (!r.check(t, schema::management)) return;
    auto from = r.expr(*t.get("from"));
    if (!from) return;
    Management m{std::move(*from), {}, r.span(t)};
    if (auto n = t.get("services")) {
        m.services = r.strings(*n, "a service name");
    } else {
        m.services.push_back(NameRef{"ssh", m.span});
    }
    out.management = std::move(m);
}

std::optional<DriftSetting> read_drift(Reader& r, const toml::node& n) {
    const std::string& s = n.as_string()->get();
    if (s == "repair") return DriftSetting{DriftMode::repair, r.span(n)};
    if (s == "report") return DriftSetting{DriftMode::report, r.span(n)};
    r.error(r.span(n), fmt::format("unknown drift mode '{}'; expected \"repair\" (restore the table when "
                                   "another process changes it) or \"report\" (only log the change)", s));
    return std::nullopt;
}

void read_settings(Reader& r, const toml::table& t, FilePolicy& out) {
    if (!r.check(t, schema::settings)) return;
    if (auto n = t.get("table")) {
        std::string name = n->as_string()->get();
        if (auto bad = table_name_error(name)) {
            r.error(r.span(*n), std::move(*bad));
            return;
        }
        out.table = NameRef{name, r.span(*n)};
    }
    if (auto n = t.get("drift")) out.drift = read_drift(r, *n);
}

void read_map_tables(Reader& r, const toml::node* node, const TableSpec& spec,
                     void (*read)(Reader&, const toml::key&, const toml::table&, FilePolicy&), FilePolicy& out) {
    auto t = node ? node->as_table() : nullptr;
    if (!t) return;
    r.check(*t, spec);
    for (auto&& [key, value] : *t) {
        if (auto v = value.as_table()) read(r, key, *v, out);
    }
}

}  // namespace

FilePolicy build_file_policy(const toml::table& root, const SourceFile& file, SourceManager& sources,
                             Diagnostics& diags, AddressListCache* lists) {
    Reader r(file, sources, diags, lists);
    FilePolicy out;
    out.file = &file;
    r.check(root, schema::top);
    if (auto n = root.get("include"); n && n->is_array()) out.includes = r.strings(*n, "an include name");
    if (auto n = root.get("disabled_flows"); n && n->is_array()) out.disabled_flows = r.strings(*n, "a flow id");
    if (auto t = root["groups"].as_table()) read_groups(r, *t, out);
    if (auto t = root["services"].as_table()) read_services(r, *t, out);
    if (auto a = root["flows"].as_array(); a && kind_matches(*a, ValueKind::table_array)) read_flows(r, *a, out);
    read_map_tables(r, root.get("migrations"), schema::migrations_map, read_migration, out);
    read_map_tables(r, root.get("hosts"), schema::hosts_map, read_host, out);
    if (auto t = root["baseline"].as_table()) read_baseline(r, *t, out);
    if (auto t = root["management"].as_table()) read_management(r, *t, out);
    if (auto t = root["settings"].as_table()) read_settings(r, *t, out);
    return out;
}

}  // namespace nftpolicy::policy
