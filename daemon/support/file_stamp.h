// What tells that a file is still the one read before, without reading it:
// its device, inode, size, and modification and change times. Any write, a
// truncation or a rename over it changes one of them, except a write within
// the same tick of the kernel's coarse clock as the stamp (a few ms): a
// process that trusts a stamp to skip a read must also follow the file's
// inotify events, which see those (nftpolicyd does).
//
// Example:
//   auto before = local_stamp("/etc/nftpolicy/agents.txt");
//   ... read the file ...
//   if (before && local_stamp("/etc/nftpolicy/agents.txt") == before) {
//       // no write since the read began, unless in that same tick
//   }
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace nftpolicy {

struct FileStamp {
    bool exists = false;
    std::uint64_t dev = 0, ino = 0, size = 0;
    std::int64_t mtime_ns = 0, ctime_ns = 0;
    friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

// The stamp of what `path` names (stat: symlinks followed); `exists` false
// when it cannot be stat'ed.
FileStamp file_stamp(const std::string& path);

// The stamp of `path` when it can vouch for the file's contents: a regular
// file (not a symlink: its target may be written through another
// directory), with one link (the same), on a local filesystem whose every
// write passes through this kernel (ext2/3/4, XFS, Btrfs, tmpfs, F2FS; not
// NFS, CIFS, FUSE or overlayfs). nullopt otherwise.
std::optional<FileStamp> local_stamp(const std::string& path);

}  // namespace nftpolicy
