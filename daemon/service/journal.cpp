// Logging to the journal or stderr; see journal.h.
#include "service/journal.h"

#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include <fmt/format.h>

namespace nftpolicy::service {

Log Log::detect() {
    return Log(std::getenv("JOURNAL_STREAM") != nullptr);
}

namespace {

std::vector<std::string> journal_fields(int priority, const std::string& message,
                                        const LogFields* f) {
    std::vector<std::string> out{"MESSAGE=" + message, fmt::format("PRIORITY={}", priority),
                                 "SYSLOG_IDENTIFIER=nftpolicyd"};
    if (!f) return out;
    for (const auto& p : f->phases) out.push_back("NFTPOLICY_PHASE=" + p);
    out.push_back(fmt::format("NFTPOLICY_GENERATION={}", f->generation));
    out.push_back(fmt::format("NFTPOLICY_FLOW={}", f->flows));
    if (!f->hash.empty()) out.push_back("NFTPOLICY_POLICY_HASH=" + f->hash);
    out.insert(out.end(), f->extra.begin(), f->extra.end());
    return out;
}

const char* level_name(int priority) {
    if (priority <= LOG_ERR) return "error: ";
    if (priority == LOG_WARNING) return "warning: ";
    return "";
}

}  // namespace

void Log::write(int priority, const std::string& message, const LogFields* fields) const {
    if (!journal_) {
        std::cerr << "nftpolicyd: " << level_name(priority) << message << '\n' << std::flush;
        return;
    }
    auto strings = journal_fields(priority, message, fields);
    std::vector<iovec> iov;
    for (auto& s : strings) iov.push_back(iovec{s.data(), s.size()});
    if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) < 0) {
        std::cerr << "nftpolicyd: " << level_name(priority) << message << '\n' << std::flush;
    }
}

void Log::error(const std::string& message, const LogFields* fields) const {
    write(LOG_ERR, message, fields);
}
void Log::warning(const std::string& message) const {
    write(LOG_WARNING, message);
}
void Log::info(const std::string& message, const LogFields* fields) const {
    write(LOG_INFO, message, fields);
}

}  // namespace nftpolicy::service
