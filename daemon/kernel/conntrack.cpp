// ctnetlink through libnetfilter_conntrack; see conntrack.h.
#include "kernel/conntrack.h"

#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "emit/netlink_state.h"

namespace nftpolicy::kernel {

namespace {

struct CloseHandle {
    void operator()(nfct_handle* h) const { nfct_close(h); }
};
using HandlePtr = std::unique_ptr<nfct_handle, CloseHandle>;

struct DestroyCt {
    void operator()(nf_conntrack* ct) const { nfct_destroy(ct); }
};
using CtPtr = std::unique_ptr<nf_conntrack, DestroyCt>;

net::U128 addr_of(const nf_conntrack* ct, net::Family f, nf_conntrack_attr v4_attr, nf_conntrack_attr v6_attr) {
    if (f == net::Family::ipv4) {
        const std::uint32_t a = nfct_get_attr_u32(ct, v4_attr);  // network order
        return emit::key_from_bytes(&a, sizeof a);
    }
    return emit::key_from_bytes(nfct_get_attr(ct, v6_attr), 16);
}

// The tuple of a TCP/UDP entry; nullopt for anything else (ICMP, ...).
std::optional<ConnTuple> tuple_of(const nf_conntrack* ct) {
    const std::uint8_t l3 = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
    const std::uint8_t l4 = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
    if ((l3 != AF_INET && l3 != AF_INET6) || (l4 != IPPROTO_TCP && l4 != IPPROTO_UDP)) return std::nullopt;
    ConnTuple t;
    t.family = l3 == AF_INET ? net::Family::ipv4 : net::Family::ipv6;
    t.src = addr_of(ct, t.family, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC);
    t.dst = addr_of(ct, t.family, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST);
    t.proto = l4;
    t.sport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
    t.dport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
    return t;
}

struct DumpContext {
    const ConnSelector* select;
    std::vector<CtPtr> chosen;
    CutReport* report;
};

int on_entry(enum nf_conntrack_msg_type, nf_conntrack* ct, void* data) {
    auto* ctx = static_cast<DumpContext*>(data);
    auto t = tuple_of(ct);
    if (!t || !(*ctx->select)(*t)) return NFCT_CB_CONTINUE;
    ctx->report->selected.push_back(*t);
    ctx->chosen.emplace_back(ct);  // kept: deleted by its own tuple after the dump
    return NFCT_CB_STOLEN;
}

Error ct_error(const char* what, int err) {
    if (err == EPERM) return Error{ErrorKind::permission, std::string(what) + " needs CAP_NET_ADMIN"};
    return Error{ErrorKind::kernel, std::string(what) + " failed: " + std::strerror(err)};
}

}  // namespace

Result<CutReport> cut_connections(const ConnSelector& select, bool dry_run) {
    HandlePtr h(nfct_open(CONNTRACK, 0));
    if (!h) return tl::unexpected(ct_error("opening ctnetlink", errno));
    CutReport report;
    DumpContext ctx{&select, {}, &report};
    nfct_callback_register(h.get(), NFCT_T_ALL, on_entry, &ctx);
    std::uint32_t family = AF_UNSPEC;  // IPv4 and IPv6 in one dump
    if (nfct_query(h.get(), NFCT_Q_DUMP, &family) < 0) return tl::unexpected(ct_error("reading conntrack", errno));
    if (dry_run) return report;
    nfct_callback_unregister(h.get());
    for (const CtPtr& ct : ctx.chosen) {
        if (nfct_query(h.get(), NFCT_Q_DESTROY, ct.get()) == 0) {
            ++report.deleted;
        } else if (errno != ENOENT) {  // ENOENT: it closed in the meantime
            return tl::unexpected(ct_error("deleting a conntrack entry", errno));
        }
    }
    return report;
}

}  // namespace nftpolicy::kernel
