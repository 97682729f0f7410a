// The ruleset IR: one `inet` table we own, close to nftables' own model
// (table, named counters, sets, verdict maps, chains, rules as statement
// lists). Both emitters, nft text and the libnftnl batch, are a switch over
// these kinds and nothing more; every rule, statement, set, set element and
// counter keeps the source span that produced it, so a kernel rejection can
// be traced to the policy text (as nft keeps a location per expression and
// per set element).
//
// Statements are written at the level of nft's own syntax (`ip saddr @set`),
// not as registers: the netlink emitter adds the implicit dependencies that
// nft adds (`meta nfproto ipv4` before `ip saddr`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "net/addr.h"
#include "support/source.h"

namespace nftpolicy::ir {

// IPPROTO_* numbers used in the IR.
inline constexpr std::uint8_t kProtoIcmp = 1;
inline constexpr std::uint8_t kProtoTcp = 6;
inline constexpr std::uint8_t kProtoUdp = 17;
inline constexpr std::uint8_t kProtoIcmpv6 = 58;

// ---- objects ----------------------------------------------------------------

// `counter NAME { comment "..." }`: a named counter that survives rule changes.
struct Counter {
    std::string name;
    std::string comment;
    SourceSpan span;
};

// Where some addresses of a set were written: one literal entry of a group,
// or a whole address file. A file is one record, not one per line, and its
// addresses are the file's own list (shared, not copied), so provenance costs
// nothing per element even for a million addresses.
struct ElementSource {
    net::IntervalList addrs;  // the set's family only
    SourceSpan span;
};

// `set NAME { type ipv4_addr|ipv6_addr; flags interval; elements = {...} }`,
// or without `flags interval` (a hash set: every element one address, see
// ir/split_sets.h), whose elements are then intervals of one address each.
struct AddrSet {
    std::string name;
    net::Family family = net::Family::ipv4;
    net::IntervalList elements;  // sorted, disjoint, merged; shared with the projection
    std::string comment;
    SourceSpan span;                     // the group expression that names the set
    std::vector<ElementSource> sources = {};  // in policy order; may be empty
    bool interval = true;                // false: single addresses only, in a hash set
    std::uint32_t size = 0;              // a hash set's `size` (0: none), see ir/split_sets.h
};

// The span of the entry that put `addr` into the set: the first source
// holding it, else the set's own span.
SourceSpan element_span(const AddrSet& set, net::U128 addr);

// `set NAME { type ipv4_addr; size N; flags dynamic,timeout; timeout T; }`:
// a set the packet path fills (`update @NAME { ip saddr }`), never apply.
// Its elements are kernel state, like counter values: apply neither sends,
// compares nor deletes them, and keeps them across re-applies.
struct DynamicSet {
    std::string name;
    net::Family family = net::Family::ipv4;
    std::uint64_t timeout_ms = 0;  // an element expires this long after its last update;
                                   // whole seconds (the kernel counts in jiffies)
    std::uint32_t size = 0;        // at most this many elements (then updates stop adding)
    std::string comment;
    SourceSpan span;
};

// One element of a service map: `tcp . 3023-4023 : jump CHAIN`.
struct ServiceMapElement {
    std::uint8_t l4proto = kProtoTcp;
    std::uint16_t port_lo = 0;
    std::uint16_t port_hi = 0;
    std::string chain;
    SourceSpan span = {};  // the port (range) of the first flow that opens the piece
};

// `map NAME { type inet_proto . inet_service : verdict; flags interval; ... }`
// Elements never overlap (lowering splits port ranges into disjoint pieces).
struct ServiceMap {
    std::string name;
    std::vector<ServiceMapElement> elements;  // sorted by (l4proto, port_lo)
    SourceSpan span;
};

// `flowtable NAME { hook ingress priority filter; devices = { eth0, eth1 }; counter; }`:
// the software fast path of a gateway ([baseline] flowtable). A flow that
// `flow add @NAME` offloads skips the forward chain (and the routing path)
// from then on; with `counter`, conntrack keeps counting its packets.
struct Flowtable {
    std::string name;
    std::vector<std::string> devices;  // sorted, unique, at least one
    std::int32_t priority = 0;         // ingress hook; 0 = "filter"
    bool counter = true;
    // [baseline] flowtable = true: a kernel that refuses the flowtable is an
    // error. false ("auto"): apply leaves it out there, and says so.
    bool required = false;
    SourceSpan span;  // the [baseline] flowtable value, else the gateway's zones
};

// ---- statements -------------------------------------------------------------

// `meta nfproto ipv4`
struct MatchNfproto {
    net::Family family;
};

// `meta l4proto tcp` / `meta l4proto { icmp, ipv6-icmp }`
struct MatchL4proto {
    std::vector<std::uint8_t> protos;  // sorted, at least one
};

// `iif "lo"` (by index) / `iifname { "eth0", "eth1" }` / `oifname "eth1"`
struct MatchInterface {
    enum class Dir { in, out };
    Dir dir = Dir::in;
    bool by_name = true;             // false: iif/oif, resolved to an index
    std::vector<std::string> names;  // sorted, at least one
};

// `ip saddr @set` / `ip6 daddr @set`
struct MatchAddrSet {
    enum class Field { saddr, daddr };
    net::Family family = net::Family::ipv4;
    Field field = Field::saddr;
    std::string set;
};

// `update @set { ip saddr }` / `update @set { ip6 daddr }`: adds the address
// to a dynamic set, or restarts its timeout when it is there already. When
// the set is full the kernel ends the rule here (as if a match failed).
struct UpdateSet {
    net::Family family = net::Family::ipv4;
    MatchAddrSet::Field field = MatchAddrSet::Field::saddr;
    std::string set;
};

// `ct state established,related` / `ct state invalid`
struct MatchCtState {
    // NF_CT_STATE_* bits: invalid 1, established 2, related 4, new 8, untracked 64
    std::uint32_t mask = 0;
};

// `icmp type echo-request` / `icmpv6 type { nd-neighbor-solicit, ... }`
struct MatchIcmpType {
    net::Family family = net::Family::ipv4;  // ipv4: icmp, ipv6: icmpv6
    std::vector<std::uint8_t> types;          // sorted, at least one
};

// `tcp dport 22` / `udp dport { 1434, 3000-3100 }`
struct MatchDport {
    std::uint8_t l4proto = kProtoTcp;
    std::vector<std::pair<std::uint16_t, std::uint16_t>> ranges;  // sorted, disjoint
};

// `meta l4proto . th dport vmap @map`
struct ServiceVmap {
    std::string map;
};

enum class RateUnit { second, minute, hour, day };

// `limit rate 10/minute burst 5 packets`
struct Limit {
    std::uint64_t rate = 0;
    RateUnit unit = RateUnit::second;
    std::uint32_t burst = 5;
};

// `counter` (anonymous) / `counter name "flow_x"`
struct CounterStmt {
    std::string name;  // empty: anonymous counter
};

// `log prefix "..." level info`
struct Log {
    std::string prefix;
};

// `flow add @NAME`: offloads the packet's connection to a flowtable once
// conntrack holds it confirmed (and, for TCP, established); otherwise, and
// for any other protocol, the rule ends here as if a match failed.
struct FlowOffload {
    std::string flowtable;
};

// `accept` / `drop` / `jump CHAIN` / `return`
struct Verdict {
    enum class Kind { accept, drop, jump, return_ };
    Kind kind = Kind::accept;
    std::string chain;  // Kind::jump
};

using Statement = std::variant<MatchNfproto, MatchL4proto, MatchInterface, MatchAddrSet, MatchCtState,
                               MatchIcmpType, MatchDport, ServiceVmap, Limit, CounterStmt, Log, UpdateSet,
                               FlowOffload, Verdict>;

// A statement and the policy text that asked for it (the group expression of
// an address match, the ICMP types of a service, a migration's seen set).
// The kernel's extended ACK names one expression of a rule; emit maps it to
// the statement that produced it, and so to this span.
struct Stmt {
    Statement kind;
    SourceSpan span;  // invalid: the rule's span stands for it

    // Implicit: a statement without a span is written as its kind alone.
    template <typename T>
        requires std::is_constructible_v<Statement, T&&>
    Stmt(T&& s, SourceSpan where = {})  // NOLINT(google-explicit-constructor)
        : kind(std::forward<T>(s)), span(where) {}
};

struct Rule {
    std::vector<Stmt> stmts;  // in order; a verdict, if any, is last
    std::string comment;           // `comment "flow:ID"` for flow rules
    SourceSpan span;
};

// ---- chains and the table ---------------------------------------------------

enum class Hook { input, forward, output };
enum class ChainPolicy { accept, drop };

// Base chains are `type filter hook H priority filter; policy P;`.
struct BaseChain {
    Hook hook = Hook::input;
    std::int32_t priority = 0;  // 0 = "filter"
    ChainPolicy policy = ChainPolicy::drop;
};

struct Chain {
    std::string name;
    std::optional<BaseChain> base;
    std::vector<Rule> rules;
    SourceSpan span;
};

// The whole `table inet NAME`. Object order is nft's listing order: counters,
// sets (address sets, then dynamic sets), maps, the flowtable, then chains
// (regular chains before the base chains that jump to them).
struct Table {
    std::string name = "nftpolicy";
    std::vector<Counter> counters;
    std::vector<AddrSet> sets;
    std::vector<DynamicSet> dynamic_sets;
    std::vector<ServiceMap> maps;
    std::optional<Flowtable> flowtable;
    std::vector<Chain> chains;
};

// `table` without its flowtable and the rules that offload to it: what a
// kernel without flowtables gets for [baseline] flowtable = "auto". Every
// other rule stays, so the ruleset means the same; only the fast path goes.
Table without_flowtable(Table table);

}  // namespace nftpolicy::ir
