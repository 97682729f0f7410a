// Test helper: an address set from literal entries, e.g.
// addrs({"10.0.0.0/24", "fd00::1"}). Aborts the test on a bad literal.
#pragma once

#include <initializer_list>

#include "net/addr.h"

namespace nftpolicy::testing {

inline net::AddrSet addrs(std::initializer_list<const char*> texts) {
    net::AddrSet s;
    for (const char* t : texts) s.add(net::parse_address_entry(t).value());
    return s;
}

}  // namespace nftpolicy::testing
