// The apply lock; see apply_lock.h.
#include "kernel/apply_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

namespace nftpolicy::kernel {

Result<ApplyLock> ApplyLock::acquire(const std::string& path, int timeout_seconds) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);  // /run is a tmpfs
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return fail(ErrorKind::io, "cannot open lock file " + path + ": " + std::strerror(errno));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            const int err = errno;
            ::close(fd);
            return fail(ErrorKind::io, "cannot lock " + path + ": " + std::strerror(err));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            ::close(fd);
            return fail(ErrorKind::conflict, "another apply holds " + path);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return ApplyLock(fd);
}

ApplyLock::~ApplyLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace nftpolicy::kernel
