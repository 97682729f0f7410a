// The flowtable probe and apply's decision; see flowtable_probe.h.
#include "kernel/flowtable_probe.h"

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "emit/netlink_encode.h"
#include "emit/netlink_objects.h"

namespace nftpolicy::kernel {

namespace {

// Never committed (the batch has no BATCH_END), so the names cannot clash
// with anything that stays; a table of this name that exists is left as it is.
constexpr const char* kScratchTable = "nftpolicy_probe";
constexpr const char* kBare = "probe_bare";
constexpr const char* kFull = "probe_full";

const Rejection* rejection_of(const CommitOutcome& out, std::uint32_t seq) {
    for (const Rejection& r : out.rejections) {
        if (r.seq == seq) return &r;
    }
    return nullptr;
}

std::string reason(const Rejection& r) {
    std::string text = std::strerror(r.error);
    if (!r.message.empty()) text += ": " + r.message;
    return text;
}

emit::Batch probe_batch(const ir::Flowtable& flowtable) {
    emit::Batch batch;
    emit::encode::new_table(batch, kScratchTable);
    emit::FlowtableDef full = emit::flowtable_def(flowtable);
    emit::FlowtableDef bare = full;
    bare.name = kBare;
    bare.devices.clear();
    bare.flags = 0;
    full.name = kFull;
    emit::encode::new_flowtable(batch, kScratchTable, bare, {{}, "flowtable probe (no devices)"});
    emit::encode::new_flowtable(batch, kScratchTable, full, {{}, "flowtable probe"});
    batch.close_for_check();
    return batch;
}

}  // namespace

Result<FlowtableProbe> probe_flowtable(RulesetKernel& kernel, const ir::Flowtable& flowtable) {
    const emit::Batch batch = probe_batch(flowtable);
    auto out = kernel.check(batch);
    if (!out) return tl::unexpected(out.error());
    const auto& msgs = batch.messages();  // table, bare flowtable, full flowtable
    const Rejection* table = rejection_of(*out, msgs[0].seq);
    const Rejection* bare = rejection_of(*out, msgs[1].seq);
    const Rejection* full = rejection_of(*out, msgs[2].seq);
    if (table != nullptr) return fail(ErrorKind::kernel, "flowtable probe: the kernel refused a scratch table: " + reason(*table));
    if (full == nullptr) return FlowtableProbe{true, ""};
    if (bare != nullptr) return FlowtableProbe{false, "this kernel has no flowtables (" + reason(*bare) + ")"};
    return FlowtableProbe{false, fmt::format("the kernel refuses it on {} ({}; an interface that does not exist?)",
                                             fmt::join(flowtable.devices, ", "), reason(*full))};
}

Result<FlowtableDecision> decide_flowtable(RulesetKernel& kernel, const ir::Table& table) {
    if (!table.flowtable) return FlowtableDecision{};
    const ir::Flowtable& ft = *table.flowtable;
    auto probe = probe_flowtable(kernel, ft);
    if (!probe) return tl::unexpected(probe.error());
    if (probe->accepted) return FlowtableDecision{};
    if (ft.required) {
        Diagnostic d{Severity::error, ft.span,
                     "flowtable = true, but the kernel refuses flowtable " + ft.name + ": " + probe->refusal +
                         "; nothing was changed",
                     {}};
        add_note(d, {}, "flowtable = \"auto\" leaves the flowtable out where the kernel refuses it");
        return fail(ErrorKind::kernel, {std::move(d)});
    }
    return FlowtableDecision{ir::without_flowtable(table),
                             "flowtable " + ft.name + " left out: " + probe->refusal +
                                 "; established forwarded flows take the forward chain"};
}

}  // namespace nftpolicy::kernel
