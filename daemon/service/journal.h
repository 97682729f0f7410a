// Where nftpolicyd's messages go: the journal, with structured fields
// (NFTPOLICY_PHASE=, NFTPOLICY_GENERATION=, NFTPOLICY_FLOW=,
// NFTPOLICY_POLICY_HASH=, and NFTPOLICY_DRIFT_* on drift messages), when
// journald is listening; stderr otherwise.
// sd_journal_send() reports success even when no journald reads its socket,
// so the choice is made up front: systemd sets JOURNAL_STREAM when our
// stderr is connected to the journal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nftpolicy::service {

// Structured fields of a message about the ruleset.
struct LogFields {
    std::vector<std::string> phases;  // "migration=phase"
    std::uint64_t generation = 0;
    std::size_t flows = 0;
    std::string hash;
    std::vector<std::string> extra;  // more "NFTPOLICY_...=value" fields (drift)
};

class Log {
  public:
    // journald when JOURNAL_STREAM is set, else stderr.
    static Log detect();
    explicit Log(bool journal) : journal_(journal) {}

    // `priority`: syslog levels (LOG_ERR, LOG_WARNING, LOG_INFO...).
    void write(int priority, const std::string& message, const LogFields* fields = nullptr) const;
    void error(const std::string& message, const LogFields* fields = nullptr) const;
    void warning(const std::string& message) const;
    void info(const std::string& message, const LogFields* fields = nullptr) const;

  private:
    bool journal_;
};

}  // namespace nftpolicy::service
