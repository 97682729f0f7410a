// Service lookup: the policy's services plus the built-in `ssh` (tcp/22),
// which a policy may redefine.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/model.h"
#include "support/diagnostic.h"

namespace nftpolicy::resolve {

class ServiceTable {
  public:
    explicit ServiceTable(const policy::Policy& policy);

    // The service a reference names, or nullptr after reporting it unknown.
    const policy::Service* find(const policy::NameRef& ref, Diagnostics& diags) const;
    // Every reference resolved; nullopt if any is unknown (all are reported).
    std::optional<std::vector<const policy::Service*>> find_all(
        const std::vector<policy::NameRef>& refs, Diagnostics& diags) const;

  private:
    const policy::Policy& policy_;
    policy::Service ssh_;
};

}  // namespace nftpolicy::resolve
