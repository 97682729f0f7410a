// Reading the files a policy names (the policy itself, its includes, address
// lists). A name in a policy may point at anything: a directory, a FIFO that
// would block forever, /dev/zero that never ends, a symlink loop. So every
// such file is read the same way: opened without blocking, its type taken
// from the open descriptor (no race with a rename), and read up to a limit.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "support/result.h"
#include "support/text_change.h"

namespace nftpolicy {

// What kind of file is being read, for messages, and how large it may be.
struct FileKind {
    const char* name;  // "a policy file": "it is larger than 4 MiB, the limit for a policy file"
    std::size_t max_bytes;  // a file larger than this is refused, not truncated
};

// The whole contents of the regular file `path`. On failure the Error's
// message says what was found and what was expected, without the path
// ("it is a directory; expected a regular file"): callers name the file
// the way their user wrote it.
Result<std::string> read_regular_file(const std::string& path, const FileKind& kind);

// The same, read into `buffer` (its contents replaced), whose allocation is
// reused: a process that reads a large file again and again (nftpolicyd and
// a million-line address list) then neither allocates nor faults in fresh
// pages for each read. On failure `buffer` holds no useful text.
Result<void> read_regular_file_into(const std::string& path, const FileKind& kind, std::string& buffer);

// Brings `text`, what the regular file `path` held when it was last read,
// up to date, and says what changed (support/text_change.h). The file is
// read through `scratch` (a reused buffer of a few hundred KiB) and compared
// with `text` as it comes, never copied whole: for a process that reads a
// large file again and again to act on its edits (nftpolicyd and a
// million-line address list). The checks and errors of read_regular_file;
// on failure `text` is left as it was.
Result<TextChange> refresh_regular_file(const std::string& path, const FileKind& kind, std::string& text,
                                        std::vector<char>& scratch);

// The same checks as read_regular_file (opened without blocking, the type
// from the descriptor, the size limit), without reading: for a command that
// must know before anything else that its policy file can be read.
Result<void> check_regular_file(const std::string& path, const FileKind& kind);

// "4 MiB", "512 KiB", "100 bytes": a limit as the documentation writes it.
std::string format_size(std::size_t bytes);

}  // namespace nftpolicy
