// The last good ruleset on disk (default /var/lib/nftpolicy/last-good): the
// compiled IR of the last policy nftpolicyd committed, so that a boot with a
// broken policy loads what last worked instead of nothing. The IR, not nft
// text: loading it needs no parser of nft's language, the same commit path
// as any apply loads it, and the ruleset hash in its header is recomputed
// over the loaded IR, so a truncated or edited file is refused, never half
// loaded. Format (docs/daemon.md, "Files"):
//
//   nftpolicy-ruleset 1 HASH
//   {one line of JSON: host, phases, gates, flows, the table without set elements}
//   LO HI            (hex, one line per interval of each address set, in table order)
//
// Written atomically (support/atomic_file.h).
#pragma once

#include <map>
#include <set>
#include <string>

#include "ir/ruleset.h"
#include "policy/model.h"
#include "support/result.h"

namespace nftpolicy::service {

// A compiled ruleset and what it was compiled for.
struct SavedRuleset {
    ir::Table table;
    std::string host;
    std::map<std::string, policy::Phase> phases;
    std::set<std::string> flipped_gates;
    std::size_t flows = 0;
    std::string hash;  // kernel::ruleset_hash(table)
};

// The file in a state directory.
std::string last_good_path(const std::string& state_dir);

std::string serialize_ruleset(const SavedRuleset& saved);
// `path` only names the file in errors. Fails on any syntax error and when
// the hash of what was read differs from the header's.
Result<SavedRuleset> parse_ruleset(const std::string& text, const std::string& path);

Result<void> write_last_good(const std::string& path, const SavedRuleset& saved);
// nullopt when the file does not exist.
Result<std::optional<SavedRuleset>> read_last_good(const std::string& path);
// The hash in the header alone (cheap: the file may hold a million
// addresses); nullopt when absent or unreadable.
std::optional<std::string> last_good_hash(const std::string& path);

}  // namespace nftpolicy::service
