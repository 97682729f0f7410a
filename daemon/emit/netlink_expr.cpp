// libnftnl expression helpers; see netlink_expr.h. Attribute values match what
// `nft --debug=netlink` shows nft 1.0.x generating for the same syntax.
#include "emit/netlink_expr.h"

#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_tables.h>

#include <cassert>

namespace nftpolicy::emit::expr {

namespace {

nftnl_expr* make(const char* name) {
    nftnl_expr* e = nftnl_expr_alloc(name);
    assert(e != nullptr && "libnftnl knows every expression we use");
    return e;
}

}  // namespace

// [ meta load <key> => reg 1 ]
void meta_load(nftnl_rule* r, std::uint32_t key, std::uint32_t dreg) {
    nftnl_expr* e = make("meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
    nftnl_rule_add_expr(r, e);
}

// [ cmp eq reg 1 0x... ]
void cmp(nftnl_rule* r, std::uint32_t op, const void* data, std::uint32_t len, std::uint32_t sreg) {
    nftnl_expr* e = make("cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
    nftnl_rule_add_expr(r, e);
}

// [ payload load 4b @ network header + 12 => reg 1 ]
void payload(nftnl_rule* r, std::uint32_t base, std::uint32_t offset, std::uint32_t len, std::uint32_t dreg) {
    nftnl_expr* e = make("payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    nftnl_rule_add_expr(r, e);
}

// [ lookup reg 1 set s4 ] / [ lookup reg 1 set svc dreg 0 ]
void lookup(nftnl_rule* r, const std::string& set, std::uint32_t set_id, std::uint32_t sreg, int dreg) {
    nftnl_expr* e = make("lookup");
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
    if (dreg >= 0) nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, static_cast<std::uint32_t>(dreg));
    nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set.c_str());
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
    nftnl_rule_add_expr(r, e);
}

// [ dynset update reg_key 1 set seen_v4 ]
void dynset_update(nftnl_rule* r, const std::string& set, std::uint32_t set_id, std::uint32_t sreg) {
    nftnl_expr* e = make("dynset");
    nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, sreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
    nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set.c_str());
    nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, set_id);
    nftnl_rule_add_expr(r, e);
}

// [ bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000 ]
void bitwise_mask(nftnl_rule* r, std::uint32_t mask, std::uint32_t len) {
    const std::uint32_t zero = 0;
    nftnl_expr* e = make("bitwise");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, kReg1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, kReg1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
    nftnl_rule_add_expr(r, e);
}

// [ ct load state => reg 1 ]
void ct_load(nftnl_rule* r, std::uint32_t key) {
    nftnl_expr* e = make("ct");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, kReg1);
    nftnl_rule_add_expr(r, e);
}

// [ immediate reg 0 accept ] / [ immediate reg 0 jump -> CHAIN ]
void verdict(nftnl_rule* r, std::int32_t code, const std::string& chain) {
    nftnl_expr* e = make("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, kRegVerdict);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, static_cast<std::uint32_t>(code));
    if (!chain.empty()) nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain.c_str());
    nftnl_rule_add_expr(r, e);
}

// [ counter pkts 0 bytes 0 ]
void counter(nftnl_rule* r) {
    nftnl_expr* e = make("counter");
    nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, 0);
    nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, 0);
    nftnl_rule_add_expr(r, e);
}

// [ objref type 1 name flow_a ]
void counter_ref(nftnl_rule* r, const std::string& name) {
    nftnl_expr* e = make("objref");
    nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
    nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, name.c_str());
    nftnl_rule_add_expr(r, e);
}

void flow_offload(nftnl_rule* r, const std::string& flowtable) {
    nftnl_expr* e = make("flow_offload");
    nftnl_expr_set_str(e, NFTNL_EXPR_FLOW_TABLE_NAME, flowtable.c_str());
    nftnl_rule_add_expr(r, e);
}

// [ limit rate 10/minute burst 5 type packets flags 0x0 ]
void limit(nftnl_rule* r, std::uint64_t rate, std::uint64_t unit_seconds, std::uint32_t burst) {
    nftnl_expr* e = make("limit");
    nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
    nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, unit_seconds);
    nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
    nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
    nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
    nftnl_rule_add_expr(r, e);
}

// [ log prefix drop: ]
void log(nftnl_rule* r, const std::string& prefix) {
    nftnl_expr* e = make("log");
    nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix.c_str());
    nftnl_rule_add_expr(r, e);
}

// [ byteorder reg 1 = hton(reg 1, 2, 1) ]
void byteorder_hton(nftnl_rule* r, std::uint32_t reg, std::uint32_t size, std::uint32_t len) {
    nftnl_expr* e = make("byteorder");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, reg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, reg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, len);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, size);
    nftnl_rule_add_expr(r, e);
}

}  // namespace nftpolicy::emit::expr
