// Every projection of a policy, as `check` makes them: each host the policy
// declares (or one unnamed host for a host-less file, whose references are
// still checked) in each phase. `check` and the front-end fuzz target both
// walk them with this, so the fuzzer reaches exactly what `check` reaches.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "policy/model.h"
#include "resolve/projection.h"
#include "support/diagnostic.h"

namespace nftpolicy::pipeline {

struct ProjectionVisitor {
    // One (host, phase): the diagnostics of resolving it and the projection,
    // or nullopt when it failed. `host` is empty for a host-less file.
    std::function<void(const std::string& host, policy::Phase phase, Diagnostics& diags,
                       const std::optional<resolve::Projection>& projection)>
        projection;
    // Optional: called after a host's last phase.
    std::function<void(const std::string& host)> host_done;
};

// Resolves `policy` host by host, phase by phase (legacy, coexist, final).
void for_each_projection(const policy::Policy& policy, const ProjectionVisitor& visit);

}  // namespace nftpolicy::pipeline
