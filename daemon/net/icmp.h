// ICMP and ICMPv6 message types by name, using exactly the names nft knows
// (`nft describe icmp type`, `nft describe icmpv6 type`), so a policy can say
// `icmp = ["echo-request"]` and the emitted text reads the same way nft lists it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/addr.h"

namespace nftpolicy::net {

// The type number for an nft name ("echo-request" -> 8 for IPv4, 128 for
// IPv6); nullopt when nft has no such name for that family.
std::optional<std::uint8_t> icmp_type_by_name(Family f, std::string_view name);

// nft's name for a type ("nd-neighbor-solicit"), or the number as text ("200")
// when nft has none.
std::string icmp_type_name(Family f, std::uint8_t type);

// Every canonical name of a family, in numeric order (for "did you mean").
std::vector<std::string> icmp_type_names(Family f);

}  // namespace nftpolicy::net
