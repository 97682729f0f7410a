// Result<T>: the value or an Error, for expected failures that are not about
// policy text (I/O, the kernel, permissions). Policy mistakes go through
// Diagnostics instead, because they carry a source span and come in batches.
#pragma once

#include <string>

#include <tl/expected.hpp>

namespace nftpolicy {

enum class ErrorKind {
    io,           // a file could not be read or written
    invalid,      // bad arguments or state (not a policy diagnostic)
    kernel,       // netlink failed or the kernel rejected a batch
    conflict,     // someone else changed the ruleset; retries exhausted
    permission,   // missing CAP_NET_ADMIN or file permission
};

struct Error {
    ErrorKind kind = ErrorKind::invalid;
    std::string message;
};

template <typename T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(ErrorKind kind, std::string message) {
    return tl::unexpected<Error>(Error{kind, std::move(message)});
}

}  // namespace nftpolicy
