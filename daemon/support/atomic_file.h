// Replacing a file atomically: the new content goes to a temporary file in
// the same directory, is fsync'ed, renamed over the old name, and the
// directory is fsync'ed so that the rename itself survives a power cut.
// Readers see the old file or the new one, never a mix.
//
// The write is split in two so that a caller can find out that the file is
// unwritable *before* it changes anything else (the kernel ruleset): prepare
// writes and syncs the temporary file; commit renames it into place.
#pragma once

#include <string>

#include "support/result.h"

namespace nftpolicy {

// When a replacement reaches the disk: before the call returns, or when the
// caller calls sync_file() (nftpolicyd answers a reload first), if ever (a
// metrics file rewritten every minute). Readers see the new file at once
// either way, and never a mix of old and new.
enum class Sync { now, later };

class PendingFile {
public:
    // Creates the directory if needed and writes `content` to a unique
    // temporary file next to `path`, synced to disk (with Sync::now).
    static Result<PendingFile> prepare(const std::string& path, const std::string& content, Sync sync = Sync::now);
    PendingFile(PendingFile&& other) noexcept;
    PendingFile& operator=(PendingFile&&) = delete;
    PendingFile(const PendingFile&) = delete;
    ~PendingFile();  // removes the temporary file unless committed

    // Renames the temporary file over `path` and syncs the directory (with
    // Sync::now).
    Result<void> commit();

private:
    PendingFile(std::string path, std::string tmp, Sync sync) : path_(std::move(path)), tmp_(std::move(tmp)), sync_(sync) {}
    std::string path_;
    std::string tmp_;  // empty once committed or moved from
    Sync sync_;
};

// prepare + commit.
Result<void> write_file_atomic(const std::string& path, const std::string& content, Sync sync = Sync::now);

// Makes a replacement written with Sync::later durable: the file, then its
// directory (the rename).
Result<void> sync_file(const std::string& path);

// Writes all of `content` to `fd` (a file or a pipe), retrying short writes
// and EINTR; false on an error, with errno set.
bool write_all(int fd, const std::string& content);

}  // namespace nftpolicy
