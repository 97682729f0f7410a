// Reading the seen sets (docs/policy-language.md, "Seen sets"): the dynamic
// sets in which legacy flows record which remote addresses still use them.
// Unlike NetlinkKernel::read, this dumps the elements of one named dynamic
// set *with their timers*: each element's timeout and the time left until it
// expires, which together say when the address was last seen. Only the
// named set is dumped, never the table's large static address sets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/addr.h"

namespace nftpolicy::kernel {

// One address of a seen set.
struct SeenElement {
    net::Family family = net::Family::ipv4;
    net::U128 addr = 0;
    std::uint64_t timeout_ms = 0;  // the element's timeout (the set's, unless set per element)
    std::uint64_t expires_ms = 0;  // time left until it expires
    // How long ago the address last opened a connection: `update` restarts
    // the timer, so the time elapsed since is timeout - expires.
    std::uint64_t idle_ms() const { return timeout_ms > expires_ms ? timeout_ms - expires_ms : 0; }
};

struct SeenSet {
    std::string name;
    bool present = false;       // false: the kernel has no such set
    net::Family family = net::Family::ipv4;
    std::uint32_t size = 0;     // declared maximum (0: unbounded)
    std::uint64_t timeout_ms = 0;
    std::vector<SeenElement> elements;
    // A full set stops recording new addresses: its list is not the whole story.
    bool full() const { return size != 0 && elements.size() >= size; }
};

}  // namespace nftpolicy::kernel
