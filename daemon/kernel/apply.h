// apply: make the kernel hold the IR table, changing only what differs, in
// one generation-checked transaction. Read our table, diff, commit; when the
// kernel says the ruleset generation moved (someone else committed between
// our read and our commit), read again, recompute and retry a bounded number
// of times. A rejected batch changes nothing, and the error carries a
// diagnostic per rejection, located at the policy text of the expression or
// set element the kernel refused (see emit/provenance.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "emit/netlink_objects.h"
#include "ir/ruleset.h"
#include "kernel/ruleset_kernel.h"
#include "support/diagnostic.h"
#include "support/result.h"

namespace nftpolicy::kernel {

struct ApplyOptions {
    bool dry_run = false;  // compute and report the changes, commit nothing
    int max_attempts = 3;  // commits tried when the generation keeps moving
    emit::ObjectOptions objects;
    // Elements of large sets from our last commit (see KnownElements); used
    // when the generation still matches, consumed either way.
    KnownElements* known = nullptr;
    // Sets with more elements than this are remembered in known_after.
    std::size_t known_threshold = 10000;
};

struct ApplyReport {
    std::vector<std::string> changes;  // empty: the kernel already matched
    // What apply decided that is not a change: "flowtable fastpath left out:
    // this kernel has no flowtables (...)" (kernel/flowtable_probe.h).
    std::vector<std::string> notes;
    std::size_t messages = 0;          // messages in the committed (or planned) batch
    std::uint32_t genid = 0;           // generation the last plan was computed against
    std::string scope;                 // which kernel (see KnownElements::scope)
    int attempts = 0;                  // commits sent
    bool committed = false;
    // The elements of large sets as the kernel now holds them, when we can
    // be sure of it (our commit was the only one in between); for the next
    // apply's `known`.
    std::optional<KnownElements> known_after;
};

// A table with a flowtable is first checked against the kernel
// (decide_flowtable): a refused "auto" flowtable is left out, with a note; a
// refused required one fails before anything is sent.
Result<ApplyReport> apply(RulesetKernel& kernel, const ir::Table& table, const ApplyOptions& options = {});

// One diagnostic per rejection, under the policy text of what the kernel
// refused: "kernel rejected rule 2 of chain input, expression 4 (lookup): No
// such file or directory" at the group expression of the address match, or
// "kernel rejected element tcp . 443 of map in_svc: ..." at the port.
std::vector<Diagnostic> describe_rejections(const emit::Batch& batch, const CommitOutcome& outcome);

}  // namespace nftpolicy::kernel
