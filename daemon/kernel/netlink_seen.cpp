// NetlinkKernel::read_seen_set: one GETSET for the declaration, one element
// dump of that set only; see seen_sets.h.
#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "emit/netlink_state.h"
#include "emit/nftnl_handles.h"
#include "kernel/netlink_io.h"
#include "kernel/netlink_kernel.h"

namespace nftpolicy::kernel {

namespace {

constexpr std::uint32_t kTypeIpv6Addr = 8;  // nft's ipv6_addr datatype (ipv4_addr is 7)

std::uint64_t be64_payload(const nlattr* a) { return be64toh(mnl_attr_get_u64(a)); }

// The element's key, timeout and expiration; `set_timeout` when the element
// carries no timeout of its own (the kernel omits it when it is the set's).
SeenElement parse_seen(const nlattr* elem, net::Family family, std::uint64_t set_timeout) {
    SeenElement e{family, 0, set_timeout, 0};
    detail::for_each_nested(elem, [&e](const nlattr* f) {
        switch (mnl_attr_get_type(f)) {
            case NFTA_SET_ELEM_KEY:
                detail::for_each_nested(f, [&e](const nlattr* v) {
                    if (mnl_attr_get_type(v) == NFTA_DATA_VALUE) {
                        e.addr = emit::key_from_bytes(mnl_attr_get_payload(v), mnl_attr_get_payload_len(v));
                    }
                });
                break;
            case NFTA_SET_ELEM_TIMEOUT: e.timeout_ms = be64_payload(f); break;
            case NFTA_SET_ELEM_EXPIRATION: e.expires_ms = be64_payload(f); break;
            default: break;
        }
    });
    return e;
}

Error netlink_error(const std::string& what, int err) {
    if (err == -EPERM) return Error{ErrorKind::permission, what + " needs CAP_NET_ADMIN"};
    return Error{ErrorKind::kernel, what + " failed: " + std::strerror(-err)};
}

}  // namespace

Result<SeenSet> NetlinkKernel::read_seen_set(const std::string& table, const std::string& set) {
    SeenSet out;
    out.name = set;
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    std::uint32_t seq = next_seq();
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETSET, NFPROTO_INET, NLM_F_ACK, seq);
    mnl_attr_put_strz(nlh, NFTA_SET_TABLE, table.c_str());
    mnl_attr_put_strz(nlh, NFTA_SET_NAME, set.c_str());
    int err = detail::talk(sock_, portid_, recv_buffer(), nlh, seq, [&out](const nlmsghdr* reply) {
        emit::SetPtr s(nftnl_set_alloc());
        if (nftnl_set_nlmsg_parse(reply, s.get()) != 0) return true;
        out.present = true;
        if (nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_TYPE) == kTypeIpv6Addr) out.family = net::Family::ipv6;
        if (nftnl_set_is_set(s.get(), NFTNL_SET_DESC_SIZE)) out.size = nftnl_set_get_u32(s.get(), NFTNL_SET_DESC_SIZE);
        if (nftnl_set_is_set(s.get(), NFTNL_SET_TIMEOUT)) out.timeout_ms = nftnl_set_get_u64(s.get(), NFTNL_SET_TIMEOUT);
        return true;
    });
    if (err == -ENOENT) return out;  // no table or no set: not recording
    if (err < 0) return tl::unexpected(netlink_error("reading set " + set, err));

    seq = next_seq();
    nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP, seq);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set.c_str());
    err = detail::talk(sock_, portid_, recv_buffer(), nlh, seq, [&out](const nlmsghdr* reply) {
        detail::for_each_attr(reply, sizeof(nfgenmsg), [&out](const nlattr* a) {
            if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS) return;
            detail::for_each_nested(a, [&out](const nlattr* e) {
                out.elements.push_back(parse_seen(e, out.family, out.timeout_ms));
            });
        });
        return true;
    });
    if (err == -ENOENT) return SeenSet{set, false, out.family, 0, 0, {}};  // removed in between
    if (err < 0) return tl::unexpected(netlink_error("dumping set " + set, err));
    return out;
}

}  // namespace nftpolicy::kernel
