#include "pipeline/projections.h"

#include <vector>

namespace nftpolicy::pipeline {

void for_each_projection(const policy::Policy& policy, const ProjectionVisitor& visit) {
    std::vector<std::string> hosts;
    for (const auto& [name, host] : policy.hosts) hosts.push_back(name);
    if (hosts.empty()) hosts.emplace_back();
    for (const auto& host : hosts) {
        for (auto phase : {policy::Phase::legacy, policy::Phase::coexist, policy::Phase::final_}) {
            resolve::ResolveOptions options;
            options.host = host;
            options.phase = phase;
            Diagnostics diags;
            auto projection = resolve::resolve_policy(policy, options, diags);
            visit.projection(host, phase, diags, projection);
        }
        if (visit.host_done) visit.host_done(host);
    }
}

}  // namespace nftpolicy::pipeline
