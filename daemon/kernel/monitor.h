// The nf_tables event monitor: a netlink socket subscribed to
// NFNLGRP_NFTABLES, whose messages are turned into typed values. The kernel
// announces every committed transaction as its changes (one message per
// table, chain, rule, set, element, object or flowtable added or removed)
// followed by NFT_MSG_NEWGEN, which carries the new generation id and the
// committing process; a MonitorBatch is one such transaction.
//
// When the socket's receive buffer overflows the kernel drops events and
// says so once (ENOBUFS): read() then reports `overrun`, and the caller must
// treat every generation it has not seen as unknown (a full resync). A lost
// event is never passed off as "no change".
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/result.h"

struct mnl_socket;
struct nlmsghdr;

namespace nftpolicy::kernel {

// What an event is about.
enum class ObjectKind { table, chain, rule, set, element, object, flowtable };

// Whether it appeared or went away (nftables updates, such as a chain's new
// policy, are announced as NEW messages too).
enum class ChangeOp { added, removed };

// One set element of an element event: its key (big-endian bytes as the
// kernel holds them), the closing key of a range element (pipapo sets), and
// whether it is the end marker of an interval (rbtree sets).
struct ElementKey {
    std::vector<std::uint8_t> key;
    std::vector<std::uint8_t> key_end;  // empty unless a range element
    bool interval_end = false;
};

struct Change {
    ObjectKind kind = ObjectKind::table;
    ChangeOp op = ChangeOp::added;
    std::uint8_t family = 0;  // NFPROTO_* of the table
    std::string table;
    std::string chain;    // rule and chain events
    std::string name;     // set (also of an element event), object or flowtable name
    std::uint64_t handle = 0;             // rule, chain or set handle when given
    std::vector<ElementKey> elements;     // element events
};

// One committed transaction.
struct MonitorBatch {
    std::uint32_t genid = 0;   // the generation the transaction produced
    std::uint32_t pid = 0;     // committing process (global pid, NFTA_GEN_PROC_PID)
    std::string proc;          // its name (comm)
    std::uint32_t portid = 0;  // netlink port id of the committing socket
    std::vector<Change> changes;
};

struct MonitorRead {
    std::vector<MonitorBatch> batches;  // complete transactions, in commit order
    // Events were lost since the last read that drained the socket: the
    // batches here may be incomplete and generations may be missing. Drain
    // (read while `more`), then resynchronise.
    bool overrun = false;
    // The read stopped at its budget with data still queued; read again.
    bool more = false;
};

// Turns event messages into batches; no I/O, so unit tests feed it captured
// datagrams. Changes wait until their NEWGEN closes the batch.
class EventParser {
public:
    // Parses one datagram (one or more netlink messages); completed batches
    // are appended to `out`.
    void feed(const void* data, std::size_t len, std::vector<MonitorBatch>& out);
    // Forgets changes not yet closed by a NEWGEN (after lost events).
    void drop_pending() { pending_.clear(); }

private:
    void on_message(const nlmsghdr* nlh, std::vector<MonitorBatch>& out);
    std::vector<Change> pending_;
};

class Monitor {
public:
    // Opens, subscribes and sizes the receive buffer to `rcvbuf` bytes
    // (forced past net.core.rmem_max when we have CAP_NET_ADMIN).
    static Result<std::unique_ptr<Monitor>> open(std::size_t rcvbuf = kDefaultRcvbuf);
    ~Monitor();
    Monitor(const Monitor&) = delete;
    Monitor& operator=(const Monitor&) = delete;

    // For sd-event (EPOLLIN). Non-blocking.
    int fd() const;
    // The receive buffer the kernel granted (it reports twice what was set).
    std::size_t rcvbuf() const;
    // Drains what is queued, at most `budget` datagrams, without blocking.
    Result<MonitorRead> read(std::size_t budget = 4096);

    // Our own commits need no events (their generation is accounted for by
    // number) but, while anyone listens, cost the kernel an event per set
    // element. NetlinkKernel leaves the group for the time of its batch and
    // joins right after (NetlinkKernel::mute_during_commit).
    void leave();
    void join();
    // Another process may have committed while we were out of the group:
    // the next read reports an overrun (judged like lost events).
    void note_gap() { lost_ = true; }
    // An overrun or a gap that no read has reported yet: read now, no event
    // may come to wake the loop.
    bool loss_pending() const { return lost_; }

    static constexpr std::size_t kDefaultRcvbuf = 64 * 1024 * 1024;

private:
    explicit Monitor(mnl_socket* sock) : sock_(sock) {}
    void drained(MonitorRead& out);
    mnl_socket* sock_;
    EventParser parser_;
    std::vector<char> buf_;
    bool lost_ = false;  // ENOBUFS seen, socket not yet drained
};

// Whether `change` is about table `table` of family `family`.
bool touches(const Change& change, std::uint8_t family, const std::string& table);
// Whether any change of `batch` is.
bool touches(const MonitorBatch& batch, std::uint8_t family, const std::string& table);

// The committer of a transaction, to tell our own commits from others'.
// The pid alone is not enough inside a PID namespace (the kernel reports the
// global pid), so the netlink port id of our committing socket counts too.
struct Committer {
    std::uint32_t pid = 0;
    std::uint32_t portid = 0;  // 0: unknown
};
bool is_own(const MonitorBatch& batch, const Committer& us);

// "rule deleted in chain input", "element 10.0.0.1 removed from set X", ...
std::string describe(const Change& change);
// An element key as text: an IPv4 or IPv6 address when 4 or 16 bytes long,
// else hex; a range as "a-b".
std::string describe(const ElementKey& element);

}  // namespace nftpolicy::kernel
