// The difference between what the policy wants (DesiredTable) and what the
// kernel holds (ObservedTable), encoded as ONE batch that changes only what
// differs, so that re-applying keeps state:
//   - an unchanged set sends nothing; changed elements are added/deleted one
//     by one (a 1M-element set is not re-sent to change one address);
//   - the elements of a dynamic set are the kernel's (the packet path adds
//     them): never sent, compared or deleted; only its declaration counts;
//   - a chain whose rules differ is flushed and refilled; identical chains
//     are not touched;
//   - named counters and sets are never recreated unless their declaration
//     changed (then a counter keeps its values);
//   - a table that does not exist is created whole.
// Applying the same policy twice yields an empty batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "emit/netlink_batch.h"
#include "emit/netlink_objects.h"
#include "emit/netlink_state.h"

namespace nftpolicy::emit {

struct Plan {
    Batch batch;
    // One line per change, for `apply --dry-run` and `diff`:
    // "+ chain allow_ssh", "~ set web_v4: +2 -1 elements", "- counter flow_old".
    std::vector<std::string> changes;
    bool empty() const { return batch.empty(); }
};

// `observed` is nullptr when our table does not exist. The batch is closed
// with `genid`, the generation the observation was read at.
Plan plan_commit(const DesiredTable& desired, const ObservedTable* observed, std::uint32_t genid,
                 std::uint32_t first_seq = 1);

}  // namespace nftpolicy::emit
