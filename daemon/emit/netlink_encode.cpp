// Message encoders; see netlink_encode.h.
#include "emit/netlink_encode.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <array>
#include <cassert>
#include <cstdint>
#include <memory>
#include <vector>

#include "emit/nftnl_handles.h"

namespace nftpolicy::emit::encode {

namespace {

nlmsghdr* header(Batch& b, std::uint16_t type, std::uint16_t flags) {
    return nftnl_nlmsg_build_hdr(b.reserve(), type, NFPROTO_INET, flags | NLM_F_ACK, b.next_seq());
}

MessageOrigin origin_of(std::string what) { return MessageOrigin{SourceSpan{}, std::move(what)}; }

// Offsets of each expression of a rule message, so an extended ACK pointing
// into the rule names the expression.
void record_expression_offsets(const nlmsghdr* nlh, const DesiredRule& rule, MessageOrigin& origin) {
    const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
    const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    for (; mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr))); attr = mnl_attr_next(attr)) {
        if (mnl_attr_get_type(attr) != NFTA_RULE_EXPRESSIONS) continue;
        const auto* e = static_cast<const nlattr*>(mnl_attr_get_payload(attr));
        const char* end = reinterpret_cast<const char*>(attr) + mnl_attr_get_len(attr);
        std::size_t i = 0;
        for (; mnl_attr_ok(e, static_cast<int>(end - reinterpret_cast<const char*>(e))); e = mnl_attr_next(e)) {
            const auto offset = static_cast<std::uint32_t>(reinterpret_cast<const char*>(e) -
                                                           reinterpret_cast<const char*>(nlh));
            const ExprOrigin from = i < rule.exprs.size() ? rule.exprs[i] : ExprOrigin{"?", origin.span};
            origin.parts.emplace_back(offset, Provenance{from.span, "expression " + std::to_string(i + 1) + " (" +
                                                                            from.name + ")"});
            ++i;
        }
    }
}

}  // namespace

void new_table(Batch& b, const std::string& table) {
    TablePtr t(nftnl_table_alloc());
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.c_str());
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, NFPROTO_INET);
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FLAGS, 0);
    nlmsghdr* nlh = header(b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
    nftnl_table_nlmsg_build_payload(nlh, t.get());
    b.commit(nlh, origin_of("table inet " + table));
}

void new_chain(Batch& b, const std::string& table, const std::string& name, const std::optional<BaseDef>& base,
               const MessageOrigin& origin) {
    ChainPtr c(nftnl_chain_alloc());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, name.c_str());
    nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, NFPROTO_INET);
    if (base) {
        nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, base->hooknum);
        nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, base->prio);
        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, base->type.c_str());
        nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, base->policy);
    }
    nlmsghdr* nlh = header(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
    nftnl_chain_nlmsg_build_payload(nlh, c.get());
    b.commit(nlh, origin);
}

void del_chain(Batch& b, const std::string& table, const std::string& name) {
    ChainPtr c(nftnl_chain_alloc());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, name.c_str());
    nlmsghdr* nlh = header(b, NFT_MSG_DELCHAIN, 0);
    nftnl_chain_nlmsg_build_payload(nlh, c.get());
    b.commit(nlh, origin_of("deleting chain " + name));
}

void flush_chain(Batch& b, const std::string& table, const std::string& name) {
    nftnl_rule* r = nftnl_rule_alloc();
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table.c_str());
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, name.c_str());
    nlmsghdr* nlh = header(b, NFT_MSG_DELRULE, 0);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    nftnl_rule_free(r);
    b.commit(nlh, origin_of("flushing chain " + name));
}

namespace {

struct FlowtableDeleter {
    void operator()(nftnl_flowtable* f) const { nftnl_flowtable_free(f); }
};
using FlowtablePtr = std::unique_ptr<nftnl_flowtable, FlowtableDeleter>;

FlowtablePtr flowtable_named(const std::string& table, const std::string& name) {
    FlowtablePtr f(nftnl_flowtable_alloc());
    nftnl_flowtable_set_str(f.get(), NFTNL_FLOWTABLE_TABLE, table.c_str());
    nftnl_flowtable_set_str(f.get(), NFTNL_FLOWTABLE_NAME, name.c_str());
    nftnl_flowtable_set_u32(f.get(), NFTNL_FLOWTABLE_FAMILY, NFPROTO_INET);
    return f;
}

}  // namespace

// As nft sends `add flowtable`: hook number and priority, the device list
// (libnftnl takes a NULL-terminated array), the flags.
void new_flowtable(Batch& b, const std::string& table, const FlowtableDef& def, const MessageOrigin& origin) {
    FlowtablePtr f = flowtable_named(table, def.name);
    nftnl_flowtable_set_u32(f.get(), NFTNL_FLOWTABLE_HOOKNUM, def.hooknum);
    nftnl_flowtable_set_s32(f.get(), NFTNL_FLOWTABLE_PRIO, def.prio);
    // No device list at all rather than an empty one (which the kernel refuses).
    if (!def.devices.empty()) {
        std::vector<const char*> devices;
        for (const std::string& d : def.devices) devices.push_back(d.c_str());
        devices.push_back(nullptr);
        nftnl_flowtable_set_array(f.get(), NFTNL_FLOWTABLE_DEVICES, devices.data());
    }
    nftnl_flowtable_set_u32(f.get(), NFTNL_FLOWTABLE_FLAGS, def.flags);
    nlmsghdr* nlh = header(b, NFT_MSG_NEWFLOWTABLE, NLM_F_CREATE);
    nftnl_flowtable_nlmsg_build_payload(nlh, f.get());
    b.commit(nlh, origin);
}

void del_flowtable(Batch& b, const std::string& table, const std::string& name) {
    FlowtablePtr f = flowtable_named(table, name);
    nlmsghdr* nlh = header(b, NFT_MSG_DELFLOWTABLE, 0);
    nftnl_flowtable_nlmsg_build_payload(nlh, f.get());
    b.commit(nlh, origin_of("deleting flowtable " + name));
}

void new_counter(Batch& b, const std::string& table, const DesiredCounter& c, std::uint64_t packets,
                 std::uint64_t bytes) {
    ObjPtr o(nftnl_obj_alloc());
    nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, table.c_str());
    nftnl_obj_set_str(o.get(), NFTNL_OBJ_NAME, c.name.c_str());
    nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    nftnl_obj_set_u32(o.get(), NFTNL_OBJ_FAMILY, NFPROTO_INET);
    nftnl_obj_set_u64(o.get(), NFTNL_OBJ_CTR_PKTS, packets);
    nftnl_obj_set_u64(o.get(), NFTNL_OBJ_CTR_BYTES, bytes);
    if (!c.udata.empty()) nftnl_obj_set_data(o.get(), NFTNL_OBJ_USERDATA, c.udata.data(), c.udata.size());
    nlmsghdr* nlh = header(b, NFT_MSG_NEWOBJ, NLM_F_CREATE);
    nftnl_obj_nlmsg_build_payload(nlh, o.get());
    b.commit(nlh, MessageOrigin{c.span, "counter " + c.name});
}

void del_counter(Batch& b, const std::string& table, const std::string& name) {
    ObjPtr o(nftnl_obj_alloc());
    nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, table.c_str());
    nftnl_obj_set_str(o.get(), NFTNL_OBJ_NAME, name.c_str());
    nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    nlmsghdr* nlh = header(b, NFT_MSG_DELOBJ, 0);
    nftnl_obj_nlmsg_build_payload(nlh, o.get());
    b.commit(nlh, origin_of("deleting counter " + name));
}

void new_set(Batch& b, const std::string& table, const SetDef& def, std::uint32_t id, const MessageOrigin& origin,
             std::uint32_t desc_size) {
    SetPtr s(nftnl_set_alloc());
    nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table.c_str());
    nftnl_set_set_str(s.get(), NFTNL_SET_NAME, def.name.c_str());
    nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, NFPROTO_INET);
    nftnl_set_set_u32(s.get(), NFTNL_SET_FLAGS, def.flags);
    nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_TYPE, def.key_type);
    nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_LEN, def.key_len);
    if (def.flags & NFT_SET_MAP) {
        nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_TYPE, def.data_type);
        nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_LEN, def.data_len);
    }
    nftnl_set_set_u32(s.get(), NFTNL_SET_ID, id);
    if (const std::uint32_t size = def.size != 0 ? def.size : desc_size; size != 0) {
        nftnl_set_set_u32(s.get(), NFTNL_SET_DESC_SIZE, size);
    }
    if (def.timeout_ms != 0) nftnl_set_set_u64(s.get(), NFTNL_SET_TIMEOUT, def.timeout_ms);
    if (!def.concat.empty()) {
        std::array<std::uint8_t, 16> lens{};  // libnftnl wants one byte per field
        for (std::size_t i = 0; i < def.concat.size() && i < lens.size(); ++i) {
            lens[i] = static_cast<std::uint8_t>(def.concat[i]);
        }
        nftnl_set_set_data(s.get(), NFTNL_SET_DESC_CONCAT, lens.data(), static_cast<std::uint32_t>(def.concat.size()));
    }
    if (!def.udata.empty()) nftnl_set_set_data(s.get(), NFTNL_SET_USERDATA, def.udata.data(), def.udata.size());
    nlmsghdr* nlh = header(b, NFT_MSG_NEWSET, NLM_F_CREATE);
    nftnl_set_nlmsg_build_payload(nlh, s.get());
    b.commit(nlh, origin);
}

void del_set(Batch& b, const std::string& table, const std::string& name) {
    SetPtr s(nftnl_set_alloc());
    nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table.c_str());
    nftnl_set_set_str(s.get(), NFTNL_SET_NAME, name.c_str());
    nlmsghdr* nlh = header(b, NFT_MSG_DELSET, 0);
    nftnl_set_nlmsg_build_payload(nlh, s.get());
    b.commit(nlh, origin_of("deleting set " + name));
}

void new_rule(Batch& b, const std::string& table, const DesiredRule& rule, const MessageOrigin& origin) {
    for (const AnonSet& a : rule.anon_sets) {
        MessageOrigin anon_origin{a.span.valid() ? a.span : origin.span, "anonymous set of " + origin.what};
        new_set(b, table, a.def, a.id, anon_origin, static_cast<std::uint32_t>(a.elements.size()));
        ElementWriter w(b, true, table, a.def, a.id, anon_origin);
        for (const KeyElem& e : a.elements) w.put(e);
    }
    nlmsghdr* nlh = header(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
    // libnftnl only reads the rule here; its API is not const-correct.
    nftnl_rule_nlmsg_build_payload(nlh, const_cast<nftnl_rule*>(rule.rule.get()));
    MessageOrigin o = origin;
    record_expression_offsets(nlh, rule, o);
    b.commit(nlh, std::move(o));
}

// ---- elements ---------------------------------------------------------------

ElementWriter::ElementWriter(Batch& b, bool add, const std::string& table, const SetDef& def, std::uint32_t set_id,
                             MessageOrigin origin)
    : batch_(b), add_(add), table_(table), def_(def), set_id_(set_id), origin_(std::move(origin)) {}

ElementWriter::~ElementWriter() { close(); }

void ElementWriter::open() {
    nlh_ = header(batch_, add_ ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, add_ ? NLM_F_CREATE : 0);
    mnl_attr_put_strz(nlh_, NFTA_SET_ELEM_LIST_TABLE, table_.c_str());
    mnl_attr_put_strz(nlh_, NFTA_SET_ELEM_LIST_SET, def_.name.c_str());
    if (set_id_ != 0) mnl_attr_put_u32(nlh_, NFTA_SET_ELEM_LIST_SET_ID, htonl(set_id_));
    nest_ = mnl_attr_nest_start(nlh_, NFTA_SET_ELEM_LIST_ELEMENTS);
}

void ElementWriter::close() {
    if (nlh_ == nullptr) return;
    mnl_attr_nest_end(nlh_, nest_);
    batch_.commit(nlh_, origin_);
    nlh_ = nullptr;
    nest_ = nullptr;
}

// A nest's length is 16 bits: start a new message before it could overflow.
void ElementWriter::ensure_room() {
    constexpr std::size_t kLargestElement = 256;
    if (nlh_ != nullptr) {
        const auto used = static_cast<std::size_t>(static_cast<char*>(mnl_nlmsg_get_payload_tail(nlh_)) -
                                                   reinterpret_cast<char*>(nest_));
        if (used + kLargestElement > UINT16_MAX) close();
    }
    if (nlh_ == nullptr) open();
}

namespace {

void put_key(nlmsghdr* nlh, std::uint16_t type, U128 key, std::uint32_t len) {
    std::array<std::uint8_t, 16> bytes{};
    key_to_bytes(key, len, bytes.data());
    nlattr* nest = mnl_attr_nest_start(nlh, type);
    mnl_attr_put(nlh, NFTA_DATA_VALUE, len, bytes.data());
    mnl_attr_nest_end(nlh, nest);
}

}  // namespace

void ElementWriter::put(const KeyElem& e) {
    ensure_room();
    nlattr* elem = mnl_attr_nest_start(nlh_, NFTA_LIST_ELEM);
    if (e.end) mnl_attr_put_u32(nlh_, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
    put_key(nlh_, NFTA_SET_ELEM_KEY, e.key, def_.key_len);
    mnl_attr_nest_end(nlh_, elem);
    ++count_;
}

void ElementWriter::put(const MapElem& e) {
    ensure_room();
    nlattr* elem = mnl_attr_nest_start(nlh_, NFTA_LIST_ELEM);
    put_key(nlh_, NFTA_SET_ELEM_KEY, e.key, def_.key_len);
    put_key(nlh_, NFTA_SET_ELEM_KEY_END, e.key_end, def_.key_len);
    if (add_) {
        nlattr* data = mnl_attr_nest_start(nlh_, NFTA_SET_ELEM_DATA);
        nlattr* verdict = mnl_attr_nest_start(nlh_, NFTA_DATA_VERDICT);
        mnl_attr_put_u32(nlh_, NFTA_VERDICT_CODE, htonl(static_cast<std::uint32_t>(e.verdict)));
        if (!e.chain.empty()) mnl_attr_put_strz(nlh_, NFTA_VERDICT_CHAIN, e.chain.c_str());
        mnl_attr_nest_end(nlh_, verdict);
        mnl_attr_nest_end(nlh_, data);
    }
    mnl_attr_nest_end(nlh_, elem);
    ++count_;
}

}  // namespace nftpolicy::emit::encode
