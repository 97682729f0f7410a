// Wording helpers shared by resolve/'s messages: "did you mean" suffixes and
// quoted name lists, so every message quotes names the same way.
#pragma once

#include <string>
#include <vector>

namespace nftpolicy::resolve {

// "; did you mean 'x'?" when a candidate is a plausible typo of `word`, else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// "'a', 'b', 'c'"
std::string quoted_list(const std::vector<std::string>& names);

// The keys of a name-keyed map, in order.
template <typename Map>
std::vector<std::string> keys_of(const Map& map) {
    std::vector<std::string> keys;
    keys.reserve(map.size());
    for (const auto& [key, value] : map) keys.push_back(key);
    return keys;
}

}  // namespace nftpolicy::resolve
