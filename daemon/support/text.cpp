#include "support/text.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

namespace nftpolicy {

// Optimal string alignment distance: insertions, deletions, substitutions
// and transpositions of adjacent characters ("tpc" -> "tcp") cost one each.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
    std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
    std::string best;
    std::size_t best_d = limit + 1;
    for (const auto& c : candidates) {
        // The distance is at least the difference in length: skip the
        // quadratic computation for candidates that cannot be close.
        std::size_t gap = c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
        if (gap >= best_d) continue;
        std::size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

namespace {

constexpr std::pair<char, std::uint64_t> kUnits[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

}  // namespace

std::optional<std::uint64_t> parse_duration(std::string_view s) {
    std::uint64_t total = 0;
    std::size_t next_unit = 0;
    while (!s.empty()) {
        std::size_t digits = 0;
        while (digits < s.size() && digits < 9 && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
        if (digits == 0 || digits == s.size()) return std::nullopt;
        std::uint64_t n = 0;
        std::from_chars(s.data(), s.data() + digits, n);  // at most 9 digits: cannot overflow
        std::size_t u = next_unit;
        while (u < std::size(kUnits) && kUnits[u].first != s[digits]) ++u;
        if (u == std::size(kUnits)) return std::nullopt;
        total += n * kUnits[u].second;
        next_unit = u + 1;
        s.remove_prefix(digits + 1);
    }
    if (next_unit == 0) return std::nullopt;
    return total;
}

std::string format_duration(std::uint64_t seconds) {
    if (seconds == 0) return "0s";
    std::string out;
    for (auto [unit, size] : kUnits) {
        if (seconds < size) continue;
        out += std::to_string(seconds / size) + unit;
        seconds %= size;
    }
    return out;
}

}  // namespace nftpolicy
