// Small text helpers shared by the stages: edit distance for "did you mean",
// and name validation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nftpolicy {

// Levenshtein distance between two short strings.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is close enough to be a plausible typo
// (distance <= max(1, len/3)); empty when none is.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace nftpolicy
