// Who can reach whom: the reachability matrix of a whole site (or of what
// one host enforces), for one choice of phases and gates, and what changes
// at each step of each migration. Computed from the resolved site
// (resolve/site.h); cli/ renders it as text, JSON, DOT or SVG.
//
// Nodes are the endpoints the flows are written with: a flow from
// `agent_handler | console` counts for both `agent_handler` and `console`
// (a union is split into its operands, recursively); any other expression
// (`backend & agent_handler`) is a node of its own, named by its text.
// Nodes may overlap: the matrix shows the policy's roles as written.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "policy/model.h"
#include "resolve/projection.h"
#include "resolve/site.h"
#include "support/diagnostic.h"

namespace nftpolicy::matrix {

// The node the management access goes to: every host of the site, or with
// --host the host itself.
inline constexpr const char* kEveryHost = "(every host)";

enum class Status {
    permanent,   // in every phase
    legacy,      // retired at a gate or in phase final (`retired_by`)
    introduced,  // new: from phase coexist or once a gate flips (`introduced_by`)
};

// One service of one flow between two nodes.
struct Entry {
    std::string flow;         // flow id ("management" for the management access)
    policy::Service service;  // name and ports
    bool ipv4 = false;
    bool ipv6 = false;
    Status status = Status::permanent;
    std::string gate;  // legacy: what retires it; introduced: what brings it ("m.g" or "m")
};

struct Node {
    std::string name;  // the expression text, or kEveryHost
};

// What may flow from one node to another now; never empty.
struct Cell {
    std::size_t from = 0;  // index into Matrix::nodes
    std::size_t to = 0;
    std::vector<Entry> entries;  // flow order, then service order
};

struct Change {
    std::size_t from = 0;
    std::size_t to = 0;
    Entry entry;
};

enum class StepKind {
    coexist,  // the phase moves from legacy to coexist
    gate,     // a gate flips
    final_,   // the phase moves to final: every gate left flips, whole-migration legacy goes
};

struct Step {
    StepKind kind = StepKind::coexist;
    std::string gate;   // StepKind::gate: "migration.gate"
    bool done = false;  // already taken in the chosen phase and gates
    std::vector<Change> added;
    std::vector<Change> removed;
};

// The steps of one migration, in order: coexist, each gate as declared, final.
struct Migration {
    std::string name;
    policy::Phase phase = policy::Phase::legacy;
    std::vector<Step> steps;
};

struct Matrix {
    std::string host;                             // empty: the whole site
    std::map<std::string, policy::Phase> phases;  // effective phase per migration
    std::set<std::string> flipped_gates;          // "migration.gate"
    std::vector<Node> nodes;                      // first use in policy order, management's last
    std::vector<Cell> cells;                      // by (from, to)
    std::vector<Migration> migrations;            // name order
    std::vector<resolve::OmittedFlow> omitted;    // optional flows left out of the site
};

// The matrix of `site`. With `only` (flow ids), only those flows count:
// the nodes, cells and steps of what one host enforces.
Matrix build_matrix(const policy::Policy& policy, const resolve::Site& site,
                    const std::set<std::string>* only = nullptr);

// Policy -> matrix: resolve_site, and with `options.host` the host's
// projection (resolve_policy) to keep only the flows that host enforces.
// Reports every problem; nullopt if there was any error.
std::optional<Matrix> site_matrix(const policy::Policy& policy,
                                  const resolve::ResolveOptions& options, Diagnostics& diags);

// "legacy", "introduced", "permanent"
const char* status_name(Status status);
// "coexist", "gate", "final"
const char* step_kind_name(StepKind kind);

}  // namespace nftpolicy::matrix
