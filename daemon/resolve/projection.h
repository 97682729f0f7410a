// The projection of a policy for one host or gateway, one phase per
// migration and one set of flipped gates: concrete flows with concrete address
// sets, each tagged with the chain direction it lands in. This is resolve/'s
// output and lower's input; it holds no TOML and no unresolved names.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "net/addr.h"
#include "policy/model.h"
#include "support/diagnostic.h"

namespace nftpolicy::resolve {

enum class Direction { input, output, forward };

// Where some addresses of an endpoint were written: a literal entry of a
// group, or a whole address file (its set shared, not copied).
struct AddrSource {
    net::AddrSet addrs;
    SourceSpan span;
};

// One side of a flow. `match == false` means "do not match this side's
// address" (the host itself on input/output, or `any`).
struct Endpoint {
    net::AddrSet addrs;  // evaluated group expression
    std::string label;   // the expression text, e.g. "backend & agent_handler"
    bool match = true;
    SourceSpan span;
    std::vector<AddrSource> sources = {};  // of every group the expression names, in policy order
};

// Why a flow exists in this phase; the migration issue builds on it.
enum class Lifecycle { permanent, legacy, introduced };

struct ProjectedFlow {
    std::string id;
    Direction direction = Direction::input;
    Endpoint src;
    Endpoint dst;
    bool ipv4 = true;  // families the flow covers: both sides must have them,
    bool ipv6 = true;  // so IPv6 is never opened wider than IPv4 by accident
    std::vector<policy::PortRange> tcp;
    std::vector<policy::PortRange> udp;
    std::vector<policy::IcmpType> icmp;
    std::vector<policy::IcmpType> icmpv6;
    std::vector<std::string> iifnames;  // gateway zones; empty = any interface
    std::vector<std::string> oifnames;
    Lifecycle lifecycle = Lifecycle::permanent;
    std::string gate;  // Lifecycle::legacy: "migration.gate" that retires it
    policy::SeenSettings seen;  // Lifecycle::legacy: how its migration records who uses it
    std::string comment;
    SourceSpan span;
};

// An optional flow (`optional = true`) that this site leaves out, and why.
struct OmittedFlow {
    std::string id;
    std::string reason;  // "'backend & agent_handler' resolves to no address"
    SourceSpan span;     // the [[flows]] table
};

struct Projection {
    std::string host;
    policy::HostMode mode = policy::HostMode::host;
    std::string table;
    policy::DriftMode drift = policy::DriftMode::repair;  // [settings] drift, for nftpolicyd
    policy::Baseline baseline;
    std::map<std::string, policy::Phase> phases;  // effective phase per migration
    std::set<std::string> flipped_gates;          // "migration.gate"
    std::vector<ProjectedFlow> flows;             // management first, then policy order
    std::vector<OmittedFlow> omitted;             // optional flows left out, policy order
    // A gateway's zone interfaces, sorted and unique: the devices of its
    // flowtable ([baseline] flowtable). Empty for hosts and zone-less gateways.
    std::vector<std::string> interfaces;
    SourceSpan interfaces_span;  // the gateway's [hosts.NAME] table
};

struct ResolveOptions {
    std::string host;  // empty: the policy's only host (an error if it has several)
    std::optional<policy::Phase> phase;             // every migration
    std::map<std::string, policy::Phase> phase_of;  // per migration, wins over `phase`
    std::set<std::string> flipped_gates;            // "migration.gate", added to the policy's
    std::set<std::string> reopened_gates;           // "migration.gate", taken from the policy's (state file)
    SourceSpan cli_span;                            // invalid: errors about options have no span
};

// Checks what the options name against the policy, before any projection:
// the host (unknown, or none chosen among several), the migration of every
// per-migration phase, every flipped gate. Errors have `options.cli_span`, so
// a front end can report them as a bad command line. resolve_policy makes
// the same checks. False after reporting.
bool check_options(const policy::Policy& policy, const ResolveOptions& options, Diagnostics& diags);

// Model -> projection. Reports every problem it finds (unknown group, service,
// gate, empty group expression, flow with no common family...) and returns
// nullopt if there was any error.
std::optional<Projection> resolve_policy(const policy::Policy& policy, const ResolveOptions& options,
                                         Diagnostics& diags);

}  // namespace nftpolicy::resolve
