// Address lists kept between compiles, so that a process that compiles the
// same policy again (nftpolicyd) re-parses only the lines of a list that
// changed: a one-address edit of a million-line list costs one pass over the
// file, compared with the kept text as it is read, and a walk to the edited
// chunk of its interval list; not a copy of the file, a parse and a sort.
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
#include <vector>

#include "policy/model.h"
#include "support/file_read.h"
#include "support/file_stamp.h"
#include "support/result.h"
#include "support/text_change.h"

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

// The parsed list of the new `text`, derived from `old`, the parse of the
// text before `change` (support/text_change.h); nullopt when that is not
// known to be exact (then parse in full).
std::optional<ParsedList> update_list(std::string_view text, const TextChange& change, const ParsedList& old);

// The lists a process has read, with their texts and parses.
//
// A list read ahead (read_ahead, refresh) is not read again by the next
// refresh() while the file keeps its local_stamp() (support/file_stamp.h)
// and no touched() says otherwise: the holder must report every inotify
// event on a kept list's name, IN_MODIFY included (nftpolicyd's Watcher),
// for the writes a stamp cannot see (within one tick of the kernel's coarse
// clock).
class AddressListCache {
public:
    bool holds(const std::string& path) const;

    // A kept list read again: its parse derived from the last one through
    // the lines that changed, or else its whole text to parse in full (the
    // list is then no longer kept: remember() the result). Only for a path
    // it holds(); on failure the list is no longer kept.
    struct Refreshed {
        std::optional<ParsedList> parsed;
        std::string text;  // when not parsed
    };
    Result<Refreshed> refresh(const std::string& path, const FileKind& kind);

    // Keeps the list at `path`, read as `text` and parsed in full.
    void remember(const std::string& path, std::string text, ParsedList parsed);

    // Reads a kept list again now, ahead of the compile that will want it:
    // nftpolicyd does as soon as an editor has closed the file, while the
    // `nftpolicy reload` that follows is still starting. Does nothing for a
    // path it does not hold; when the read fails, or the edit's parse cannot
    // be derived, the list is no longer kept (the compile reads it itself).
    void read_ahead(const std::string& path, const FileKind& kind);

    // The file at `path` may have changed since it was read (an event, even
    // one for a write not yet closed): the next refresh() reads it.
    void touched(const std::string& path);
    // The same for every list (the event queue overflowed).
    void touched_all();

private:
    struct Entry {
        std::string text;
        ParsedList parsed;
        std::optional<FileStamp> read_at;  // the file's stamp when `text` was read; none: read again
    };
    // Reads a kept list again into its entry, which then has `stamp` (taken
    // before the read); false when the list is then no longer kept, its text
    // moved to `text_out` (when it was read).
    Result<bool> reread(std::map<std::string, Entry>::iterator it, const FileKind& kind,
                        std::optional<FileStamp> stamp, std::string& text_out);
    std::map<std::string, Entry> entries_;
    std::vector<char> scratch_;  // the buffer a refresh reads through
};

}  // namespace nftpolicy::policy
