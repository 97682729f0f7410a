// Wording helpers for resolve/'s diagnostics.
#include "resolve/suggest.h"

#include "support/text.h"

namespace nftpolicy::resolve {

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best = closest_match(word, candidates);
    if (best.empty() || best == word) return {};
    return "; did you mean '" + best + "'?";
}

std::string quoted_list(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) {
        if (!out.empty()) out += ", ";
        out += "'" + name + "'";
    }
    return out;
}

}  // namespace nftpolicy::resolve
