// libnftnl expression helpers: each appends to a rule the expressions that nft
// itself generates for one piece of nft syntax (shown above each helper), so
// that a rule we commit lists exactly like the text the nft emitter prints.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct nftnl_rule;

namespace nftpolicy::emit::expr {

// The registers nft uses: verdict, the first 16-byte data register, and the
// 32-bit register right after it (second field of a concatenation).
inline constexpr std::uint32_t kRegVerdict = 0;
inline constexpr std::uint32_t kReg1 = 1;
inline constexpr std::uint32_t kReg32_01 = 9;

// `meta <key>` loaded into `dreg`.
void meta_load(nftnl_rule* r, std::uint32_t key, std::uint32_t dreg = kReg1);
// `... == value` / `... != value` on `sreg` (op is NFT_CMP_*).
void cmp(nftnl_rule* r, std::uint32_t op, const void* data, std::uint32_t len, std::uint32_t sreg = kReg1);
// `@nh,offset,len` / `@th,offset,len` loaded into `dreg` (base NFT_PAYLOAD_*).
void payload(nftnl_rule* r, std::uint32_t base, std::uint32_t offset, std::uint32_t len, std::uint32_t dreg = kReg1);
// `... @set` (lookup of `sreg` in a set named or identified in this batch);
// with `dreg` set, a verdict map lookup (`vmap @set`).
void lookup(nftnl_rule* r, const std::string& set, std::uint32_t set_id, std::uint32_t sreg = kReg1,
            int dreg = -1);
// `update @set { <key in sreg> }` (NFT_DYNSET_OP_UPDATE, the set's own timeout).
void dynset_update(nftnl_rule* r, const std::string& set, std::uint32_t set_id, std::uint32_t sreg = kReg1);
// `(reg & mask) ^ xor` into the same register (4-byte operands).
void bitwise_mask(nftnl_rule* r, std::uint32_t mask, std::uint32_t len = 4);
// `ct <key>` loaded into reg 1.
void ct_load(nftnl_rule* r, std::uint32_t key);
// `accept` / `drop` / `return` / `jump CHAIN` (verdict codes NF_* / NFT_*).
void verdict(nftnl_rule* r, std::int32_t code, const std::string& chain = "");
// `counter` (anonymous, starts at zero).
void counter(nftnl_rule* r);
// `counter name "NAME"`
void counter_ref(nftnl_rule* r, const std::string& name);
// [ flow_offload flowtable NAME ]: `flow add @NAME`
void flow_offload(nftnl_rule* r, const std::string& flowtable);
// `limit rate N/UNIT burst B packets` (unit in seconds).
void limit(nftnl_rule* r, std::uint64_t rate, std::uint64_t unit_seconds, std::uint32_t burst);
// `log prefix "PREFIX"` (level left to the kernel default, warn).
void log(nftnl_rule* r, const std::string& prefix);
// The byte order conversion nft places after `meta l4proto` when it is the
// first field of a concatenation (`meta l4proto . th dport`).
void byteorder_hton(nftnl_rule* r, std::uint32_t reg, std::uint32_t size, std::uint32_t len);

}  // namespace nftpolicy::emit::expr
