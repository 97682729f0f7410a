// Why a pipeline run stopped, as a value: the CLI maps the kind to an exit
// code and the daemon to its STATUS= line; neither has to parse a message.
#pragma once

#include <string>

#include "support/result.h"

namespace nftpolicy::pipeline {

enum class FailureKind {
    unreadable,      // the policy file is missing or not a readable regular file
    bad_selection,   // a phase or gate selection that names no valid phase
    invalid_policy,  // the policy has errors: they are in the diagnostics
    busy,            // another apply holds the lock, or the ruleset kept changing
    kernel,          // netlink failed or the kernel rejected the batch
    system,          // I/O or permissions
    refused,  // a safety check said no (lockout guard, pending confirmation); --force overrides
};

struct Failure {
    FailureKind kind = FailureKind::system;
    std::string message;  // empty when diagnostics say it: invalid_policy, or the
                          // kernel refusing what a policy value produced
};

// The failure of a kernel or state-file step (the error's diagnostics, if
// any, belong with the run's other diagnostics).
Failure failure_of(const Error& error);

}  // namespace nftpolicy::pipeline
