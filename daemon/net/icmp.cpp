// Name tables for ICMP and ICMPv6 types, copied from what nftables 1.0.6
// prints for `nft describe icmp type` / `nft describe icmpv6 type`.
#include "net/icmp.h"

#include <span>

namespace nftpolicy::net {

namespace {

struct IcmpName {
    std::uint8_t type;
    std::string_view name;
};

// In numeric order; for a type with several names the first is the one nft prints.
constexpr IcmpName kIcmp[] = {
    {0, "echo-reply"},           {3, "destination-unreachable"},
    {4, "source-quench"},        {5, "redirect"},
    {8, "echo-request"},         {9, "router-advertisement"},
    {10, "router-solicitation"}, {11, "time-exceeded"},
    {12, "parameter-problem"},   {13, "timestamp-request"},
    {14, "timestamp-reply"},     {15, "info-request"},
    {16, "info-reply"},          {17, "address-mask-request"},
    {18, "address-mask-reply"},
};

constexpr IcmpName kIcmpv6[] = {
    {1, "destination-unreachable"},  {2, "packet-too-big"},         {3, "time-exceeded"},
    {4, "parameter-problem"},        {128, "echo-request"},         {129, "echo-reply"},
    {130, "mld-listener-query"},     {131, "mld-listener-report"},  {132, "mld-listener-done"},
    {132, "mld-listener-reduction"}, {133, "nd-router-solicit"},    {134, "nd-router-advert"},
    {135, "nd-neighbor-solicit"},    {136, "nd-neighbor-advert"},   {137, "nd-redirect"},
    {138, "router-renumbering"},     {141, "ind-neighbor-solicit"}, {142, "ind-neighbor-advert"},
    {143, "mld2-listener-report"},
};

std::span<const IcmpName> table(Family f) {
    if (f == Family::ipv4) return kIcmp;
    return kIcmpv6;
}

}  // namespace

std::optional<std::uint8_t> icmp_type_by_name(Family f, std::string_view name) {
    for (const auto& e : table(f))
        if (e.name == name) return e.type;
    return std::nullopt;
}

std::string icmp_type_name(Family f, std::uint8_t type) {
    for (const auto& e : table(f))
        if (e.type == type) return std::string(e.name);
    return std::to_string(type);
}

std::vector<std::string> icmp_type_names(Family f) {
    std::vector<std::string> out;
    for (const auto& e : table(f))
        if (out.empty() || icmp_type_by_name(f, out.back()) != e.type) out.emplace_back(e.name);
    return out;
}

}  // namespace nftpolicy::net
