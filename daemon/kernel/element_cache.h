// KnownElements on disk, so that the next `nftpolicy apply` need not dump a
// large set back from the kernel (see KnownElements in ruleset_kernel.h).
// The file is only a hint: it is used only when the kernel's generation still
// equals the one recorded, and a missing or unreadable file means "dump".
#pragma once

#include <optional>
#include <string>

#include "kernel/ruleset_kernel.h"
#include "support/result.h"

namespace nftpolicy::kernel {

Result<void> write_known(const std::string& path, const KnownElements& known);
// nullopt when absent or not in the expected format.
std::optional<KnownElements> read_known(const std::string& path);

}  // namespace nftpolicy::kernel
