// The rulesets nftpolicyd falls back to when the policy gives none at start
// (docs/daemon.md, "Start"): the last good ruleset from the state directory,
// else a safe built-in one. The built-in ruleset is the baseline (input and
// forward dropped, established/related, loopback, the ICMP that IP needs,
// dropped packets logged) plus management access only, never accept-all:
//   - the policy's own [management] access when the policy loads and its
//     groups and management services resolve with every flow left out;
//   - else tcp/22 from anywhere, IPv4 and IPv6: on a remote machine a broken
//     policy file must not lock the admin out of the box that needs fixing.
#pragma once

#include <memory>
#include <string>

#include "pipeline/compile.h"
#include "service/ruleset_file.h"

namespace nftpolicy::service {

struct Fallback {
    std::shared_ptr<const pipeline::Compiled> compiled;
    std::string access;  // what it lets in, for STATUS and the journal
};

// The built-in ruleset for `request` (its table, host and policy file).
Fallback builtin_ruleset(const pipeline::PolicyRequest& request);

// A saved ruleset as a compile result (no sources: spans are empty).
std::shared_ptr<const pipeline::Compiled> compiled_of(SavedRuleset saved);

// A compile result as what the last good file keeps.
SavedRuleset saved_of(const pipeline::Compiled& compiled);

}  // namespace nftpolicy::service
