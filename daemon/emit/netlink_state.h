// The kernel's view of one table, in a form both sides of a diff share: what
// the kernel holds (read by kernel/, "observed") and what the policy wants
// (built from the IR, "desired") are compared through these types.
//
// Rules are compared by a canonical text of their expressions (handles,
// counter values and anonymous set names left out; an anonymous set is
// replaced by its content), so that a rule the kernel holds compares equal
// to the rule we would send.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/addr.h"

struct nftnl_rule;

namespace nftpolicy::emit {

using net::U128;

// One element of a set with a scalar key of at most 16 bytes, the key bytes
// read as a big-endian number: numeric order is then the kernel's interval
// order. `end` marks NFT_SET_ELEM_INTERVAL_END.
struct KeyElem {
    U128 key = 0;
    bool end = false;
    friend bool operator==(const KeyElem&, const KeyElem&) = default;
};
// Ascending key; at equal keys an end element sorts before a start element.
bool operator<(const KeyElem& a, const KeyElem& b);

// The elements of an interval set, one at a time, as the kernel stores them
// in ascending key order: nft's leading end marker at 0 when the first
// interval does not start at 0, then each interval's start and (unless it
// reaches the top of the address space) the end element at hi+1. Adjacent
// intervals are merged on the way (the kernel cannot hold [a,b] and [b+1,c]).
// Reads the intervals in place: nothing is copied or materialized.
// The elements of a hash set (no NFT_SET_INTERVAL, `interval` false) are its
// single addresses, one element each, without markers.
class IntervalElements {
public:
    using Iter = net::IntervalList::const_iterator;
    // The intervals [first, last) of a list; `at_start`: they begin the set
    // (else they continue it, and nft's leading marker, if any, came before).
    IntervalElements(Iter first, Iter last, net::Family family, bool at_start, bool interval);
    // A whole list.
    IntervalElements(const net::IntervalList& intervals, net::Family family, bool interval = true);
    // The next element, or nullptr after the last; valid until the next call.
    const KeyElem* next();

private:
    void refill();
    Iter next_;
    Iter end_;
    U128 top_;
    bool first_;
    bool interval_;
    KeyElem buf_[3];
    std::size_t buf_len_ = 0;
    std::size_t buf_pos_ = 0;
};

// An address set's content as normalized intervals: our own record of what
// we committed (kernel/element_cache.h). Its kernel elements follow from it
// through IntervalElements, so a million-element set costs 8 or 32 bytes an
// interval (shared with the IR) instead of two 32-byte KeyElems.
struct IntervalContent {
    net::Family family = net::Family::ipv4;
    net::IntervalList intervals;
};

// One element of a concatenated-range verdict map: key and key_end are the
// 8-byte concatenation (proto padded to 4 bytes, port padded to 4 bytes) as a
// big-endian number; the verdict is NFT_JUMP/NFT_GOTO with a chain, or a plain
// verdict code.
struct MapElem {
    U128 key = 0;
    U128 key_end = 0;
    std::int32_t verdict = 0;
    std::string chain;
    friend bool operator==(const MapElem&, const MapElem&) = default;
};
bool operator<(const MapElem& a, const MapElem& b);

// A set as declared to the kernel, without its elements.
struct SetDef {
    std::string name;
    std::uint32_t flags = 0;
    std::uint32_t key_type = 0;
    std::uint32_t key_len = 0;
    std::uint32_t data_type = 0;  // maps only
    std::uint32_t data_len = 0;
    std::vector<std::uint32_t> concat;  // NFTA_SET_DESC_CONCAT field lengths
    std::vector<std::uint8_t> udata;    // nft's user data (byte order, typeof, comment)
    std::uint64_t timeout_ms = 0;       // NFTA_SET_TIMEOUT: default element timeout (0: none)
    std::uint32_t size = 0;             // NFTA_SET_DESC_SIZE of a named set (0: none)
};
// Two declarations the kernel would treat as the same set (no recreate needed).
bool same_definition(const SetDef& a, const SetDef& b);
// A set the packet path fills (NFT_SET_EVAL, `flags dynamic`): its elements
// are kernel state, never sent, compared or deleted by apply.
bool is_dynamic(const SetDef& def);

// `type filter hook H priority P; policy X;`
struct BaseDef {
    std::uint32_t hooknum = 0;
    std::int32_t prio = 0;
    std::string type = "filter";
    std::uint32_t policy = 0;  // NF_DROP 0, NF_ACCEPT 1
    friend bool operator==(const BaseDef&, const BaseDef&) = default;
};

// `flowtable NAME { hook ingress priority P; devices = {...}; counter; }`.
// Two flowtables that compare equal need no message on a re-apply.
struct FlowtableDef {
    std::string name;
    std::uint32_t hooknum = 0;  // NF_NETDEV_INGRESS
    std::int32_t prio = 0;
    std::vector<std::string> devices;  // in the kernel's order (we send them sorted)
    std::uint32_t flags = 0;           // NFT_FLOWTABLE_COUNTER...
    friend bool operator==(const FlowtableDef&, const FlowtableDef&) = default;
};

// A rule reduced to what matters for comparison.
struct CanonicalRule {
    std::string text;               // one line per expression, plus the user data
    std::vector<std::string> sets;  // named sets it looks up
    std::vector<std::string> objects;  // named counters and flowtables it references
};

// Resolves a lookup's set to the canonical text of an anonymous set's
// content; returns nullopt for a named set (then the name is used).
using AnonResolver = std::function<std::optional<std::string>(std::string_view name, std::uint32_t set_id)>;

CanonicalRule canonical_rule(const nftnl_rule* rule, const AnonResolver& resolve_anon);
// The canonical content of an anonymous set (definition and sorted elements).
std::string canonical_anon(const SetDef& def, std::vector<KeyElem> elements);

// ---- what the kernel holds ---------------------------------------------------

struct ObservedRule {
    std::uint64_t handle = 0;
    CanonicalRule canonical;
};

struct ObservedChain {
    std::string name;
    std::optional<BaseDef> base;
    std::vector<ObservedRule> rules;
};

struct ObservedSet {
    SetDef def;
    std::vector<KeyElem> elements;  // sorted; scalar-key sets read from the kernel (dynamic sets: not read)
    std::optional<IntervalContent> known;  // instead of `elements`: from our element cache
    std::vector<MapElem> map_elements;  // sorted; concatenated-range maps
};

struct ObservedCounter {
    std::string name;
    std::vector<std::uint8_t> udata;
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

// Our table as the kernel holds it, at generation `genid`.
struct ObservedTable {
    std::string name;
    std::uint32_t genid = 0;
    std::vector<ObservedChain> chains;  // in kernel order
    std::vector<ObservedSet> sets;      // named sets and maps only
    std::vector<ObservedCounter> counters;
    std::vector<FlowtableDef> flowtables;
};

// Helpers shared by the reader and the builder.
U128 key_from_bytes(const void* data, std::size_t len);
void key_to_bytes(U128 key, std::size_t len, std::uint8_t* out);

}  // namespace nftpolicy::emit
