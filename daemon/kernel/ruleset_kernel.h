// The one narrow interface in front of the kernel: read our table (with the
// ruleset generation it was read at) and commit a batch. NetlinkKernel
// (netlink_kernel.h) talks to nf_tables; tests can substitute a fake.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
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
    std::string scope;  // see KnownElements::scope; empty when unknown
    std::optional<emit::ObservedTable> table;
};

// Elements of our large sets as they were right after our own last commit,
// valid while the ruleset generation is still `genid`. Reading a large set
// back is quadratic in the kernel (its element dump restarts the set walk for
// every 32 KiB message: minutes at 1M elements), so a re-apply that finds
// the generation unchanged takes the elements from here instead.
struct KnownElements {
    std::string table;
    std::string scope;  // which kernel ruleset: boot id and network namespace cookie
    std::uint32_t genid = 0;
    std::map<std::string, emit::IntervalContent> sets;  // by set name; shared with the IR
    // The rest of the table at `genid` (its `sets` without their contents),
    // when our last commit changed nothing but elements of `sets`: the read
    // before it still describes the kernel, and the next apply at the same
    // generation need not read again (a one-address reload at 1M). Counter
    // values are those of that read: a plan that would use them (a counter
    // recreated, "values kept") reads afresh. Never written to disk.
    std::shared_ptr<const emit::ObservedTable> rest;
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
    std::uint32_t genid_after = 0;  // generation after a successful commit (0: unknown)
};

// What read() fetches besides declarations, rules and counters.
struct ReadOptions {
    // Elements of our last commit: used instead of dumping a set while the
    // generation and the kernel are the ones they were recorded at.
    KnownElements* known = nullptr;
    // false: no set elements at all (status needs counters, not a dump of a
    // million-element set).
    bool elements = true;
};

class RulesetKernel {
public:
    virtual ~RulesetKernel() = default;
    // Reads table `inet <name>`: chains and rules, named sets with their
    // elements (see ReadOptions), named counters. Consistent: retried if the
    // ruleset changes while it is being dumped. Known elements used are moved
    // out of `options.known`.
    virtual Result<KernelView> read(const std::string& table, const ReadOptions& options = {}) = 0;
    // The current ruleset generation, and which kernel ruleset this is
    // (KnownElements::scope; empty when unknown).
    virtual Result<std::uint32_t> generation() = 0;
    virtual const std::string& scope() const = 0;
    // Sends a closed batch as one transaction and reads every acknowledgement.
    virtual Result<CommitOutcome> commit(const emit::Batch& batch) = 0;
    // Sends a batch closed with close_for_check(): the kernel answers every
    // message as it would in a commit, then aborts. Never changes anything;
    // status `committed` means the kernel would have accepted every message.
    virtual Result<CommitOutcome> check(const emit::Batch& batch) = 0;
};

}  // namespace nftpolicy::kernel
