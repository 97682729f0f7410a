// From a kernel error back to the policy; see provenance.h.
#include "emit/provenance.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <optional>

#include "emit/netlink_state.h"
#include "net/addr.h"

namespace nftpolicy::emit {

namespace {

const char* start_of(const nlattr* a) { return reinterpret_cast<const char*>(a); }
const char* end_of(const nlattr* a) { return start_of(a) + mnl_attr_get_len(a); }

// The first attribute in [begin, end) that `pred` accepts, or nullptr.
template <typename Pred>
const nlattr* find_attr(const void* begin, const char* end, Pred&& pred) {
    const auto* a = static_cast<const nlattr*>(begin);
    for (; mnl_attr_ok(a, static_cast<int>(end - start_of(a))); a = mnl_attr_next(a)) {
        if (pred(a)) return a;
    }
    return nullptr;
}

const nlattr* nested(const nlattr* nest, std::uint16_t type) {
    return find_attr(mnl_attr_get_payload(nest), end_of(nest),
                     [type](const nlattr* a) { return mnl_attr_get_type(a) == type; });
}

// The NFTA_LIST_ELEM of an element message that `offset` points into.
const nlattr* element_at(const nlmsghdr* nlh, std::uint32_t offset) {
    const char* at = reinterpret_cast<const char*>(nlh) + offset;
    const nlattr* list =
        find_attr(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)), static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh)),
                  [](const nlattr* a) { return mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS; });
    if (list == nullptr) return nullptr;
    return find_attr(mnl_attr_get_payload(list), end_of(list),
                     [at](const nlattr* a) { return at >= start_of(a) && at < end_of(a); });
}

// The key and interval-end flag of one NFTA_LIST_ELEM.
std::optional<KeyElem> decode_element(const nlattr* elem) {
    const nlattr* key = nested(elem, NFTA_SET_ELEM_KEY);
    const nlattr* value = key != nullptr ? nested(key, NFTA_DATA_VALUE) : nullptr;
    if (value == nullptr || mnl_attr_get_payload_len(value) > 16) return std::nullopt;
    const nlattr* flags = nested(elem, NFTA_SET_ELEM_FLAGS);
    const bool end = flags != nullptr && (ntohl(mnl_attr_get_u32(flags)) & NFT_SET_ELEM_INTERVAL_END) != 0;
    return KeyElem{key_from_bytes(mnl_attr_get_payload(value), mnl_attr_get_payload_len(value)), end};
}

// An interval set holds a start element per interval and an end element one
// past its last address; nft's leading end element at 0 belongs to no entry.
Provenance address_element(const ir::AddrSet& set, const KeyElem& e) {
    const std::string in = " of set " + set.name;
    if (!e.end) return {ir::element_span(set, e.key), "element " + net::format_address(set.family, e.key) + in};
    if (e.key == 0) return {set.span, "the leading interval end" + in};
    const net::U128 last = e.key - 1;
    return {ir::element_span(set, last), "the end of the interval up to " + net::format_address(set.family, last) + in};
}

std::string ports_text(const ir::ServiceMapElement& e) {
    return e.port_lo == e.port_hi ? std::to_string(e.port_lo)
                                  : std::to_string(e.port_lo) + "-" + std::to_string(e.port_hi);
}

// Map keys are `proto . port`: the protocol in the first byte of a 4-byte
// field, the port big-endian in the next (see netlink_objects.cpp).
Provenance map_element(const ir::ServiceMap& map, const KeyElem& e) {
    const auto proto = static_cast<std::uint8_t>(e.key >> 56);
    const auto port = static_cast<std::uint16_t>(e.key >> 16);
    for (const ir::ServiceMapElement& m : map.elements) {
        if (m.l4proto != proto || port < m.port_lo || port > m.port_hi) continue;
        const char* name = proto == ir::kProtoTcp ? "tcp" : "udp";
        return {m.span.valid() ? m.span : map.span,
                "element " + std::string(name) + " . " + ports_text(m) + " of map " + map.name};
    }
    return {map.span, "an element of map " + map.name};
}

}  // namespace

Provenance locate(const BatchMessage& m, std::uint32_t offset) {
    Provenance whole{m.origin.span, m.origin.what};
    if (offset == 0) return whole;
    if (m.origin.element) {
        if (const nlattr* elem = element_at(m.header, offset)) return m.origin.element(elem);
    }
    const Provenance* part = nullptr;
    for (const auto& [start, p] : m.origin.parts) {
        if (start <= offset) part = &p;
    }
    if (part == nullptr) return whole;
    return {part->span.valid() ? part->span : m.origin.span, m.origin.what + ", " + part->what};
}

ElementProvenance address_elements(const ir::AddrSet& set) {
    return [&set](const nlattr* elem) {
        auto e = decode_element(elem);
        return e ? address_element(set, *e) : Provenance{set.span, "an element of set " + set.name};
    };
}

ElementProvenance map_elements(const ir::ServiceMap& map) {
    return [&map](const nlattr* elem) {
        auto e = decode_element(elem);
        return e ? map_element(map, *e) : Provenance{map.span, "an element of map " + map.name};
    };
}

}  // namespace nftpolicy::emit
