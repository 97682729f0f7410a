// Who a ruleset lets in: which source addresses a compiled table accepts a
// new connection from, to one service of this machine (the input hook), and
// what a new ruleset would cut of the management access an old one gives.
// The lockout guard of `apply`, nftpolicyd's reload and the gate flips asks
// it before committing (docs/confirm.md, "Lockout guard").
//
// The input chains are evaluated over sets of addresses, not one packet at a
// time: an address set flows through the rules, each match splits it, and
// the verdicts collect what is accepted. What the packet cannot tell (the
// interface a zone names, a rate limit, our own destination addresses) is
// assumed to match: the guard judges both rulesets by the same assumptions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/ruleset.h"
#include "net/addr.h"

namespace nftpolicy::ir {

// A service of this machine: protocol and destination port.
struct Service {
    std::uint8_t l4proto = kProtoTcp;
    std::uint16_t port = 0;
    friend auto operator<=>(const Service&, const Service&) = default;
};

// "tcp/22".
std::string service_name(const Service& s);

// Sources from which `table`'s input hook accepts a new connection to `s`
// that arrives on an interface other than loopback.
net::AddrSet accepted_sources(const Table& table, const Service& s);

// The management access a table declares: the services of its rules
// commented "flow:management" and the source sets they match.
struct Management {
    std::vector<Service> services;  // sorted, unique
    net::AddrSet sources;
};
Management management_of(const Table& table);

// The SSH session a command runs in ($SSH_CONNECTION: client address and
// port, server address and port).
struct SshClient {
    net::Family family = net::Family::ipv4;
    net::U128 addr = 0;
    std::uint16_t server_port = 22;
};
// nullopt when `ssh_connection` is empty or not four fields with an address
// first and a port fourth.
std::optional<SshClient> parse_ssh_connection(const std::string& ssh_connection);

// Management access the new ruleset would cut.
struct Cut {
    Service service;
    net::AddrSet sources;     // accepted before, not after
    bool ssh_client = false;  // the address of the running SSH session
};

// What `after` no longer accepts of the management services (declared by
// either table) from the management sources that `before` accepts them
// from, and the SSH client's own address on its server port when `before`
// accepts it. `before` nullopt: no table in the kernel, so everything was
// accepted (only the SSH client's address is checked).
std::vector<Cut> lockout(const std::optional<Table>& before, const Table& after,
                         const std::optional<SshClient>& ssh);

// "tcp/22 from 10.30.0.0/28, fd00:30::/64" (the SSH client marked).
std::string describe(const Cut& cut);

}  // namespace nftpolicy::ir
