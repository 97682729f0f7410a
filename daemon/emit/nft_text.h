// IR -> `nft -f` text. The table body is printed the way `nft list table`
// prints it (same order, indentation, canonical value forms), so a kernel
// round trip compares equal after trivial normalization.
#pragma once

#include <string>

#include "ir/ruleset.h"

namespace nftpolicy::emit {

struct TextOptions {
    // Prefix with "table inet T\ndelete table inet T\n" so that `nft -f`
    // replaces our table atomically and touches nothing else.
    bool replace = true;
};

std::string nft_text(const ir::Table& table, const TextOptions& options = {});

}  // namespace nftpolicy::emit
