// RulesetKernel over a NETLINK_NETFILTER socket (libmnl): dumps parsed with
// libnftnl (elements with libmnl directly, to stay compact at 1M elements),
// batches sent in one sendmsg() with socket buffers sized to the batch, and
// every acknowledgement read back (NLM_F_ACK on each message, NETLINK_EXT_ACK
// for attribute offsets, NETLINK_CAP_ACK so an error does not echo a 64 KiB
// message back).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernel/ruleset_kernel.h"
#include "kernel/seen_sets.h"

struct mnl_socket;

namespace nftpolicy::kernel {

class Monitor;

class NetlinkKernel final : public RulesetKernel {
public:
    // Opens and binds the socket; fails without CAP_NET_ADMIN.
    static Result<std::unique_ptr<NetlinkKernel>> open();
    ~NetlinkKernel() override;
    NetlinkKernel(const NetlinkKernel&) = delete;
    NetlinkKernel& operator=(const NetlinkKernel&) = delete;

    Result<KernelView> read(const std::string& table, const ReadOptions& options = {}) override;
    Result<CommitOutcome> commit(const emit::Batch& batch) override;
    Result<CommitOutcome> check(const emit::Batch& batch) override;

    // The current ruleset generation.
    Result<std::uint32_t> generation() override;

    // Whether set `set` of table `inet <table>` holds an element covering
    // `key` (big-endian key bytes). One lookup in the kernel: unlike a dump,
    // cheap on a 1M-element set.
    Result<bool> has_element(const std::string& table, const std::string& set, const std::vector<std::uint8_t>& key);

    // The declaration and the elements, with their timers, of the dynamic
    // set `set` of table `inet <table>` (seen_sets.h). Dumps that set only.
    Result<SeenSet> read_seen_set(const std::string& table, const std::string& set);

    // Identifies this kernel's ruleset across processes: the boot id and the
    // network namespace cookie (never reused within a boot). Generation ids
    // start over in every namespace, so they alone cannot tell two apart.
    const std::string& scope() const override { return scope_; }

    // The netlink port id of this socket: the kernel names it as the
    // committer of our transactions in nf_tables events (kernel/monitor.h).
    std::uint32_t portid() const { return portid_; }

    // While a batch of ours is processed, `monitor` (which may be null) is
    // out of the nf_tables event group, so the kernel builds no events for
    // it unless someone else listens; when the generation after the commit
    // is not ours alone, the monitor is told of the gap.
    void mute_during_commit(Monitor* monitor) { mute_ = monitor; }

private:
    explicit NetlinkKernel(mnl_socket* sock);
    void after_muted(std::uint32_t before, const CommitOutcome& out);
    std::uint32_t next_seq();
    std::span<char> recv_buffer();

    mnl_socket* sock_;
    std::uint32_t portid_;
    std::uint32_t seq_;
    std::string scope_;
    Monitor* mute_ = nullptr;
    std::unique_ptr<char[]> recv_;  // one receive buffer for every request
};

}  // namespace nftpolicy::kernel
