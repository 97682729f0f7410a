// Adopting the CLI's applies; see adopt.h.
#include "drift/adopt.h"

namespace nftpolicy::drift {

bool made_by_record(const Foreign& change, const kernel::ApplyRecord& record, const std::string& table,
                    std::int64_t not_before) {
    if (record.table != table || record.applied_at < not_before) return false;
    if (record.genid == change.genid) return true;
    return change.proc == kCliProcess && after(record.genid, change.genid);
}

Resolution resolve(const Assessment& assessment, const std::optional<kernel::ApplyRecord>& record,
                   const std::string& table, std::int64_t not_before) {
    Resolution out;
    if (assessment.action != Action::repair && assessment.action != Action::resync) return out;
    out.repair = true;
    if (!record || record->table != table || record->applied_at < not_before) return out;
    // After lost events the transactions are unknown: a record written since
    // our last look is adopted whichever generation it names.
    out.adopt = assessment.action == Action::resync;
    for (const Foreign& f : assessment.foreign) {
        if (made_by_record(f, *record, table, not_before)) out.adopted.push_back(f.genid);
    }
    out.adopt = out.adopt || !out.adopted.empty();
    return out;
}

}  // namespace nftpolicy::drift
