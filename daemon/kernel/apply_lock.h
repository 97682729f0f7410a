// The apply lock: an flock(2) on a file (default /run/nftpolicy/lock) held for
// the whole read-diff-commit of an apply, so that two applies (CLI or daemon)
// never interleave. The lock dies with the process, so a crash never leaves
// it stuck.
#pragma once

#include <string>

#include "support/result.h"

namespace nftpolicy::kernel {

inline constexpr const char* kDefaultLockPath = "/run/nftpolicy/lock";

class ApplyLock {
public:
    // Waits up to `timeout_seconds` for the lock (0: do not wait); fails with
    // ErrorKind::conflict when another apply keeps holding it.
    static Result<ApplyLock> acquire(const std::string& path, int timeout_seconds);
    ApplyLock(ApplyLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    ApplyLock& operator=(ApplyLock&&) = delete;
    ApplyLock(const ApplyLock&) = delete;
    ~ApplyLock();

private:
    explicit ApplyLock(int fd) : fd_(fd) {}
    int fd_;
};

}  // namespace nftpolicy::kernel
