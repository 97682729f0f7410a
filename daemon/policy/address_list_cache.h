// Address lists kept between compiles, so that a process that compiles the
// same policy again (nftpolicyd) re-parses only the lines of a list that
// changed: a one-address edit of a million-line list costs a byte compare
// of the file and one pass over its interval list, not a parse and a sort.
//
// Exact by construction: the cached result is reused only for a "simple"
// list, one whose entries are pairwise disjoint and non-adjacent (each line
// is one interval of the normalized set, as in an IPAM export of hosts), and
// only when the edit keeps it simple; then the new set is the old one minus
// the intervals of the removed lines plus those of the added lines, which is
// what a full parse gives. Anything else (a line that no longer parses, an
// added entry that overlaps or touches another, a list with duplicates or
// merges) is answered by a full parse (policy/address_file.h), whose result
// is cached for the next time.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "policy/model.h"

namespace nftpolicy::policy {

// The text of a list line's entry: comment dropped, blanks trimmed (empty:
// no entry).
std::string_view entry_text(std::string_view line);

// What a full parse of a list gives, and whether it is simple (see above).
struct ParsedList {
    net::AddrSet addrs;
    std::size_t entries = 0;
    bool simple = false;
};

// The parsed list of `text`, derived from the parse of `old_text`, or
// nullopt when that is not known to be exact (then parse in full).
std::optional<ParsedList> update_list(std::string_view old_text, const ParsedList& old, std::string_view text);

class AddressListCache {
public:
    // The list at `path` as it reads `text`, if derivable from the last one.
    std::optional<ParsedList> lookup(const std::string& path, std::string_view text) const;
    void remember(const std::string& path, std::string text, ParsedList parsed);
    // A buffer to read the next text of `path` into: the text before the
    // last one, kept for its allocation (a million-line list is 13 MB,
    // and fresh pages for each read cost milliseconds).
    std::string take_spare(const std::string& path);

private:
    struct Entry {
        std::string text;
        ParsedList parsed;
        std::string spare;
    };
    std::map<std::string, Entry> entries_;
};

}  // namespace nftpolicy::policy
