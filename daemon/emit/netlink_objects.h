// IR -> the kernel objects of our table, as libnftnl objects and compact
// element lists: what the policy wants the kernel to hold ("desired"). The
// diff (netlink_diff.h) compares this with an ObservedTable and encodes only
// the difference into a Batch.
//
// Every statement is lowered to the expressions nft generates for it,
// including the implicit dependencies (`ip saddr @s` in an inet table is
// `meta nfproto ipv4` + payload + lookup), and `{ a, b }` lists become
// anonymous sets created in the same batch as their rule.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "emit/netlink_state.h"
#include "ir/ruleset.h"
#include "support/result.h"
#include "support/source.h"

struct nftnl_rule;

namespace nftpolicy::emit {

struct RuleDeleter {
    void operator()(nftnl_rule* r) const;
};
using RulePtr = std::unique_ptr<nftnl_rule, RuleDeleter>;

// An anonymous set (`{ 22, 80-90 }`) created with, and bound to, one rule.
struct AnonSet {
    SetDef def;  // name "__set%d": the kernel picks the number
    std::uint32_t id = 0;
    std::vector<KeyElem> elements;  // as sent, ascending
    SourceSpan span = {};           // the statement's
};

// One expression of a rule: its kind ("lookup") and the span of the IR
// statement that produced it, for error reports.
struct ExprOrigin {
    std::string name;
    SourceSpan span;
};

struct DesiredRule {
    RulePtr rule;  // family, table, chain and expressions set
    std::vector<AnonSet> anon_sets;
    CanonicalRule canonical;
    std::vector<ExprOrigin> exprs;  // per expression, in order
    SourceSpan span;
};

struct DesiredChain {
    std::string name;
    std::optional<BaseDef> base;
    std::vector<DesiredRule> rules;
    SourceSpan span;
};

// A named set or map. Address sets keep a pointer to the IR's intervals so a
// 1M-element set is never copied; elements are generated while encoding.
// A dynamic set (is_dynamic(def)) has neither: its elements are the kernel's.
struct DesiredSet {
    SetDef def;
    std::uint32_t id = 0;
    const ir::AddrSet* addr = nullptr;     // address set
    std::vector<MapElem> map_elements;    // service map, sorted
    const ir::ServiceMap* map = nullptr;  // service map: element spans
    SourceSpan span;
};

struct DesiredCounter {
    std::string name;
    std::vector<std::uint8_t> udata;  // the comment, as nft stores it
    SourceSpan span;
};

struct DesiredFlowtable {
    FlowtableDef def;
    SourceSpan span;
};

struct DesiredTable {
    std::string name;
    std::vector<DesiredCounter> counters;
    std::optional<DesiredFlowtable> flowtable;
    std::vector<DesiredSet> sets;
    std::vector<DesiredChain> chains;
};

// Resolves an interface name to its index for `iif`/`oif` (nft does this at
// compile time too). Returns 0 when there is no such interface.
using InterfaceIndex = std::function<std::uint32_t(const std::string& name)>;

struct ObjectOptions {
    InterfaceIndex interface_index;  // empty: if_nametoindex()
};

// The kernel's declaration of an IR flowtable.
FlowtableDef flowtable_def(const ir::Flowtable& f);

// Builds the desired objects. Fails only when an `iif`/`oif` interface does
// not exist. The IR table must outlive the result (address sets point into it).
Result<DesiredTable> build_objects(const ir::Table& table, const ObjectOptions& options = {});


}  // namespace nftpolicy::emit
