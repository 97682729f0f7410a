// Error construction from diagnostics; see result.h.
#include "support/result.h"

namespace nftpolicy {

namespace {

// "site.toml:3:5: kernel rejected ...", or the bare message without a span.
std::string located_message(const Diagnostic& d) {
    return d.span.valid() ? d.span.where() + ": " + d.message : d.message;
}

}  // namespace

tl::unexpected<Error> fail(ErrorKind kind, std::vector<Diagnostic> diagnostics) {
    std::string message;
    for (const Diagnostic& d : diagnostics) {
        if (!message.empty()) message += '\n';
        message += located_message(d);
    }
    return tl::unexpected<Error>(Error{kind, std::move(message), std::move(diagnostics)});
}

}  // namespace nftpolicy
