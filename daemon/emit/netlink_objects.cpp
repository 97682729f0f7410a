// IR -> desired kernel objects; see netlink_objects.h. Set user data and key
// types reproduce what nft 1.0.x sends (observed with `nft --debug=mnl`), so
// that `nft list table` prints our table exactly as it prints one loaded from
// the equivalent text.
#include "emit/netlink_objects.h"

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>

#include "emit/netlink_expr.h"

namespace nftpolicy::emit {

namespace {

// nft's datatype numbers (NFTA_SET_KEY_TYPE) and internal ids it stores in
// the set's user data ("typeof" descriptions).
enum : std::uint32_t {
    kTypeIpv4 = 7,
    kTypeIpv6 = 8,
    kTypeInetProto = 12,
    kTypeInetService = 13,
    kTypeIcmpType = 14,
    kTypeIfindex = 20,
    kTypeIcmpv6Type = 29,
    kTypeIfname = 41,
};
enum : std::uint32_t { kUdataExprPayload = 7, kUdataExprMeta = 9, kUdataExprConcat = 13 };
enum : std::uint32_t { kProtoDescIcmp = 4, kProtoDescUdp = 6, kProtoDescTcp = 8, kProtoDescIcmpv6 = 14 };
enum : std::uint32_t { kByteorderInvalid = 0, kByteorderHost = 1, kByteorderBig = 2 };

// ---- user data --------------------------------------------------------------

struct Udata {
    nftnl_udata_buf* buf = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
    Udata() = default;
    Udata(const Udata&) = delete;
    Udata& operator=(const Udata&) = delete;
    ~Udata() { nftnl_udata_buf_free(buf); }
    std::vector<std::uint8_t> bytes() const {
        const auto* p = static_cast<const std::uint8_t*>(nftnl_udata_buf_data(buf));
        return {p, p + nftnl_udata_buf_len(buf)};
    }
};

// `typeof` description nft stores for a key: expression kind and its fields.
void put_typeof(Udata& u, std::uint32_t expr_kind, const std::vector<std::uint32_t>& fields) {
    nftnl_udata* outer = nftnl_udata_nest_start(u.buf, NFTNL_UDATA_SET_KEY_TYPEOF);
    nftnl_udata_put_u32(u.buf, NFTNL_UDATA_SET_TYPEOF_EXPR, expr_kind);
    nftnl_udata* inner = nftnl_udata_nest_start(u.buf, NFTNL_UDATA_SET_TYPEOF_DATA);
    for (std::size_t i = 0; i < fields.size(); ++i) {
        nftnl_udata_put_u32(u.buf, static_cast<std::uint8_t>(i), fields[i]);
    }
    nftnl_udata_nest_end(u.buf, inner);
    nftnl_udata_nest_end(u.buf, outer);
}

std::vector<std::uint8_t> addr_set_udata(const std::string& comment) {
    Udata u;
    nftnl_udata_put_u32(u.buf, NFTNL_UDATA_SET_KEYBYTEORDER, kByteorderBig);
    if (!comment.empty()) nftnl_udata_put_strz(u.buf, NFTNL_UDATA_SET_COMMENT, comment.c_str());
    return u.bytes();
}

std::vector<std::uint8_t> service_map_udata() {
    Udata u;
    nftnl_udata_put_u32(u.buf, NFTNL_UDATA_SET_KEYBYTEORDER, kByteorderInvalid);
    nftnl_udata_put_u32(u.buf, NFTNL_UDATA_SET_DATABYTEORDER, kByteorderInvalid);
    put_typeof(u, kUdataExprConcat, {});
    nftnl_udata_put_u32(u.buf, NFTNL_UDATA_SET_DATA_INTERVAL, 0);
    return u.bytes();
}

std::vector<std::uint8_t> anon_meta_udata(std::uint32_t meta_key) {
    Udata u;
    nftnl_udata_put_u32(u.buf, NFTNL_UDATA_SET_KEYBYTEORDER, kByteorderHost);
    put_typeof(u, kUdataExprMeta, {meta_key});
    return u.bytes();
}

std::vector<std::uint8_t> anon_payload_udata(std::uint32_t proto_desc, std::uint32_t field, bool merge) {
    Udata u;
    nftnl_udata_put_u32(u.buf, NFTNL_UDATA_SET_KEYBYTEORDER, kByteorderBig);
    if (merge) nftnl_udata_put_u32(u.buf, NFTNL_UDATA_SET_MERGE_ELEMENTS, 1);
    put_typeof(u, kUdataExprPayload, {proto_desc, field});
    return u.bytes();
}

std::vector<std::uint8_t> comment_udata(std::uint8_t type, const std::string& comment) {
    if (comment.empty()) return {};
    Udata u;
    nftnl_udata_put_strz(u.buf, type, comment.c_str());
    return u.bytes();
}

// ---- elements ---------------------------------------------------------------

// Interval elements of [lo, hi] pairs in a key space whose largest value is
// `top`: see IntervalElements.
template <typename Range, typename Fn>
void interval_elements(const std::vector<Range>& ranges, U128 top, Fn&& fn) {
    if (ranges.empty()) return;
    if (ranges.front().first != 0) fn(KeyElem{0, true});
    for (const Range& r : ranges) {
        fn(KeyElem{r.first, false});
        if (r.second != top) fn(KeyElem{r.second + 1, true});
    }
}

std::vector<KeyElem> scalar_elements(std::vector<U128> keys) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    std::vector<KeyElem> out;
    for (U128 k : keys) out.push_back(KeyElem{k, false});
    return out;
}

// ---- rules ------------------------------------------------------------------

std::uint8_t nfproto(net::Family f) { return f == net::Family::ipv4 ? NFPROTO_IPV4 : NFPROTO_IPV6; }

// The kinds of a rule's expressions from the `skip`-th on.
std::vector<std::string> expression_names(const nftnl_rule* rule, std::size_t skip) {
    std::vector<std::string> names;
    nftnl_expr_iter* it = nftnl_expr_iter_create(rule);
    std::size_t i = 0;
    for (nftnl_expr* e = nftnl_expr_iter_next(it); e != nullptr; e = nftnl_expr_iter_next(it), ++i) {
        if (i >= skip) names.emplace_back(nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
    }
    nftnl_expr_iter_destroy(it);
    return names;
}

// Builds the expressions of one rule; anonymous sets are collected alongside.
class RuleBuilder {
public:
    RuleBuilder(nftnl_rule* rule, DesiredRule& out, std::uint32_t& next_set_id,
                const std::map<std::string, std::uint32_t>& set_ids, const InterfaceIndex& ifindex)
        : r_(rule), out_(out), next_set_id_(next_set_id), set_ids_(set_ids), ifindex_(ifindex) {}

    // Adds the expressions of one statement, remembering its span (or the
    // rule's) for each of them.
    Result<void> add(const ir::Stmt& s, const SourceSpan& rule_span) {
        const std::size_t anon_before = out_.anon_sets.size();
        auto ok = std::visit([this](const auto& st) { return this->stmt(st); }, s.kind);
        const SourceSpan& span = s.span.valid() ? s.span : rule_span;
        for (std::size_t i = anon_before; i < out_.anon_sets.size(); ++i) out_.anon_sets[i].span = span;
        for (std::string& name : expression_names(r_, out_.exprs.size())) {
            out_.exprs.push_back(ExprOrigin{std::move(name), span});
        }
        return ok;
    }

private:
    // `meta nfproto ipv4`
    Result<void> stmt(const ir::MatchNfproto& s) {
        match_nfproto(s.family);
        return {};
    }

    // `meta l4proto tcp` / `meta l4proto { icmp, ipv6-icmp }`
    Result<void> stmt(const ir::MatchL4proto& s) {
        expr::meta_load(r_, NFT_META_L4PROTO);
        if (s.protos.size() == 1) {
            expr::cmp(r_, NFT_CMP_EQ, &s.protos[0], 1);
            return {};
        }
        std::vector<U128> keys(s.protos.begin(), s.protos.end());
        lookup_anon(make_def(kTypeInetProto, 1, false, anon_meta_udata(NFT_META_L4PROTO)), scalar_elements(keys));
        return {};
    }

    // `iif "lo"` / `iifname { "eth0", "eth1" }` / `oifname "eth1"`
    Result<void> stmt(const ir::MatchInterface& s) {
        const bool in = s.dir == ir::MatchInterface::Dir::in;
        if (s.by_name) return match_ifname(in ? NFT_META_IIFNAME : NFT_META_OIFNAME, s.names);
        return match_ifindex(in ? NFT_META_IIF : NFT_META_OIF, s.names);
    }

    // `ip saddr @set` = meta nfproto ipv4 + payload ip saddr + lookup
    Result<void> stmt(const ir::MatchAddrSet& s) {
        match_nfproto(s.family);
        load_address(s.family, s.field);
        expr::lookup(r_, s.set, set_id(s.set));
        return {};
    }

    // `update @set { ip saddr }` = payload ip saddr + dynset update; nft adds
    // `meta nfproto` only when the rule has not checked the family already.
    Result<void> stmt(const ir::UpdateSet& s) {
        if (nfproto_ != s.family) match_nfproto(s.family);
        load_address(s.family, s.field);
        expr::dynset_update(r_, s.set, set_id(s.set));
        return {};
    }

    // `ct state established,related` = ct state & mask != 0
    Result<void> stmt(const ir::MatchCtState& s) {
        const std::uint32_t zero = 0;
        expr::ct_load(r_, NFT_CT_STATE);
        expr::bitwise_mask(r_, s.mask);
        expr::cmp(r_, NFT_CMP_NEQ, &zero, sizeof zero);
        return {};
    }

    // `icmp type echo-request` = meta nfproto ipv4 + meta l4proto icmp + th[0]
    Result<void> stmt(const ir::MatchIcmpType& s) {
        const bool v4 = s.family == net::Family::ipv4;
        match_nfproto(s.family);
        const std::uint8_t proto = v4 ? ir::kProtoIcmp : ir::kProtoIcmpv6;
        expr::meta_load(r_, NFT_META_L4PROTO);
        expr::cmp(r_, NFT_CMP_EQ, &proto, 1);
        expr::payload(r_, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
        if (s.types.size() == 1) {
            expr::cmp(r_, NFT_CMP_EQ, &s.types[0], 1);
            return {};
        }
        std::vector<U128> keys(s.types.begin(), s.types.end());
        auto udata = anon_payload_udata(v4 ? kProtoDescIcmp : kProtoDescIcmpv6, 1, false);
        lookup_anon(make_def(v4 ? kTypeIcmpType : kTypeIcmpv6Type, 1, false, std::move(udata)), scalar_elements(keys));
        return {};
    }

    // `tcp dport 22` / `tcp dport 3000-3100` / `udp dport { 53, 3000-3100 }`
    Result<void> stmt(const ir::MatchDport& s) {
        expr::meta_load(r_, NFT_META_L4PROTO);
        expr::cmp(r_, NFT_CMP_EQ, &s.l4proto, 1);
        expr::payload(r_, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
        if (s.ranges.size() == 1) return match_port_range(s.ranges[0]);
        std::vector<std::pair<U128, U128>> ranges;
        for (auto [lo, hi] : s.ranges) ranges.emplace_back(lo, hi);
        std::vector<KeyElem> elems;
        interval_elements(ranges, 0xffff, [&](const KeyElem& e) { elems.push_back(e); });
        auto udata = anon_payload_udata(s.l4proto == ir::kProtoTcp ? kProtoDescTcp : kProtoDescUdp, 2, true);
        lookup_anon(make_def(kTypeInetService, 2, true, std::move(udata)), std::move(elems));
        return {};
    }

    // `meta l4proto . th dport vmap @map`
    Result<void> stmt(const ir::ServiceVmap& s) {
        expr::meta_load(r_, NFT_META_L4PROTO);
        expr::byteorder_hton(r_, expr::kReg1, 2, 1);
        expr::payload(r_, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, expr::kReg32_01);
        expr::lookup(r_, s.map, set_id(s.map), expr::kReg1, expr::kRegVerdict);
        return {};
    }

    // `limit rate 10/minute burst 5 packets`
    Result<void> stmt(const ir::Limit& s) {
        expr::limit(r_, s.rate, unit_seconds(s.unit), s.burst);
        return {};
    }

    // `counter` / `counter name "flow_x"`
    Result<void> stmt(const ir::CounterStmt& s) {
        if (s.name.empty()) {
            expr::counter(r_);
        } else {
            expr::counter_ref(r_, s.name);
        }
        return {};
    }

    // `log prefix "..."`
    Result<void> stmt(const ir::Log& s) {
        expr::log(r_, s.prefix);
        return {};
    }

    // `flow add @NAME`
    Result<void> stmt(const ir::FlowOffload& s) {
        expr::flow_offload(r_, s.flowtable);
        return {};
    }

    // `accept` / `drop` / `jump CHAIN` / `return`
    Result<void> stmt(const ir::Verdict& s) {
        switch (s.kind) {
            case ir::Verdict::Kind::accept: expr::verdict(r_, NF_ACCEPT); break;
            case ir::Verdict::Kind::drop: expr::verdict(r_, NF_DROP); break;
            case ir::Verdict::Kind::jump: expr::verdict(r_, NFT_JUMP, s.chain); break;
            case ir::Verdict::Kind::return_: expr::verdict(r_, NFT_RETURN); break;
        }
        return {};
    }

    void match_nfproto(net::Family f) {
        const std::uint8_t p = nfproto(f);
        expr::meta_load(r_, NFT_META_NFPROTO);
        expr::cmp(r_, NFT_CMP_EQ, &p, 1);
        nfproto_ = f;
    }

    // `ip saddr` / `ip6 daddr` into reg 1.
    void load_address(net::Family f, ir::MatchAddrSet::Field field) {
        const bool v4 = f == net::Family::ipv4;
        const bool src = field == ir::MatchAddrSet::Field::saddr;
        const std::uint32_t offset = v4 ? (src ? 12 : 16) : (src ? 8 : 24);
        expr::payload(r_, NFT_PAYLOAD_NETWORK_HEADER, offset, v4 ? 4 : 16);
    }

    // A single range is `cmp gte` + `cmp lte` (nft does not use a set for it).
    Result<void> match_port_range(std::pair<std::uint16_t, std::uint16_t> range) {
        const std::array<std::uint8_t, 2> lo{static_cast<std::uint8_t>(range.first >> 8),
                                              static_cast<std::uint8_t>(range.first & 0xff)};
        const std::array<std::uint8_t, 2> hi{static_cast<std::uint8_t>(range.second >> 8),
                                              static_cast<std::uint8_t>(range.second & 0xff)};
        if (range.first == range.second) {
            expr::cmp(r_, NFT_CMP_EQ, lo.data(), 2);
        } else {
            expr::cmp(r_, NFT_CMP_GTE, lo.data(), 2);
            expr::cmp(r_, NFT_CMP_LTE, hi.data(), 2);
        }
        return {};
    }

    Result<void> match_ifname(std::uint32_t meta_key, const std::vector<std::string>& names) {
        expr::meta_load(r_, meta_key);
        std::vector<U128> keys;
        for (const std::string& n : names) {
            std::array<char, IFNAMSIZ> buf{};
            std::strncpy(buf.data(), n.c_str(), buf.size() - 1);
            if (names.size() == 1) {
                expr::cmp(r_, NFT_CMP_EQ, buf.data(), IFNAMSIZ);
                return {};
            }
            keys.push_back(key_from_bytes(buf.data(), IFNAMSIZ));
        }
        lookup_anon(make_def(kTypeIfname, IFNAMSIZ, false, anon_meta_udata(meta_key)), scalar_elements(keys));
        return {};
    }

    Result<void> match_ifindex(std::uint32_t meta_key, const std::vector<std::string>& names) {
        std::vector<U128> keys;
        std::uint32_t index = 0;
        for (const std::string& n : names) {
            index = ifindex_(n);
            if (index == 0) return fail(ErrorKind::invalid, "interface '" + n + "' does not exist");
            keys.push_back(key_from_bytes(&index, sizeof index));  // host byte order, like meta iif
        }
        expr::meta_load(r_, meta_key);
        if (names.size() == 1) {
            expr::cmp(r_, NFT_CMP_EQ, &index, sizeof index);
            return {};
        }
        lookup_anon(make_def(kTypeIfindex, 4, false, anon_meta_udata(meta_key)), scalar_elements(keys));
        return {};
    }

    SetDef make_def(std::uint32_t key_type, std::uint32_t key_len, bool interval, std::vector<std::uint8_t> udata) {
        SetDef def;
        def.name = "__set%d";
        def.flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | (interval ? NFT_SET_INTERVAL : 0);
        def.key_type = key_type;
        def.key_len = key_len;
        def.udata = std::move(udata);
        return def;
    }

    void lookup_anon(SetDef def, std::vector<KeyElem> elems) {
        AnonSet set{std::move(def), next_set_id_++, std::move(elems)};
        expr::lookup(r_, set.def.name, set.id);
        out_.anon_sets.push_back(std::move(set));
    }

    std::uint32_t set_id(const std::string& name) const {
        auto it = set_ids_.find(name);
        return it != set_ids_.end() ? it->second : 0;
    }

    static std::uint64_t unit_seconds(ir::RateUnit u) {
        switch (u) {
            case ir::RateUnit::second: return 1;
            case ir::RateUnit::minute: return 60;
            case ir::RateUnit::hour: return 3600;
            case ir::RateUnit::day: return 86400;
        }
        return 1;
    }

    nftnl_rule* r_;
    std::optional<net::Family> nfproto_;  // the family this rule has checked so far
    DesiredRule& out_;
    std::uint32_t& next_set_id_;
    const std::map<std::string, std::uint32_t>& set_ids_;
    const InterfaceIndex& ifindex_;
};

// Canonical form of a desired rule: anonymous sets resolve by their batch id.
CanonicalRule canonical_desired(const DesiredRule& d) {
    return canonical_rule(d.rule.get(), [&d](std::string_view, std::uint32_t id) -> std::optional<std::string> {
        for (const AnonSet& a : d.anon_sets) {
            if (a.id == id) return canonical_anon(a.def, a.elements);
        }
        return std::nullopt;
    });
}

struct Builder {
    const ir::Table& table;
    InterfaceIndex ifindex;
    std::uint32_t next_set_id = 1;
    std::map<std::string, std::uint32_t> set_ids;

    DesiredSet addr_set(const ir::AddrSet& s) {
        DesiredSet d;
        d.def.name = s.name;
        d.def.flags = s.interval ? NFT_SET_INTERVAL : 0;
        d.def.size = s.size;
        d.def.key_type = s.family == net::Family::ipv4 ? kTypeIpv4 : kTypeIpv6;
        d.def.key_len = s.family == net::Family::ipv4 ? 4 : 16;
        d.def.udata = addr_set_udata(s.comment);
        d.id = set_ids[s.name] = next_set_id++;
        d.addr = &s;
        d.span = s.span;
        return d;
    }

    // nft's `flags dynamic,timeout` is NFT_SET_EVAL | NFT_SET_TIMEOUT; the
    // user data is an address set's (key byte order, comment).
    DesiredSet dynamic_set(const ir::DynamicSet& s) {
        DesiredSet d;
        d.def.name = s.name;
        d.def.flags = NFT_SET_EVAL | NFT_SET_TIMEOUT;
        d.def.key_type = s.family == net::Family::ipv4 ? kTypeIpv4 : kTypeIpv6;
        d.def.key_len = s.family == net::Family::ipv4 ? 4 : 16;
        d.def.udata = addr_set_udata(s.comment);
        d.def.timeout_ms = s.timeout_ms;
        d.def.size = s.size;
        d.id = set_ids[s.name] = next_set_id++;
        d.span = s.span;
        return d;
    }

    DesiredSet service_map(const ir::ServiceMap& m) {
        DesiredSet d;
        d.def.name = m.name;
        d.def.flags = NFT_SET_INTERVAL | NFT_SET_MAP | NFT_SET_CONCAT;
        d.def.key_type = (kTypeInetProto << 6) | kTypeInetService;  // nft's concat type encoding
        d.def.key_len = 8;
        d.def.data_type = NFT_DATA_VERDICT;
        d.def.data_len = 0;
        d.def.concat = {1, 2};
        d.def.udata = service_map_udata();
        d.id = set_ids[m.name] = next_set_id++;
        for (const ir::ServiceMapElement& e : m.elements) {
            // proto in the first byte of a 4-byte field, port big-endian in the next.
            const U128 lo = (U128(e.l4proto) << 56) | (U128(e.port_lo) << 16);
            const U128 hi = (U128(e.l4proto) << 56) | (U128(e.port_hi) << 16);
            d.map_elements.push_back(MapElem{lo, hi, NFT_JUMP, e.chain});
        }
        std::sort(d.map_elements.begin(), d.map_elements.end());
        d.map = &m;
        d.span = m.span;
        return d;
    }

    Result<DesiredRule> rule(const std::string& chain, const ir::Rule& ir_rule) {
        DesiredRule d;
        d.rule.reset(nftnl_rule_alloc());
        nftnl_rule* r = d.rule.get();
        nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table.name.c_str());
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain.c_str());
        RuleBuilder b(r, d, next_set_id, set_ids, ifindex);
        for (const ir::Stmt& s : ir_rule.stmts) {
            if (auto ok = b.add(s, ir_rule.span); !ok) return tl::unexpected(ok.error());
        }
        // Rule comments live in the rule's user data, as nft stores them.
        auto udata = comment_udata(NFTNL_UDATA_RULE_COMMENT, ir_rule.comment);
        if (!udata.empty()) nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, udata.data(), udata.size());
        d.canonical = canonical_desired(d);
        d.span = ir_rule.span;
        return d;
    }

    Result<DesiredChain> chain(const ir::Chain& c) {
        DesiredChain d;
        d.name = c.name;
        d.span = c.span;
        if (c.base) d.base = base_def(*c.base);
        for (const ir::Rule& r : c.rules) {
            auto dr = rule(c.name, r);
            if (!dr) return fail(dr.error().kind, {Diagnostic{Severity::error, r.span, dr.error().message, {}}});
            d.rules.push_back(std::move(*dr));
        }
        return d;
    }

    static BaseDef base_def(const ir::BaseChain& b) {
        BaseDef d;
        switch (b.hook) {
            case ir::Hook::input: d.hooknum = NF_INET_LOCAL_IN; break;
            case ir::Hook::forward: d.hooknum = NF_INET_FORWARD; break;
            case ir::Hook::output: d.hooknum = NF_INET_LOCAL_OUT; break;
        }
        d.prio = b.priority;
        d.policy = b.policy == ir::ChainPolicy::accept ? NF_ACCEPT : NF_DROP;
        return d;
    }
};

}  // namespace

void RuleDeleter::operator()(nftnl_rule* r) const { nftnl_rule_free(r); }

// nft's `hook ingress` of a flowtable is NF_NETDEV_INGRESS (0); `counter`
// is NFT_FLOWTABLE_COUNTER.
FlowtableDef flowtable_def(const ir::Flowtable& f) {
    return FlowtableDef{f.name, NF_NETDEV_INGRESS, f.priority, f.devices, f.counter ? std::uint32_t{NFT_FLOWTABLE_COUNTER} : 0u};
}


Result<DesiredTable> build_objects(const ir::Table& table, const ObjectOptions& options) {
    Builder b{table, options.interface_index, 1, {}};
    if (!b.ifindex) b.ifindex = [](const std::string& n) { return static_cast<std::uint32_t>(if_nametoindex(n.c_str())); };
    DesiredTable out;
    out.name = table.name;
    for (const ir::Counter& c : table.counters) {
        out.counters.push_back(DesiredCounter{c.name, comment_udata(NFTNL_UDATA_OBJ_COMMENT, c.comment), c.span});
    }
    if (table.flowtable) out.flowtable = DesiredFlowtable{flowtable_def(*table.flowtable), table.flowtable->span};
    for (const ir::AddrSet& s : table.sets) out.sets.push_back(b.addr_set(s));
    for (const ir::DynamicSet& s : table.dynamic_sets) out.sets.push_back(b.dynamic_set(s));
    for (const ir::ServiceMap& m : table.maps) out.sets.push_back(b.service_map(m));
    for (const ir::Chain& c : table.chains) {
        auto dc = b.chain(c);
        if (!dc) return tl::unexpected(dc.error());
        out.chains.push_back(std::move(*dc));
    }
    return out;
}

}  // namespace nftpolicy::emit
