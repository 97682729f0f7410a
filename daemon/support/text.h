// Small text helpers shared by the stages: edit distance for "did you mean",
// name validation and durations.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nftpolicy {

// Levenshtein distance between two short strings.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is close enough to be a plausible typo
// (distance <= max(1, len/3)); empty when none is.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// "7d", "12h", "1d12h", "90m", "30s": numbers with units d, h, m, s, each
// unit at most once and from the largest down (nft's own spelling), in
// seconds; nullopt when malformed.
std::optional<std::uint64_t> parse_duration(std::string_view text);

// Seconds in that spelling, largest units first: 90061 -> "1d1h1m1s", 0 -> "0s".
std::string format_duration(std::uint64_t seconds);

}  // namespace nftpolicy
