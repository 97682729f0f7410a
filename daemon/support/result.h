// Result<T>: the value or an Error, for expected failures that are not about
// policy text (I/O, the kernel, permissions). Policy mistakes go through
// Diagnostics instead, because they carry a source span and come in batches.
// A failure that policy text caused (the kernel refusing what a TOML value
// produced) carries its diagnostics too, so a front end renders it like any
// policy error instead of printing a flattened message.
#pragma once

#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "support/diagnostic.h"

namespace nftpolicy {

enum class ErrorKind {
    io,           // a file could not be read or written
    invalid,      // bad arguments or state (not a policy diagnostic)
    kernel,       // netlink failed or the kernel rejected a batch
    conflict,     // someone else changed the ruleset; retries exhausted
    permission,   // missing CAP_NET_ADMIN or file permission
    refused,      // a safety check said no (lockout guard, pending confirmation)
};

struct Error {
    ErrorKind kind = ErrorKind::invalid;
    std::string message;  // the whole failure as one text (logs, tests)
    // Located details, each with a source span when one is known; when not
    // empty they say all that `message` says.
    std::vector<Diagnostic> diagnostics = {};
};

template <typename T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(ErrorKind kind, std::string message) {
    return tl::unexpected<Error>(Error{kind, std::move(message), {}});
}

// A failure told by diagnostics; `message` joins their first lines.
tl::unexpected<Error> fail(ErrorKind kind, std::vector<Diagnostic> diagnostics);

}  // namespace nftpolicy
