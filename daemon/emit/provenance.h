// Provenance of batch messages: from a kernel error (the message it names
// and the extended ACK offset into it) back to the policy text that produced
// the failing object. A rule message knows the span of each expression's
// statement; an element message decodes the element at the offset and asks
// the IR set which policy entry holds it (a literal, or an address file).
#pragma once

#include <cstdint>

#include "emit/netlink_batch.h"
#include "ir/ruleset.h"

namespace nftpolicy::emit {

// What an extended ACK offset into message `m` points at: the element or
// the expression there, with its span (the message's when it has none of
// its own); the message itself when the offset is 0 or points elsewhere.
Provenance locate(const BatchMessage& m, std::uint32_t offset);

// Names the elements of an address set's messages ("element 10.0.0.1 of
// set g_agents_v4"). The set must outlive the batch.
ElementProvenance address_elements(const ir::AddrSet& set);

// Names the elements of a service map's messages ("element tcp . 443 of
// map in_svc"). The map must outlive the batch.
ElementProvenance map_elements(const ir::ServiceMap& map);

}  // namespace nftpolicy::emit
