// The netlink socket, generation id and batch commit; reading our table is in
// netlink_read.cpp.
#include "kernel/netlink_kernel.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "kernel/monitor.h"
#include "kernel/netlink_io.h"

namespace nftpolicy::kernel {

namespace detail {

int talk(mnl_socket* sock, std::uint32_t portid, std::span<char> recv, const nlmsghdr* request, std::uint32_t seq,
         const MessageFn& fn) {
    if (mnl_socket_sendto(sock, request, request->nlmsg_len) < 0) return -errno;
    struct Ctx {
        const MessageFn* fn;
        bool stopped;
    } ctx{&fn, false};
    auto cb = [](const nlmsghdr* nlh, void* data) -> int {
        auto* c = static_cast<Ctx*>(data);
        if (!c->stopped && !(*c->fn)(nlh)) c->stopped = true;
        return MNL_CB_OK;
    };
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(sock, recv.data(), recv.size());
        if (n < 0) return -errno;
        const int ret = mnl_cb_run(recv.data(), static_cast<std::size_t>(n), seq, portid, cb, &ctx);
        if (ret < 0) return -errno;
        if (ret == MNL_CB_STOP) return 0;
    }
}

void for_each_attr(const nlmsghdr* nlh, std::size_t header_len, const AttrFn& fn) {
    const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, header_len));
    const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    for (; mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr))); attr = mnl_attr_next(attr)) {
        fn(attr);
    }
}

void for_each_nested(const nlattr* nest, const AttrFn& fn) {
    const auto* attr = static_cast<const nlattr*>(mnl_attr_get_payload(nest));
    const char* end = reinterpret_cast<const char*>(nest) + mnl_attr_get_len(nest);
    for (; mnl_attr_ok(attr, static_cast<int>(end - reinterpret_cast<const char*>(attr))); attr = mnl_attr_next(attr)) {
        fn(attr);
    }
}

}  // namespace detail

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Sizes a socket buffer, forcing past the sysctl limit when we may (we have
// CAP_NET_ADMIN anyway to talk to nf_tables).
void size_buffer(int fd, int force_opt, int opt, std::size_t bytes) {
    const int want = bytes > 0x7fffffff ? 0x7fffffff : static_cast<int>(bytes);
    int have = 0;
    socklen_t len = sizeof have;
    if (getsockopt(fd, SOL_SOCKET, opt, &have, &len) == 0 && have >= want) return;
    if (setsockopt(fd, SOL_SOCKET, force_opt, &want, sizeof want) != 0) {
        setsockopt(fd, SOL_SOCKET, opt, &want, sizeof want);
    }
}

// Extended ACK attributes of an error message: the kernel's text and the
// offset of the offending attribute within the (capped) original message.
void parse_ext_ack(const nlmsghdr* nlh, Rejection& r) {
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return;
    const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    std::size_t hlen = sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) hlen += mnl_nlmsg_get_payload_len(&err->msg);
    const auto* attr = reinterpret_cast<const nlattr*>(static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) +
                                                       MNL_ALIGN(hlen));
    const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    for (; mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr))); attr = mnl_attr_next(attr)) {
        switch (mnl_attr_get_type(attr)) {
            case NLMSGERR_ATTR_MSG: r.message = mnl_attr_get_str(attr); break;
            case NLMSGERR_ATTR_OFFS: r.offset = mnl_attr_get_u32(attr); break;
            default: break;  // other TLVs (policy, miss type) are not used
        }
    }
}

// Collects acknowledgements of a batch: one per message (each asked for
// one), plus errors addressed to BATCH_BEGIN for whole-batch failures.
struct AckCollector {
    std::uint32_t begin_seq;
    std::vector<bool> acked;  // by seq - begin_seq - 1
    std::size_t pending;
    CommitOutcome outcome;
    bool batch_failed = false;

    void on_message(const nlmsghdr* nlh) {
        if (nlh->nlmsg_type != NLMSG_ERROR) return;
        const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        const std::uint32_t seq = nlh->nlmsg_seq;
        ++outcome.acks;
        if (seq > begin_seq && seq - begin_seq - 1 < acked.size() && !acked[seq - begin_seq - 1]) {
            acked[seq - begin_seq - 1] = true;
            --pending;
        }
        if (err->error == 0) return;
        Rejection r;
        r.error = -err->error;
        r.seq = seq;
        parse_ext_ack(nlh, r);
        if (seq == begin_seq) batch_failed = true;
        outcome.rejections.push_back(std::move(r));
    }

    bool done() const { return pending == 0 || batch_failed; }
};

// Reads whatever acknowledgements are queued; waits up to `timeout_ms` for
// more when none are. Returns 0, or -errno.
int read_acks(mnl_socket* sock, std::span<char> buf, AckCollector& acks, int timeout_ms) {
    const int fd = mnl_socket_get_fd(sock);
    while (!acks.done()) {
        pollfd p{fd, POLLIN, 0};
        const int ready = poll(&p, 1, timeout_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return ready < 0 ? -errno : -ETIMEDOUT;
        const ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            return -errno;  // ENOBUFS: acknowledgements were lost
        }
        std::size_t left = static_cast<std::size_t>(n);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, static_cast<int>(left));
             nlh = mnl_nlmsg_next(nlh, reinterpret_cast<int*>(&left))) {
            acks.on_message(nlh);
        }
    }
    return 0;
}

std::string ruleset_scope(int fd) {
    std::string boot;
    if (FILE* f = std::fopen("/proc/sys/kernel/random/boot_id", "r")) {
        char buf[64] = {};
        if (std::fgets(buf, sizeof buf, f) != nullptr) boot = buf;
        std::fclose(f);
    }
    while (!boot.empty() && boot.back() == '\n') boot.pop_back();
    std::uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) return "";  // unknown: never matches
    return boot + ":" + std::to_string(cookie);
}

}  // namespace

NetlinkKernel::NetlinkKernel(mnl_socket* sock)
    : sock_(sock),
      portid_(mnl_socket_get_portid(sock)),
      seq_(static_cast<std::uint32_t>(time(nullptr))),
      scope_(ruleset_scope(mnl_socket_get_fd(sock))),
      recv_(std::make_unique_for_overwrite<char[]>(detail::kReceiveBuffer)) {}  // written by recv

NetlinkKernel::~NetlinkKernel() { mnl_socket_close(sock_); }

Result<std::unique_ptr<NetlinkKernel>> NetlinkKernel::open() {
    mnl_socket* sock = mnl_socket_open(NETLINK_NETFILTER);
    if (sock == nullptr) return fail(ErrorKind::kernel, "cannot open netlink socket: " + errno_text(errno));
    if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
        const int err = errno;
        mnl_socket_close(sock);
        return fail(ErrorKind::kernel, "cannot bind netlink socket: " + errno_text(err));
    }
    int one = 1;  // libmnl takes a non-const pointer
    mnl_socket_setsockopt(sock, NETLINK_EXT_ACK, &one, sizeof one);
    mnl_socket_setsockopt(sock, NETLINK_CAP_ACK, &one, sizeof one);
    return std::unique_ptr<NetlinkKernel>(new NetlinkKernel(sock));
}

std::uint32_t NetlinkKernel::next_seq() { return ++seq_; }

std::span<char> NetlinkKernel::recv_buffer() { return {recv_.get(), detail::kReceiveBuffer}; }

Result<std::uint32_t> NetlinkKernel::generation() {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    const std::uint32_t seq = next_seq();
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, seq);
    std::optional<std::uint32_t> genid;
    const int err = detail::talk(sock_, portid_, recv_buffer(), nlh, seq, [&genid](const nlmsghdr* reply) {
        detail::for_each_attr(reply, sizeof(nfgenmsg), [&genid](const nlattr* attr) {
            if (mnl_attr_get_type(attr) == NFTA_GEN_ID) genid = ntohl(mnl_attr_get_u32(attr));
        });
        return true;
    });
    if (err == -EPERM) return fail(ErrorKind::permission, "reading the ruleset generation needs CAP_NET_ADMIN");
    if (err < 0) return fail(ErrorKind::kernel, "cannot read the ruleset generation: " + errno_text(-err));
    if (!genid) return fail(ErrorKind::kernel, "the kernel did not report a ruleset generation");
    return *genid;
}

Result<bool> NetlinkKernel::has_element(const std::string& table, const std::string& set,
                                        const std::vector<std::uint8_t>& key) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    const std::uint32_t seq = next_seq();
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_ACK, seq);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set.c_str());
    nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
    nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
    nlattr* k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
    mnl_attr_put(nlh, NFTA_DATA_VALUE, key.size(), key.data());
    mnl_attr_nest_end(nlh, k);
    mnl_attr_nest_end(nlh, elem);
    mnl_attr_nest_end(nlh, list);
    const int err = detail::talk(sock_, portid_, recv_buffer(), nlh, seq, [](const nlmsghdr*) { return true; });
    if (err == 0) return true;
    if (err == -ENOENT) return false;
    return fail(ErrorKind::kernel, "element lookup failed: " + errno_text(-err));
}

namespace {

// Sends a framed batch in one sendmsg(), socket buffers sized to it and to
// its acknowledgements. Returns 0 or an errno.
int send_batch(int fd, const emit::Batch& batch) {
    size_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, batch.byte_size() + 64 * 1024);
    // An acknowledgement costs about 1 KiB of receive buffer (skb overhead).
    size_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, batch.size() * 2048 + 1024 * 1024);
    std::vector<iovec> iov = batch.iovecs();
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    msghdr msg{};
    msg.msg_name = &kernel;
    msg.msg_namelen = sizeof kernel;
    msg.msg_iov = iov.data();
    msg.msg_iovlen = iov.size();
    return sendmsg(fd, &msg, 0) < 0 ? errno : 0;
}

Result<CommitOutcome> send_failure(int err) {
    if (err == EPERM) return fail(ErrorKind::permission, "committing rules needs CAP_NET_ADMIN");
    return fail(ErrorKind::kernel, "cannot send the batch: " + errno_text(err));
}

CommitOutcome::Status status_of(const CommitOutcome& out, std::uint32_t begin_seq) {
    if (out.rejections.empty()) return CommitOutcome::Status::committed;
    if (out.rejections.size() == 1 && out.rejections[0].seq == begin_seq && out.rejections[0].error == ERESTART) {
        return CommitOutcome::Status::conflict;
    }
    return CommitOutcome::Status::rejected;
}

}  // namespace

Result<CommitOutcome> NetlinkKernel::commit(const emit::Batch& batch) {
    // Out of the monitor's group only when the generation before is known,
    // so that a gap can be told.
    std::optional<std::uint32_t> before;
    if (mute_) {
        if (auto g = generation()) before = *g;
    }
    Monitor* muted = before ? mute_ : nullptr;
    if (muted) muted->leave();
    const int send_err = send_batch(mnl_socket_get_fd(sock_), batch);
    if (muted) muted->join();  // the kernel processed the batch inside sendmsg()
    if (send_err != 0) {
        if (muted) muted->note_gap();  // rare; a resync is cheaper than a doubt
        return send_failure(send_err);
    }
    AckCollector acks{batch.begin_seq(), std::vector<bool>(batch.size(), false), batch.size(), {}};
    // The kernel processes the batch inside sendmsg(), so the acknowledgements
    // are already queued; the timeout only guards against a lost one.
    if (int err = read_acks(sock_, recv_buffer(), acks, 5000); err < 0) {
        if (muted) muted->note_gap();
        return fail(ErrorKind::kernel, "reading acknowledgements failed (" + errno_text(-err) +
                                           "): the outcome of the commit is unknown; run `nftpolicy diff`");
    }
    CommitOutcome out = std::move(acks.outcome);
    out.status = status_of(out, batch.begin_seq());
    if (out.status == CommitOutcome::Status::committed) {
        if (auto genid = generation()) out.genid_after = *genid;
    }
    if (muted) after_muted(*before, out);
    return out;
}

// The kernel aborts a batch without BATCH_END: no event, no new generation,
// so the monitor need not step aside.
Result<CommitOutcome> NetlinkKernel::check(const emit::Batch& batch) {
    if (int err = send_batch(mnl_socket_get_fd(sock_), batch); err != 0) return send_failure(err);
    AckCollector acks{batch.begin_seq(), std::vector<bool>(batch.size(), false), batch.size(), {}};
    if (int err = read_acks(sock_, recv_buffer(), acks, 5000); err < 0) {
        return fail(ErrorKind::kernel, "reading the kernel's answers to a check failed: " + errno_text(-err));
    }
    CommitOutcome out = std::move(acks.outcome);
    out.status = status_of(out, batch.begin_seq());
    return out;
}

// Out of the group, we missed the events of whatever committed in between:
// nothing but our batch (or nothing at all) may have moved the generation.
void NetlinkKernel::after_muted(std::uint32_t before, const CommitOutcome& out) {
    const bool ours = out.status == CommitOutcome::Status::committed;
    std::uint32_t now = out.genid_after;
    if (!ours) {
        auto g = generation();
        now = g ? *g : 0;
    }
    if (now != before + (ours ? 1 : 0)) mute_->note_gap();
}

}  // namespace nftpolicy::kernel
