// The typed policy model: what `load_policy` builds from the TOML files, after
// includes are merged and the schema is enforced. Nothing after policy/ reads
// TOML; every node keeps the SourceSpan it came from.
//
// References between nodes (a flow's services, a group expression's names) are
// kept as names with spans here; resolve/ checks and follows them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "net/addr.h"
#include "support/source.h"

namespace nftpolicy::policy {

// A name used somewhere, with where it was written.
struct NameRef {
    std::string name;
    SourceSpan span;
};

// ---- groups ---------------------------------------------------------------

// A group expression: `agents`, `backend & agent_handler`, `(a | b) - c`.
// `&` binds tighter than `|` and `-`, which are left-associative at one level.
struct GroupExpr {
    enum class Op { ref, union_, intersection, difference };
    Op op = Op::ref;
    std::string name;                // Op::ref: the group name ("any" is built in)
    std::vector<GroupExpr> operands; // binary ops: exactly two
    SourceSpan span;                 // the whole (sub)expression
    std::string text;                // source text of this (sub)expression, trimmed
};

// One literal address entry of a group, with its text as written.
struct AddressLiteral {
    net::AddressEntry entry;
    std::string text;
    SourceSpan span;
};

// `name = { file = "agents.txt" }`: a plain-text address list (one entry per
// line, `#` comments), read straight into an interval set so that inventories
// of a million addresses cost memory per interval, not per TOML node.
struct AddressFile {
    std::string path;  // as resolved (relative to the policy file)
    SourceSpan span;   // the `file` value
    net::AddrSet addrs;
    std::size_t entries = 0;  // lines with an address
};

// `name = ["10.0.0.0/8", ...]` (literal), `name = "a | b"` (expression) or
// `name = { file = "list.txt" }`.
struct Group {
    std::string name;
    SourceSpan span;  // the key
    std::variant<std::vector<AddressLiteral>, GroupExpr, AddressFile> definition;
    std::string comment;
};

// ---- services -------------------------------------------------------------

struct PortRange {
    std::uint16_t lo = 0;
    std::uint16_t hi = 0;  // == lo for a single port
    SourceSpan span;
};

struct IcmpType {
    std::uint8_t type = 0;
    std::string name;  // canonical nft name ("echo-request"), or the number as text
    SourceSpan span;
};

// `ses-sql = { tcp = [1433, 1434], udp = [1434] }`; ports may be "3023-4023".
struct Service {
    std::string name;
    SourceSpan span;  // the key
    std::vector<PortRange> tcp;
    std::vector<PortRange> udp;
    std::vector<IcmpType> icmp;    // ICMP for IPv4
    std::vector<IcmpType> icmpv6;  // ICMPv6
    std::string comment;
};

// ---- migrations -----------------------------------------------------------

enum class Phase { legacy, coexist, final_ };

// "legacy" / "coexist" / "final" -> Phase.
inline std::optional<Phase> phase_from_name(std::string_view name) {
    if (name == "legacy") return Phase::legacy;
    if (name == "coexist") return Phase::coexist;
    if (name == "final") return Phase::final_;
    return std::nullopt;
}

// `ses-2_7.agents-migrated` (gate) or `ses-2_7` (whole migration).
struct GateRef {
    std::string migration;
    std::string gate;  // empty: the reference names the migration itself
    SourceSpan span;
    std::string text() const { return gate.empty() ? migration : migration + "." + gate; }
};

// How a migration records which sources still use its legacy flows: one
// dynamic set per retiring gate and family (docs/policy-language.md, "Seen
// sets"). An address expires `timeout` after its last new connection.
inline constexpr std::uint32_t kDefaultSeenTimeout = 7 * 86400;  // seconds
inline constexpr std::uint32_t kMaxSeenTimeout = 365 * 86400;
inline constexpr std::uint32_t kDefaultSeenSize = 65536;  // a whole /16 of agents
inline constexpr std::uint32_t kMaxSeenSize = 1048576;
inline constexpr std::uint32_t kDefaultQuietFor = 86400;  // a day without legacy use
struct SeenSettings {
    std::uint32_t timeout = kDefaultSeenTimeout;  // seconds
    std::uint32_t size = kDefaultSeenSize;        // addresses per set
    SourceSpan span;                              // the migration
};

struct Migration {
    std::string name;
    SourceSpan span;
    std::vector<NameRef> gates;
    std::optional<Phase> phase;  // the policy's current phase, CLI --phase overrides
    SourceSpan phase_span;
    std::vector<NameRef> flipped;  // gates already flipped (state can add more)
    std::string description;
    SeenSettings seen;
    // `nftpolicy migration complete` refuses while a source used a flow the
    // gate retires within this window (seconds).
    std::uint32_t quiet_for = kDefaultQuietFor;
};

// ---- flows ----------------------------------------------------------------

struct Flow {
    std::string id;
    SourceSpan span;  // the [[flows]] table
    SourceSpan id_span;
    GroupExpr from;
    GroupExpr to;
    std::vector<NameRef> services;
    std::string comment;
    std::optional<GateRef> retired_by;     // exists until this gate flips (or phase final)
    std::optional<GateRef> introduced_by;  // exists from phase coexist (or once the gate flips)
    // A profile's flow for one layout or option: left out (not an error) where
    // `from` or `to` resolves to no address, e.g. a colocated-backend flow on
    // a site whose backends all run on their own machines.
    bool optional = false;
};

// ---- where the ruleset runs -----------------------------------------------

enum class HostMode { host, gateway };

// A gateway zone: interfaces, and the networks behind them.
struct Zone {
    std::string name;
    SourceSpan span;
    std::vector<NameRef> interfaces;
    std::optional<GroupExpr> networks;
};

// `[hosts.NAME]`: which roles this machine plays (explicit `roles`, or derived
// from its own `addresses`), and for gateways the zones of the forward path.
struct Host {
    std::string name;
    SourceSpan span;
    HostMode mode = HostMode::host;
    std::vector<NameRef> roles;
    std::vector<AddressLiteral> addresses;
    std::vector<Zone> zones;
};

// ---- baseline -------------------------------------------------------------

enum class ChainPolicy { accept, drop };

enum class RateUnit { second, minute, hour, day };

struct Rate {
    std::uint32_t count = 10;
    RateUnit unit = RateUnit::minute;
    std::uint32_t burst = 5;
    SourceSpan span;
};

// `[baseline] flowtable`: whether a gateway's established forwarded TCP and
// UDP flows take an nftables flowtable (the software fast path). `auto`: where
// the kernel accepts it; `on`: always, and an apply on a kernel that refuses
// it is an error; `off`: never. Hosts forward nothing and never get one.
enum class FlowtableMode { off, auto_, on };

struct FlowtableSetting {
    FlowtableMode mode = FlowtableMode::auto_;
    SourceSpan span;  // the value; empty: the default
};

struct Baseline {
    ChainPolicy input = ChainPolicy::drop;
    ChainPolicy forward = ChainPolicy::drop;
    bool egress = false;  // filter output too (policy drop, flows from this host)
    bool log_drops = true;
    Rate log_rate{10, RateUnit::minute, 5, {}};
    std::string log_prefix = "nftpolicy";
    Rate echo_rate{10, RateUnit::second, 5, {}};  // ICMP/ICMPv6 echo-request
    FlowtableSetting flowtable;
    SourceSpan span;
};

// `[management] from = "admins"; services = ["ssh"]`: always-allowed input.
struct Management {
    GroupExpr from;
    std::vector<NameRef> services;
    SourceSpan span;
};

// ---- what nftpolicyd does about drift --------------------------------------

// `[settings] drift`: when another process changes our table, nftpolicyd
// restores it (repair) or only logs what changed (report).
enum class DriftMode { repair, report };

struct DriftSetting {
    DriftMode mode = DriftMode::repair;
    SourceSpan span;
};

// ---- the whole policy -----------------------------------------------------

struct Policy {
    std::map<std::string, Group> groups;
    std::map<std::string, Service> services;
    std::vector<Flow> flows;  // declaration order: includes first, depth-first
    std::map<std::string, Migration> migrations;
    std::map<std::string, Host> hosts;
    Baseline baseline;
    std::optional<Management> management;
    std::vector<NameRef> disabled_flows;  // flow ids a site switches off
    std::string table = "nftpolicy";      // the inet table nftpolicy owns
    SourceSpan table_span;
    DriftSetting drift;  // span empty: the default
};

// Names that the language defines itself.
inline constexpr const char* kGroupAny = "any";

}  // namespace nftpolicy::policy
