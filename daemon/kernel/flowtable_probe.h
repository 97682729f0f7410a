// Whether the running kernel accepts a gateway's flowtable, and what apply
// commits when it does not ([baseline] flowtable, docs/policy-language.md).
//
// The question is asked the way `nft -c` asks it: one batch without
// BATCH_END (RulesetKernel::check), which the kernel answers message by
// message and then aborts, so nothing is ever created. The batch declares,
// in a scratch table, the flowtable exactly as apply would (hook, priority,
// devices, flags) and a second one without devices: the second tells a
// kernel without flowtables (CONFIG_NF_FLOW_TABLE unset: ENOENT) from one
// that refuses the devices (an interface that does not exist yet: ENOENT
// on the device).
#pragma once

#include <optional>
#include <string>

#include "ir/ruleset.h"
#include "kernel/ruleset_kernel.h"
#include "support/result.h"

namespace nftpolicy::kernel {

struct FlowtableProbe {
    bool accepted = false;
    std::string refusal;  // why not, one clause: "this kernel has no flowtables (No such file or directory)"
};

// Asks the kernel about `flowtable`; changes nothing.
Result<FlowtableProbe> probe_flowtable(RulesetKernel& kernel, const ir::Flowtable& flowtable);

// What apply commits for `table` on this kernel.
struct FlowtableDecision {
    std::optional<ir::Table> without;  // set: commit this (the flowtable left out), not `table`
    std::optional<std::string> note;   // one line for apply's output and the daemon's log
};

// A table without a flowtable, or one the kernel accepts, is committed as it
// is. A refused flowtable is left out when the policy said "auto" (with a
// note saying why) and is an error at the [baseline] flowtable value when it
// said true: nothing is committed then.
Result<FlowtableDecision> decide_flowtable(RulesetKernel& kernel, const ir::Table& table);

}  // namespace nftpolicy::kernel
