// Lowering: projection -> ruleset IR. Pure and total: every valid projection
// lowers; nothing here can fail or read anything but its argument.
//
// Shape (see docs/classification.md): base chains input/forward/output with the
// baseline rules, then one `meta l4proto . th dport vmap @<dir>_svc` lookup that
// jumps to one chain per disjoint (protocol, port range) piece; that chain holds
// one rule per flow and family using the piece, matching named address sets
// (large ones split into a hash and an interval part: ir/split_sets.h).
#pragma once

#include <string>

#include "ir/ruleset.h"
#include "resolve/projection.h"

namespace nftpolicy::ir {

Table lower(const resolve::Projection& projection);

// The dynamic set in which the legacy flows retired by `gate` ("m.g", or "m"
// for the whole migration) record their users, per family.
std::string seen_set_name(const std::string& gate, net::Family f);
// The named counter of a flow, and back: the flow id of a counter name (a
// name that is not a flow counter is returned as it is).
std::string flow_counter_name(const std::string& flow_id);
// The name of a gateway's flowtable ([baseline] flowtable).
extern const char* const kFlowtableName;
std::string flow_of_counter(const std::string& counter);

}  // namespace nftpolicy::ir
