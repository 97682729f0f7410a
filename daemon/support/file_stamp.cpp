// File stamps; see file_stamp.h.
#include "support/file_stamp.h"

#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <array>

namespace nftpolicy {

namespace {

std::int64_t nanoseconds(const timespec& t) { return std::int64_t(t.tv_sec) * 1000000000 + t.tv_nsec; }

FileStamp stamp_of(const struct stat& st) {
    return FileStamp{true, static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                     static_cast<std::uint64_t>(st.st_size), nanoseconds(st.st_mtim), nanoseconds(st.st_ctim)};
}

// ext2/3/4, XFS, Btrfs, tmpfs, F2FS (linux/magic.h).
constexpr std::array<unsigned long, 5> kLocalFilesystems = {0xEF53, 0x58465342, 0x9123683E, 0x01021994,
                                                            0xF2F52010};

bool on_local_filesystem(const std::string& path) {
    struct statfs fs {};
    if (::statfs(path.c_str(), &fs) != 0) return false;
    const auto type = static_cast<unsigned long>(fs.f_type);
    return std::find(kLocalFilesystems.begin(), kLocalFilesystems.end(), type) != kLocalFilesystems.end();
}

}  // namespace

FileStamp file_stamp(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    return stamp_of(st);
}

std::optional<FileStamp> local_stamp(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) return std::nullopt;
    if (!on_local_filesystem(path)) return std::nullopt;
    return stamp_of(st);
}

}  // namespace nftpolicy
