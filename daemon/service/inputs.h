// What a compile depended on, as file stamps (device, inode, size,
// modification time): two equal fingerprints mean the files were not
// replaced or written in between, so the compiled ruleset still stands.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/ruleset.h"
#include "support/diagnostic.h"
#include "support/file_stamp.h"

namespace nftpolicy::service {

// The files a compiled table's spans name: the policy files of its rules,
// sets and service ports. An address list leaves no span (its set's span is
// the `file =` value), so the engine adds every file the compile read
// (SourceManager::paths). Sorted, without duplicates.
std::vector<std::string> files_of(const ir::Table& table);
// The files the diagnostics point into.
std::vector<std::string> files_of(const Diagnostics& diags);

struct InputStamp {
    std::string path;
    FileStamp stamp;
    friend bool operator==(const InputStamp&, const InputStamp&) = default;
};

using Fingerprint = std::vector<InputStamp>;

Fingerprint fingerprint(const std::vector<std::string>& paths);

}  // namespace nftpolicy::service
