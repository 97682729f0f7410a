#include "policy/address_file.h"

#include <filesystem>

#include <fmt/format.h>

#include "policy/limits.h"
#include "support/file_read.h"

namespace nftpolicy::policy {

namespace {

// Past this many bad lines the list is clearly not an address list; stop.
constexpr std::size_t kMaxLineErrors = 20;

// Parses every line of `file` into `out` (unsorted); reports bad lines.
bool parse_lines(const SourceFile& file, net::IntervalCollector& v4, net::IntervalCollector& v6, std::size_t& entries,
                 Diagnostics& diags) {
    std::size_t errors = 0;
    for (std::uint32_t n = 1; n <= file.line_starts.size(); ++n) {
        std::string_view line = file.line(n);
        std::string_view text = entry_text(line);
        if (text.empty()) continue;
        auto entry = net::parse_address_entry(text);
        if (entry) {
            (entry->family == net::Family::ipv4 ? v4 : v6).add(entry->range);
            ++entries;
            continue;
        }
        auto col = static_cast<std::uint32_t>(text.data() - line.data() + 1);
        diags.error(SourceSpan{&file, {n, col}, {n, col + static_cast<std::uint32_t>(text.size()) - 1}},
                    address_error(text, entry.error().message));
        if (++errors == kMaxLineErrors) {
            diags.error(SourceSpan{&file, {n, 1}, {n, 1}}, "too many invalid lines; stopped reading this list");
            return false;
        }
    }
    return errors == 0;
}

// A full parse, normalized.
std::optional<ParsedList> parse_list(const SourceFile& list, Diagnostics& diags) {
    ParsedList out;
    net::IntervalCollector v4, v6;
    if (!parse_lines(list, v4, v6, out.entries, diags)) return std::nullopt;
    out.addrs = {std::move(v4).finish(), std::move(v6).finish()};
    out.simple = out.entries == out.addrs.v4.size() + out.addrs.v6.size();
    return out;
}

std::nullopt_t read_error(const std::filesystem::path& p, SourceSpan at, const Error& e, Diagnostics& diags) {
    diags.error(at, fmt::format("cannot read address list '{}': {}", p.string(), e.message));
    return std::nullopt;
}

}  // namespace

std::string address_error(std::string_view text, const std::string& why) {
    if (why.find(fmt::format("'{}'", text)) != std::string::npos) return why;
    return fmt::format("invalid address '{}': {}", text, why);
}

std::optional<AddressFile> read_address_file(const SourceFile& policy_file, const std::string& path,
                                             SourceSpan at, SourceManager& sources, Diagnostics& diags,
                                             AddressListCache* cache) {
    namespace fs = std::filesystem;
    fs::path p(path);
    if (p.is_relative()) p = fs::path(policy_file.path).parent_path() / p;
    // An empty name would become the policy's own directory: refuse it as itself.
    if (path.empty()) p.clear();
    std::string text;
    std::optional<ParsedList> parsed;
    if (cache && cache->holds(p.string())) {
        auto kept = cache->refresh(p.string(), limits::kAddressList);
        if (!kept) return read_error(p, at, kept.error(), diags);
        parsed = std::move(kept->parsed);
        text = std::move(kept->text);
    } else {
        auto read = read_regular_file(p.string(), limits::kAddressList);
        if (!read) return read_error(p, at, read.error(), diags);
        text = std::move(*read);
    }
    // A list the cache answers for needs no SourceFile: it has no errors to
    // point into, and spans name the `file =` value, not the list.
    if (parsed) {
        sources.note_read(p.string());
        return AddressFile{p.string(), at, parsed->addrs, parsed->entries};
    }
    const SourceFile& list = sources.add(p.string(), cache ? text : std::move(text));
    parsed = parse_list(list, diags);
    if (parsed) sources.release_text(list);  // an error quotes its line
    if (!parsed) return std::nullopt;
    AddressFile out{p.string(), at, parsed->addrs, parsed->entries};
    if (cache) cache->remember(p.string(), std::move(text), std::move(*parsed));
    return out;
}

}  // namespace nftpolicy::policy
