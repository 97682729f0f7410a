// Atomic file replacement; see atomic_file.h.
#include "support/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

namespace nftpolicy {

namespace {

std::string parent_of(const std::string& path) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    return dir.empty() ? "." : dir;
}

Result<void> io_error(const std::string& what, const std::string& path, int err) {
    return fail(err == EACCES || err == EPERM || err == EROFS ? ErrorKind::permission : ErrorKind::io,
                "cannot " + what + " " + path + ": " + std::strerror(err));
}

// Makes the rename durable: without it, a crash can bring back the old name.
Result<void> sync_dir(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error("open directory", dir, errno);
    const bool ok = ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    if (!ok) return io_error("sync directory", dir, err);
    return {};
}

}  // namespace

Result<PendingFile> PendingFile::prepare(const std::string& path, const std::string& content, Sync sync) {
    const std::string dir = parent_of(path);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return tl::unexpected(io_error("create directory", dir, ec.value()).error());
    std::string tmp = path + ".tmp.XXXXXX";
    std::vector<char> name(tmp.begin(), tmp.end());
    name.push_back('\0');
    const int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) return tl::unexpected(io_error("write", path, errno).error());
    tmp.assign(name.data());
    const bool ok = ::fchmod(fd, 0644) == 0 && write_all(fd, content) && (sync == Sync::later || ::fsync(fd) == 0);
    const int err = errno;
    ::close(fd);
    if (!ok) {
        ::unlink(tmp.c_str());
        return tl::unexpected(io_error("write", tmp, err).error());
    }
    return PendingFile(path, tmp, sync);
}

PendingFile::PendingFile(PendingFile&& other) noexcept
    : path_(std::move(other.path_)), tmp_(std::move(other.tmp_)), sync_(other.sync_) {
    other.tmp_.clear();
}

PendingFile::~PendingFile() {
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

Result<void> PendingFile::commit() {
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) return io_error("replace", path_, errno);
    tmp_.clear();
    if (sync_ == Sync::later) return {};
    return sync_dir(parent_of(path_));
}

Result<void> sync_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("open", path, errno);
    const bool ok = ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    if (!ok) return io_error("sync", path, err);
    return sync_dir(parent_of(path));
}

Result<void> write_file_atomic(const std::string& path, const std::string& content, Sync sync) {
    auto pending = PendingFile::prepare(path, content, sync);
    if (!pending) return tl::unexpected(pending.error());
    return pending->commit();
}

bool write_all(int fd, const std::string& content) {
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace nftpolicy
