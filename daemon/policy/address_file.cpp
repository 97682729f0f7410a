#include "policy/address_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace nftpolicy::policy {

namespace {

// Past this many bad lines the list is clearly not an address list; stop.
constexpr std::size_t kMaxLineErrors = 20;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// Parses every line of `file`; appends the entries and reports bad lines.
bool parse_lines(const SourceFile& file, std::vector<net::AddressEntry>& entries, Diagnostics& diags) {
    std::size_t errors = 0;
    for (std::uint32_t n = 1; n <= file.line_starts.size(); ++n) {
        std::string_view line = file.line(n);
        std::string_view text = trim(line.substr(0, line.find('#')));
        if (text.empty()) continue;
        auto entry = net::parse_address_entry(text);
        if (entry) {
            entries.push_back(*entry);
            continue;
        }
        auto col = static_cast<std::uint32_t>(text.data() - line.data() + 1);
        diags.error(SourceSpan{&file, {n, col}, {n, col + static_cast<std::uint32_t>(text.size()) - 1}},
                    fmt::format("invalid address '{}': {}", text, entry.error().message));
        if (++errors == kMaxLineErrors) {
            diags.error(SourceSpan{&file, {n, 1}, {n, 1}}, "too many invalid lines; stopped reading this list");
            return false;
        }
    }
    return errors == 0;
}

}  // namespace

std::optional<AddressFile> read_address_file(const SourceFile& policy_file, const std::string& path,
                                             SourceSpan at, SourceManager& sources, Diagnostics& diags) {
    namespace fs = std::filesystem;
    fs::path p(path);
    if (p.is_relative()) p = fs::path(policy_file.path).parent_path() / p;
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        diags.error(at, fmt::format("cannot read address list '{}': {}", p.string(), std::strerror(errno)));
        return std::nullopt;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    const SourceFile& list = sources.add(p.string(), ss.str());
    std::vector<net::AddressEntry> entries;
    if (!parse_lines(list, entries, diags)) return std::nullopt;
    AddressFile out{p.string(), at, net::AddrSet::from_entries(entries), entries.size()};
    return out;
}

}  // namespace nftpolicy::policy
