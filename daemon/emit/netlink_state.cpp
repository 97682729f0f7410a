// Canonical forms for comparing what the kernel holds with what we would send.
#include "emit/netlink_state.h"

#include <cassert>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>

namespace nftpolicy::emit {

namespace {

std::string hex(const void* data, std::size_t len) {
    static constexpr char kDigits[] = "0123456789abcdef";
    const auto* p = static_cast<const std::uint8_t*>(data);
    std::string out;
    out.reserve(len * 2);
    for (std::size_t i = 0; i < len; ++i) {
        out += kDigits[p[i] >> 4];
        out += kDigits[p[i] & 15];
    }
    return out;
}

// An attribute as "name=value" when set, with a default for attributes the
// kernel always dumps but we may leave unset (lookup flags, log level).
std::string u32_attr(const nftnl_expr* e, std::uint16_t type, const char* name, std::uint32_t dflt = 0) {
    std::uint32_t v = nftnl_expr_is_set(e, type) ? nftnl_expr_get_u32(e, type) : dflt;
    return std::string(" ") + name + "=" + std::to_string(v);
}

std::string data_attr(const nftnl_expr* e, std::uint16_t type, const char* name) {
    if (!nftnl_expr_is_set(e, type)) return "";
    std::uint32_t len = 0;
    const void* data = nftnl_expr_get(e, type, &len);
    return std::string(" ") + name + "=" + hex(data, len);
}

std::string str_attr(const nftnl_expr* e, std::uint16_t type, const char* name) {
    if (!nftnl_expr_is_set(e, type)) return "";
    return std::string(" ") + name + "=\"" + nftnl_expr_get_str(e, type) + "\"";
}

std::string canonical_lookup(const nftnl_expr* e, const AnonResolver& resolve_anon, CanonicalRule& out) {
    std::string s = u32_attr(e, NFTNL_EXPR_LOOKUP_SREG, "sreg");
    if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG)) s += u32_attr(e, NFTNL_EXPR_LOOKUP_DREG, "dreg");
    s += u32_attr(e, NFTNL_EXPR_LOOKUP_FLAGS, "flags");
    const char* set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
    std::string name = set != nullptr ? set : "";
    std::uint32_t id = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_SET_ID) ? nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SET_ID) : 0;
    if (auto anon = resolve_anon(name, id)) return s + " anon{" + *anon + "}";
    out.sets.push_back(name);
    return s + " set=" + name;
}

std::string u64_attr(const nftnl_expr* e, std::uint16_t type, const char* name) {
    std::uint64_t v = nftnl_expr_is_set(e, type) ? nftnl_expr_get_u64(e, type) : 0;
    return std::string(" ") + name + "=" + std::to_string(v);
}

// The kernel always reports a dynset's timeout and flags (0 when none was
// given); the set it updates is a named reference like a lookup's.
std::string canonical_dynset(const nftnl_expr* e, CanonicalRule& out) {
    std::string s = u32_attr(e, NFTNL_EXPR_DYNSET_SREG_KEY, "sreg_key");
    if (nftnl_expr_is_set(e, NFTNL_EXPR_DYNSET_SREG_DATA)) s += u32_attr(e, NFTNL_EXPR_DYNSET_SREG_DATA, "sreg_data");
    s += u32_attr(e, NFTNL_EXPR_DYNSET_OP, "op") + u64_attr(e, NFTNL_EXPR_DYNSET_TIMEOUT, "timeout") +
         u32_attr(e, NFTNL_EXPR_DYNSET_FLAGS, "flags");
    if (nftnl_expr_is_set(e, NFTNL_EXPR_DYNSET_EXPR) || nftnl_expr_is_set(e, NFTNL_EXPR_DYNSET_EXPRESSIONS)) {
        s += " exprs";  // never ours: keeps such a rule from comparing equal to one of ours
    }
    const char* set = nftnl_expr_get_str(e, NFTNL_EXPR_DYNSET_SET_NAME);
    std::string name = set != nullptr ? set : "";
    out.sets.push_back(name);
    return s + " set=" + name;
}

std::string canonical_immediate(const nftnl_expr* e) {
    std::string s = u32_attr(e, NFTNL_EXPR_IMM_DREG, "dreg");
    if (nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
        s += " verdict=" + std::to_string(static_cast<std::int32_t>(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT)));
    }
    return s + str_attr(e, NFTNL_EXPR_IMM_CHAIN, "chain") + data_attr(e, NFTNL_EXPR_IMM_DATA, "data");
}

std::string canonical_log(const nftnl_expr* e) {
    // The kernel reports level 4 (warn) when none was given.
    return str_attr(e, NFTNL_EXPR_LOG_PREFIX, "prefix") + u32_attr(e, NFTNL_EXPR_LOG_LEVEL, "level", 4) +
           u32_attr(e, NFTNL_EXPR_LOG_FLAGS, "flags") + u32_attr(e, NFTNL_EXPR_LOG_GROUP, "group") +
           u32_attr(e, NFTNL_EXPR_LOG_SNAPLEN, "snaplen") + u32_attr(e, NFTNL_EXPR_LOG_QTHRESHOLD, "qthreshold");
}

std::string canonical_limit(const nftnl_expr* e) {
    return " rate=" + std::to_string(nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_RATE)) +
           " unit=" + std::to_string(nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_UNIT)) +
           u32_attr(e, NFTNL_EXPR_LIMIT_BURST, "burst") + u32_attr(e, NFTNL_EXPR_LIMIT_TYPE, "type") +
           u32_attr(e, NFTNL_EXPR_LIMIT_FLAGS, "flags");
}

std::string fallback(const nftnl_expr* e) {
    std::array<char, 1024> buf{};
    nftnl_expr_snprintf(buf.data(), buf.size(), e, 0 /* NFTNL_OUTPUT_DEFAULT */, 0);
    return std::string(" ?") + buf.data();
}

// One expression as text. Counter values are state, not configuration, and
// are left out.
std::string canonical_expr(const nftnl_expr* e, const AnonResolver& resolve_anon, CanonicalRule& out) {
    const std::string name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
    if (name == "meta") {
        return name + u32_attr(e, NFTNL_EXPR_META_KEY, "key") + u32_attr(e, NFTNL_EXPR_META_DREG, "dreg");
    }
    if (name == "cmp") {
        return name + u32_attr(e, NFTNL_EXPR_CMP_SREG, "sreg") + u32_attr(e, NFTNL_EXPR_CMP_OP, "op") +
               data_attr(e, NFTNL_EXPR_CMP_DATA, "data");
    }
    if (name == "payload" && !nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_SREG)) {
        return name + u32_attr(e, NFTNL_EXPR_PAYLOAD_DREG, "dreg") + u32_attr(e, NFTNL_EXPR_PAYLOAD_BASE, "base") +
               u32_attr(e, NFTNL_EXPR_PAYLOAD_OFFSET, "offset") + u32_attr(e, NFTNL_EXPR_PAYLOAD_LEN, "len");
    }
    if (name == "lookup") return name + canonical_lookup(e, resolve_anon, out);
    if (name == "dynset") return name + canonical_dynset(e, out);
    if (name == "bitwise") {
        return name + u32_attr(e, NFTNL_EXPR_BITWISE_SREG, "sreg") + u32_attr(e, NFTNL_EXPR_BITWISE_DREG, "dreg") +
               u32_attr(e, NFTNL_EXPR_BITWISE_OP, "op") + u32_attr(e, NFTNL_EXPR_BITWISE_LEN, "len") +
               data_attr(e, NFTNL_EXPR_BITWISE_MASK, "mask") + data_attr(e, NFTNL_EXPR_BITWISE_XOR, "xor") +
               data_attr(e, NFTNL_EXPR_BITWISE_DATA, "data");
    }
    if (name == "ct" && !nftnl_expr_is_set(e, NFTNL_EXPR_CT_SREG)) {
        std::string s = name + u32_attr(e, NFTNL_EXPR_CT_KEY, "key") + u32_attr(e, NFTNL_EXPR_CT_DREG, "dreg");
        if (nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR)) s += " dir=" + std::to_string(nftnl_expr_get_u8(e, NFTNL_EXPR_CT_DIR));
        return s;
    }
    if (name == "immediate") return name + canonical_immediate(e);
    if (name == "counter") return name;
    if (name == "objref" && nftnl_expr_is_set(e, NFTNL_EXPR_OBJREF_IMM_NAME)) {
        out.objects.push_back(nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_IMM_NAME));
        return name + u32_attr(e, NFTNL_EXPR_OBJREF_IMM_TYPE, "type") + str_attr(e, NFTNL_EXPR_OBJREF_IMM_NAME, "name");
    }
    if (name == "flow_offload" && nftnl_expr_is_set(e, NFTNL_EXPR_FLOW_TABLE_NAME)) {
        out.objects.push_back(nftnl_expr_get_str(e, NFTNL_EXPR_FLOW_TABLE_NAME));
        return name + str_attr(e, NFTNL_EXPR_FLOW_TABLE_NAME, "flowtable");
    }
    if (name == "limit") return name + canonical_limit(e);
    if (name == "log") return name + canonical_log(e);
    if (name == "byteorder") {
        return name + u32_attr(e, NFTNL_EXPR_BYTEORDER_SREG, "sreg") + u32_attr(e, NFTNL_EXPR_BYTEORDER_DREG, "dreg") +
               u32_attr(e, NFTNL_EXPR_BYTEORDER_OP, "op") + u32_attr(e, NFTNL_EXPR_BYTEORDER_LEN, "len") +
               u32_attr(e, NFTNL_EXPR_BYTEORDER_SIZE, "size");
    }
    // Something we never generate (a hand edit of our table): compare by
    // libnftnl's own rendering, which will not match any rule of ours.
    return name + fallback(e);
}

struct ExprIterDeleter {
    void operator()(nftnl_expr_iter* it) const { nftnl_expr_iter_destroy(it); }
};

}  // namespace

bool operator<(const KeyElem& a, const KeyElem& b) {
    if (a.key != b.key) return a.key < b.key;
    return a.end && !b.end;
}

IntervalElements::IntervalElements(Iter first, Iter last, net::Family family, bool at_start, bool interval)
    : next_(first), end_(last), top_(net::max_value(family)), first_(at_start && interval), interval_(interval) {}

IntervalElements::IntervalElements(const net::IntervalList& intervals, net::Family family, bool interval)
    : IntervalElements(intervals.begin(), intervals.end(), family, true, interval) {}

const KeyElem* IntervalElements::next() {
    if (buf_pos_ == buf_len_) refill();
    return buf_pos_ < buf_len_ ? &buf_[buf_pos_++] : nullptr;
}

void IntervalElements::refill() {
    buf_len_ = buf_pos_ = 0;
    if (next_ == end_) return;
    if (!interval_) {  // a hash set: single addresses only
        assert(next_->lo == next_->hi);
        buf_[buf_len_++] = KeyElem{(next_++)->lo, false};
        return;
    }
    const U128 lo = next_->lo;
    U128 hi = (next_++)->hi;
    while (next_ != end_ && hi != top_ && hi + 1 == next_->lo) hi = (next_++)->hi;
    if (first_ && lo != 0) buf_[buf_len_++] = KeyElem{0, true};
    first_ = false;
    buf_[buf_len_++] = KeyElem{lo, false};
    if (hi != top_) buf_[buf_len_++] = KeyElem{hi + 1, true};
}

bool operator<(const MapElem& a, const MapElem& b) {
    if (a.key != b.key) return a.key < b.key;
    return a.key_end < b.key_end;
}

bool same_definition(const SetDef& a, const SetDef& b) {
    // A verdict map's data length is the kernel's business (nft sends 0, the
    // kernel reports sizeof(struct nft_verdict)).
    const bool verdict_map = a.data_type == NFT_DATA_VERDICT;
    return a.name == b.name && a.flags == b.flags && a.key_type == b.key_type && a.key_len == b.key_len &&
           a.data_type == b.data_type && (verdict_map || a.data_len == b.data_len) && a.concat == b.concat &&
           a.udata == b.udata && a.timeout_ms == b.timeout_ms && a.size == b.size;
}

bool is_dynamic(const SetDef& def) { return (def.flags & NFT_SET_EVAL) != 0; }

CanonicalRule canonical_rule(const nftnl_rule* rule, const AnonResolver& resolve_anon) {
    CanonicalRule out;
    std::unique_ptr<nftnl_expr_iter, ExprIterDeleter> it(nftnl_expr_iter_create(rule));
    for (nftnl_expr* e = nftnl_expr_iter_next(it.get()); e != nullptr; e = nftnl_expr_iter_next(it.get())) {
        out.text += canonical_expr(e, resolve_anon, out);
        out.text += '\n';
    }
    if (nftnl_rule_is_set(rule, NFTNL_RULE_USERDATA)) {
        std::uint32_t len = 0;
        const void* data = nftnl_rule_get_data(rule, NFTNL_RULE_USERDATA, &len);
        out.text += "udata " + hex(data, len) + '\n';
    }
    return out;
}

std::string canonical_anon(const SetDef& def, std::vector<KeyElem> elements) {
    std::sort(elements.begin(), elements.end());
    std::string s = "flags=" + std::to_string(def.flags) + " type=" + std::to_string(def.key_type) +
                    " len=" + std::to_string(def.key_len);
    std::array<std::uint8_t, 16> bytes{};
    for (const KeyElem& e : elements) {
        key_to_bytes(e.key, def.key_len, bytes.data());
        s += (e.end ? " /" : " ") + hex(bytes.data(), def.key_len);
    }
    return s;
}

U128 key_from_bytes(const void* data, std::size_t len) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    U128 v = 0;
    for (std::size_t i = 0; i < len && i < 16; ++i) v = (v << 8) | p[i];
    return v;
}

void key_to_bytes(U128 key, std::size_t len, std::uint8_t* out) {
    for (std::size_t i = len; i > 0; --i) {
        out[i - 1] = static_cast<std::uint8_t>(key & 0xff);
        key >>= 8;
    }
}

}  // namespace nftpolicy::emit
