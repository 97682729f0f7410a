// A netlink batch for nf_tables (BATCH_BEGIN ... BATCH_END) under
// construction, with provenance: every message remembers the policy span that
// produced it, so a kernel rejection (an error ack carrying the message's
// sequence number and, with extended ACK, the offset of the offending
// attribute) can be reported under the TOML line that caused it.
//
// The buffer is a list of fixed pages; a message never straddles two pages, so
// message pointers stay valid while the batch grows and the whole batch goes
// to the kernel in one sendmsg() as an iovec (the kernel needs one skb per
// batch for all-or-nothing semantics).
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/source.h"

struct nlmsghdr;
struct nlattr;

namespace nftpolicy::emit {

// The policy text one piece of a message came from, and what the piece is
// ("rule 3 of chain input", "expression 4 (lookup)", "element 10.0.0.1").
struct Provenance {
    SourceSpan span;  // invalid: unknown
    std::string what;
};

// Names the element one NFTA_LIST_ELEM attribute of an element message
// holds, with the span of the policy entry that produced it. Built per set
// (see provenance.h), so the policy's elements cost no memory per message.
using ElementProvenance = std::function<Provenance(const nlattr* elem)>;

// Where a message came from: the policy span and a short description
// ("rule 3 of chain input", "elements of set web_v4").
struct MessageOrigin {
    SourceSpan span;
    std::string what;
    // Offsets (from the start of the message) at which parts of the message
    // begin, e.g. each expression of a rule, with the span of the statement
    // that produced it. An extended ACK offset is attributed to the last part
    // starting at or before it.
    std::vector<std::pair<std::uint32_t, Provenance>> parts = {};
    // Element messages: names the element an extended ACK points at.
    ElementProvenance element = {};
};

// One message in the batch.
struct BatchMessage {
    std::uint32_t seq = 0;
    const nlmsghdr* header = nullptr;
    MessageOrigin origin;
};

class Batch {
public:
    // Largest message we build: one netlink attribute nest is limited to 64 KiB.
    static constexpr std::size_t kMaxMessage = 65536 + 4096;

    explicit Batch(std::uint32_t first_seq = 1);
    Batch(Batch&&) noexcept = default;
    Batch& operator=(Batch&&) noexcept = default;

    // Space for the next message (at least kMaxMessage bytes). Build the
    // message there (nftnl_nlmsg_build_hdr(...)) with seq = next_seq(), then
    // call commit().
    char* reserve();
    std::uint32_t next_seq() const { return next_seq_; }
    // Accepts the message built in reserve()'s space.
    void commit(nlmsghdr* header, MessageOrigin origin);

    // Frames the batch: BATCH_BEGIN carrying NFNL_BATCH_GENID (the kernel
    // refuses the batch with ERESTART when the ruleset generation differs;
    // 0 disables the check) before all messages, BATCH_END after them.
    // Call once, after the last commit().
    void close(std::uint32_t genid);
    // Frames the batch for a check (what `nft -c` sends): BATCH_BEGIN and no
    // BATCH_END, so the kernel acknowledges or refuses each message and then
    // aborts the transaction: nothing is committed, whatever the answers.
    void close_for_check();

    // Messages between BATCH_BEGIN and BATCH_END.
    std::size_t size() const { return messages_.size(); }
    bool empty() const { return messages_.empty(); }
    const std::vector<BatchMessage>& messages() const { return messages_; }
    // The message with this sequence number, or nullptr (BATCH_BEGIN/END too).
    const BatchMessage* find(std::uint32_t seq) const;
    std::uint32_t begin_seq() const { return begin_seq_; }

    // The framed batch as iovecs (after close()).
    std::vector<iovec> iovecs() const;
    std::size_t byte_size() const;

private:
    // Pages are allocated without zero-filling (a 4 MiB page zeroed up front
    // is 4 MB of RSS for a ten-rule batch); reserve() zeroes the space it
    // hands out just ahead of use, because libmnl leaves attribute padding
    // as it finds it and no uninitialized byte may reach the kernel.
    struct Page {
        std::unique_ptr<char[]> data;
        std::size_t used = 0;
        std::size_t zeroed = 0;  // [0, zeroed) holds zeros or messages
    };
    static constexpr std::size_t kPageSize = 4 * 1024 * 1024;

    Page& current_page();

    std::vector<Page> pages_;
    std::vector<BatchMessage> messages_;
    std::uint32_t next_seq_;
    std::uint32_t begin_seq_ = 0;
    Page frame_begin_;
    Page frame_end_;
    bool closed_ = false;
};

}  // namespace nftpolicy::emit
