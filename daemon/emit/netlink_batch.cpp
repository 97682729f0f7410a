// The paged batch buffer; see netlink_batch.h.
#include "emit/netlink_batch.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <algorithm>
#include <cassert>
#include <cstring>

namespace nftpolicy::emit {

namespace {

// Writes BATCH_BEGIN (with the generation id when non-zero) or BATCH_END.
std::size_t put_frame(char* buf, std::uint16_t type, std::uint32_t seq, std::uint32_t genid) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_UNSPEC;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
    if (genid != 0) mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
    return NLMSG_ALIGN(nlh->nlmsg_len);
}

}  // namespace

Batch::Batch(std::uint32_t first_seq) : next_seq_(first_seq + 1), begin_seq_(first_seq) {}

Batch::Page& Batch::current_page() {
    if (pages_.empty() || kPageSize - pages_.back().used < kMaxMessage) {
        pages_.push_back(Page{std::make_unique_for_overwrite<char[]>(kPageSize), 0, 0});
    }
    return pages_.back();
}

char* Batch::reserve() {
    Page& page = current_page();
    const std::size_t want = page.used + kMaxMessage;
    if (page.zeroed < want) {
        std::memset(page.data.get() + page.zeroed, 0, want - page.zeroed);
        page.zeroed = want;
    }
    return page.data.get() + page.used;
}

void Batch::commit(nlmsghdr* header, MessageOrigin origin) {
    assert(!closed_);
    Page& page = pages_.back();
    assert(reinterpret_cast<char*>(header) == page.data.get() + page.used);
    assert(header->nlmsg_len <= kMaxMessage);
    page.used += NLMSG_ALIGN(header->nlmsg_len);
    messages_.push_back(BatchMessage{header->nlmsg_seq, header, std::move(origin)});
    next_seq_ = header->nlmsg_seq + 1;
}

void Batch::close(std::uint32_t genid) {
    assert(!closed_);
    closed_ = true;
    frame_begin_.data = std::make_unique<char[]>(MNL_SOCKET_BUFFER_SIZE);
    frame_begin_.used = put_frame(frame_begin_.data.get(), NFNL_MSG_BATCH_BEGIN, begin_seq_, genid);
    frame_end_.data = std::make_unique<char[]>(MNL_SOCKET_BUFFER_SIZE);
    frame_end_.used = put_frame(frame_end_.data.get(), NFNL_MSG_BATCH_END, next_seq_, 0);
}

void Batch::close_for_check() {
    close(0);
    frame_end_.used = 0;
}

const BatchMessage* Batch::find(std::uint32_t seq) const {
    // Sequence numbers increase along messages_, so a binary search works.
    auto it = std::lower_bound(messages_.begin(), messages_.end(), seq,
                               [](const BatchMessage& m, std::uint32_t s) { return m.seq < s; });
    return it != messages_.end() && it->seq == seq ? &*it : nullptr;
}

std::vector<iovec> Batch::iovecs() const {
    assert(closed_);
    std::vector<iovec> out;
    out.push_back(iovec{frame_begin_.data.get(), frame_begin_.used});
    for (const Page& p : pages_) {
        if (p.used > 0) out.push_back(iovec{p.data.get(), p.used});
    }
    if (frame_end_.used > 0) out.push_back(iovec{frame_end_.data.get(), frame_end_.used});
    return out;
}

std::size_t Batch::byte_size() const {
    std::size_t n = frame_begin_.used + frame_end_.used;
    for (const Page& p : pages_) n += p.used;
    return n;
}

}  // namespace nftpolicy::emit
