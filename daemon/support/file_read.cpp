#include "support/file_read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace nftpolicy {

namespace {

// Closes the descriptor on every path out of read_regular_file.
class Fd {
  public:
    Fd() = default;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }
    void reset(int fd) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

  private:
    int fd_ = -1;
};

// What a non-regular file is, in the words of ls(1) and find(1).
const char* type_name(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a named pipe (FIFO)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

std::string wrong_type(mode_t mode) {
    return fmt::format("it is {}; expected a regular file", type_name(mode));
}

// Why open(2) failed, said the way the user can act on it. ENXIO is what
// opening a socket (or a device without a driver) gives: say which it is.
std::string open_error(const std::string& path, int err) {
    switch (err) {
        case ENOENT:
            return "no such file";
        case ENOTDIR:
            return "a component of the path is not a directory";
        case EACCES:
            return "permission denied";
        case ELOOP:
            return "too many levels of symbolic links (a symlink loop?)";
        case ENAMETOOLONG:
            return "the file name is longer than the system allows";
        case ENXIO: {
            struct stat st {};
            if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
                return wrong_type(st.st_mode);
            break;
        }
        default:
            break;
    }
    return std::strerror(err);
}

std::string too_large(const FileKind& kind) {
    return fmt::format("it is larger than {}, the limit for {}", format_size(kind.max_bytes),
                       kind.name);
}

// Reads at most max + 1 bytes, so that a file that grew after fstat (or
// lied about its size) is still caught by the limit. `text` keeps its
// allocation: only bytes beyond its old size are zeroed before the read.
Result<void> read_bounded(int fd, std::size_t expected, const FileKind& kind, std::string& text) {
    text.resize(expected + 1);
    std::size_t used = 0;
    for (;;) {
        if (used == text.size()) {
            if (text.size() > kind.max_bytes) return fail(ErrorKind::io, too_large(kind));
            text.resize(std::min(text.size() * 2, kind.max_bytes + 1));
        }
        ssize_t n = ::read(fd, text.data() + used, text.size() - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(ErrorKind::io, std::strerror(errno));
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    text.resize(used);
    return {};
}

// Opens `path` into `fd` without blocking (a FIFO must not wait for a
// writer) and checks, from the descriptor, that it is a regular file within
// the limit; its size.
Result<std::size_t> open_regular(const std::string& path, const FileKind& kind, Fd& fd) {
    if (path.empty())
        return fail(ErrorKind::io, "the file name is empty; expected the path of a regular file");
    fd.reset(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) {
        int err = errno;
        return fail(err == EACCES ? ErrorKind::permission : ErrorKind::io, open_error(path, err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail(ErrorKind::io, std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail(ErrorKind::io, wrong_type(st.st_mode));
    auto size = static_cast<std::size_t>(st.st_size);
    if (size > kind.max_bytes) return fail(ErrorKind::io, too_large(kind));
    return size;
}

}  // namespace

Result<std::string> read_regular_file(const std::string& path, const FileKind& kind) {
    std::string text;
    auto read = read_regular_file_into(path, kind, text);
    if (!read) return tl::unexpected(read.error());
    return text;
}

Result<void> read_regular_file_into(const std::string& path, const FileKind& kind, std::string& buffer) {
    Fd fd;
    auto size = open_regular(path, kind, fd);
    if (!size) return tl::unexpected(size.error());
    return read_bounded(fd.get(), *size, kind, buffer);
}

namespace {

constexpr std::size_t kRefreshBlock = 256 * 1024;

// Feeds the file to `finder` through `scratch`; false when it does not hold
// the size fstat gave (it changed while being read).
Result<bool> feed_file(int fd, ChangeFinder& finder, std::vector<char>& scratch) {
    scratch.resize(kRefreshBlock);
    for (;;) {
        const ssize_t n = ::read(fd, scratch.data(), scratch.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(ErrorKind::io, std::strerror(errno));
        if (n == 0) return finder.complete();
        if (!finder.feed({scratch.data(), static_cast<std::size_t>(n)})) return false;
    }
}

}  // namespace

Result<TextChange> refresh_regular_file(const std::string& path, const FileKind& kind, std::string& text,
                                        std::vector<char>& scratch) {
    Fd fd;
    auto size = open_regular(path, kind, fd);
    if (!size) return tl::unexpected(size.error());
    ChangeFinder finder(text, *size);
    auto fed = feed_file(fd.get(), finder, scratch);
    if (!fed) return tl::unexpected(fed.error());
    if (*fed) return std::move(finder).finish(text);
    // Written to while read: read it whole, as it is now, and compare.
    std::string now;
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) return fail(ErrorKind::io, std::strerror(errno));
    if (auto read = read_bounded(fd.get(), *size, kind, now); !read) return tl::unexpected(read.error());
    TextChange change = text_change(text, now);
    text = std::move(now);
    return change;
}

Result<void> check_regular_file(const std::string& path, const FileKind& kind) {
    Fd fd;
    auto size = open_regular(path, kind, fd);
    if (!size) return tl::unexpected(size.error());
    return {};
}

std::string format_size(std::size_t bytes) {
    constexpr std::size_t kKiB = 1024, kMiB = kKiB * kKiB;
    if (bytes >= kMiB && bytes % kMiB == 0) return fmt::format("{} MiB", bytes / kMiB);
    if (bytes >= kKiB && bytes % kKiB == 0) return fmt::format("{} KiB", bytes / kKiB);
    return fmt::format("{} bytes", bytes);
}

}  // namespace nftpolicy
