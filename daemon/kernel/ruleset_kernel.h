// The one narrow interface in front of the kernel: read our table (with the
// ruleset generation it was read at) and commit a batch. NetlinkKernel
// (netlink_kernel.h) talks to nf_tables; tests can substitute a fake.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "emit/netlink_batch.h"
#include "emit/netlink_state.h"
#include "support/result.h"

namespace nftpolicy::kernel {

// Our table as the kernel holds it, or nullopt when it does not exist, and
// the generation of the whole ruleset at the time of reading.
struct KernelView {
    std::uint32_t genid = 0;
    std::optional<emit::ObservedTable> table;
};

// The kernel's complaint about one message of a batch.
struct Rejection {
    int error = 0;             // positive errno
    std::uint32_t seq = 0;     // sequence number of the message (BATCH_BEGIN: the whole batch)
    std::uint32_t offset = 0;  // extended ACK: offset of the offending attribute, 0 if none
    std::string message;       // extended ACK text, if the kernel gave one
};

struct CommitOutcome {
    enum class Status {
        committed,  // every message acknowledged, nothing rejected
        conflict,   // the ruleset generation changed since the read (ERESTART)
        rejected,   // the kernel refused the batch; nothing was applied
    };
    Status status = Status::committed;
    std::vector<Rejection> rejections;
    std::size_t acks = 0;  // acknowledgements read
};

class RulesetKernel {
public:
    virtual ~RulesetKernel() = default;
    // Reads table `inet <name>`: chains and rules, named sets with their
    // elements, named counters. Consistent: retried if the ruleset changes
    // while it is being dumped.
    virtual Result<KernelView> read(const std::string& table) = 0;
    // Sends a closed batch as one transaction and reads every acknowledgement.
    virtual Result<CommitOutcome> commit(const emit::Batch& batch) = 0;
};

}  // namespace nftpolicy::kernel
