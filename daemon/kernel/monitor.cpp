// The nf_tables event monitor; see monitor.h.
#include "kernel/monitor.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "kernel/netlink_io.h"

namespace nftpolicy::kernel {

namespace {

// Which object and direction a message type announces; false for messages
// that are not changes (NEWGEN, traces, resets, types newer than us).
bool classify(std::uint16_t msg, ObjectKind& kind, ChangeOp& op) {
    switch (msg) {
        case NFT_MSG_NEWTABLE: kind = ObjectKind::table, op = ChangeOp::added; return true;
        case NFT_MSG_DELTABLE: kind = ObjectKind::table, op = ChangeOp::removed; return true;
        case NFT_MSG_NEWCHAIN: kind = ObjectKind::chain, op = ChangeOp::added; return true;
        case NFT_MSG_DELCHAIN: kind = ObjectKind::chain, op = ChangeOp::removed; return true;
        case NFT_MSG_NEWRULE: kind = ObjectKind::rule, op = ChangeOp::added; return true;
        case NFT_MSG_DELRULE: kind = ObjectKind::rule, op = ChangeOp::removed; return true;
        case NFT_MSG_NEWSET: kind = ObjectKind::set, op = ChangeOp::added; return true;
        case NFT_MSG_DELSET: kind = ObjectKind::set, op = ChangeOp::removed; return true;
        case NFT_MSG_NEWSETELEM: kind = ObjectKind::element, op = ChangeOp::added; return true;
        case NFT_MSG_DELSETELEM: kind = ObjectKind::element, op = ChangeOp::removed; return true;
        case NFT_MSG_NEWOBJ: kind = ObjectKind::object, op = ChangeOp::added; return true;
        case NFT_MSG_DELOBJ: kind = ObjectKind::object, op = ChangeOp::removed; return true;
        case NFT_MSG_NEWFLOWTABLE: kind = ObjectKind::flowtable, op = ChangeOp::added; return true;
        case NFT_MSG_DELFLOWTABLE: kind = ObjectKind::flowtable, op = ChangeOp::removed; return true;
        default: return false;
    }
}

// The attribute numbers of the table, name and handle of each kind (the
// kernel numbers them per object type). A chain's own name goes to
// Change::chain, as a rule's chain does.
struct AttrIds {
    std::uint16_t table;
    std::uint16_t name;
    std::uint16_t chain;   // 0: none
    std::uint16_t handle;  // 0: none
};

AttrIds attr_ids(ObjectKind kind) {
    switch (kind) {
        case ObjectKind::table: return {NFTA_TABLE_NAME, 0, 0, NFTA_TABLE_HANDLE};
        case ObjectKind::chain: return {NFTA_CHAIN_TABLE, 0, NFTA_CHAIN_NAME, NFTA_CHAIN_HANDLE};
        case ObjectKind::rule: return {NFTA_RULE_TABLE, 0, NFTA_RULE_CHAIN, NFTA_RULE_HANDLE};
        case ObjectKind::set: return {NFTA_SET_TABLE, NFTA_SET_NAME, 0, NFTA_SET_HANDLE};
        case ObjectKind::element: return {NFTA_SET_ELEM_LIST_TABLE, NFTA_SET_ELEM_LIST_SET, 0, 0};
        case ObjectKind::object: return {NFTA_OBJ_TABLE, NFTA_OBJ_NAME, 0, NFTA_OBJ_HANDLE};
        case ObjectKind::flowtable: return {NFTA_FLOWTABLE_TABLE, NFTA_FLOWTABLE_NAME, 0, NFTA_FLOWTABLE_HANDLE};
    }
    return {0, 0, 0, 0};
}

std::vector<std::uint8_t> data_value(const nlattr* nest) {
    std::vector<std::uint8_t> out;
    detail::for_each_nested(nest, [&out](const nlattr* a) {
        if (mnl_attr_get_type(a) != NFTA_DATA_VALUE) return;
        const auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(a));
        out.assign(p, p + mnl_attr_get_payload_len(a));
    });
    return out;
}

ElementKey parse_element(const nlattr* elem) {
    ElementKey e;
    detail::for_each_nested(elem, [&e](const nlattr* f) {
        switch (mnl_attr_get_type(f)) {
            case NFTA_SET_ELEM_KEY: e.key = data_value(f); break;
            case NFTA_SET_ELEM_KEY_END: e.key_end = data_value(f); break;
            case NFTA_SET_ELEM_FLAGS: e.interval_end = (ntohl(mnl_attr_get_u32(f)) & NFT_SET_ELEM_INTERVAL_END) != 0; break;
            default: break;  // data, timeouts, expressions: not part of the summary
        }
    });
    return e;
}

void parse_elements(const nlattr* list, Change& c) {
    detail::for_each_nested(list, [&c](const nlattr* elem) {
        if (mnl_attr_get_type(elem) == NFTA_LIST_ELEM) c.elements.push_back(parse_element(elem));
    });
}

// A string attribute, tolerating a missing terminator.
std::string str_of(const nlattr* a) {
    const auto* p = static_cast<const char*>(mnl_attr_get_payload(a));
    return std::string(p, strnlen(p, mnl_attr_get_payload_len(a)));
}

std::uint64_t handle_of(const nlattr* a) {
    if (mnl_attr_get_payload_len(a) != sizeof(std::uint64_t)) return 0;
    return be64toh(mnl_attr_get_u64(a));
}

Change parse_change(const nlmsghdr* nlh, ObjectKind kind, ChangeOp op) {
    Change c;
    c.kind = kind;
    c.op = op;
    c.family = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh))->nfgen_family;
    const AttrIds ids = attr_ids(kind);
    detail::for_each_attr(nlh, sizeof(nfgenmsg), [&c, &ids](const nlattr* a) {
        const std::uint16_t type = mnl_attr_get_type(a);
        if (type == ids.table) c.table = str_of(a);
        else if (ids.name != 0 && type == ids.name) c.name = str_of(a);
        else if (ids.chain != 0 && type == ids.chain) c.chain = str_of(a);
        else if (ids.handle != 0 && type == ids.handle) c.handle = handle_of(a);
        else if (c.kind == ObjectKind::element && type == NFTA_SET_ELEM_LIST_ELEMENTS) parse_elements(a, c);
    });
    return c;
}

MonitorBatch parse_gen(const nlmsghdr* nlh) {
    MonitorBatch b;
    b.portid = nlh->nlmsg_pid;
    detail::for_each_attr(nlh, sizeof(nfgenmsg), [&b](const nlattr* a) {
        switch (mnl_attr_get_type(a)) {
            case NFTA_GEN_ID: b.genid = ntohl(mnl_attr_get_u32(a)); break;
            case NFTA_GEN_PROC_PID: b.pid = ntohl(mnl_attr_get_u32(a)); break;
            case NFTA_GEN_PROC_NAME: b.proc = str_of(a); break;
            default: break;
        }
    });
    return b;
}

bool well_formed(const nlmsghdr* nlh) {
    return nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(nfgenmsg) &&
           NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_NFTABLES;
}

}  // namespace

void EventParser::on_message(const nlmsghdr* nlh, std::vector<MonitorBatch>& out) {
    if (!well_formed(nlh)) return;
    const std::uint16_t msg = NFNL_MSG_TYPE(nlh->nlmsg_type);
    if (msg == NFT_MSG_NEWGEN) {
        MonitorBatch b = parse_gen(nlh);
        b.changes = std::move(pending_);
        pending_.clear();
        out.push_back(std::move(b));
        return;
    }
    ObjectKind kind;
    ChangeOp op;
    if (classify(msg, kind, op)) pending_.push_back(parse_change(nlh, kind, op));
}

void EventParser::feed(const void* data, std::size_t len, std::vector<MonitorBatch>& out) {
    int left = static_cast<int>(len);
    for (auto* nlh = static_cast<const nlmsghdr*>(data); mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
        on_message(nlh, out);
    }
}

Monitor::~Monitor() { mnl_socket_close(sock_); }

Result<std::unique_ptr<Monitor>> Monitor::open(std::size_t rcvbuf) {
    mnl_socket* sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (sock == nullptr) return fail(ErrorKind::kernel, std::string("cannot open netlink socket: ") + std::strerror(errno));
    std::unique_ptr<Monitor> m(new Monitor(sock));
    if (mnl_socket_bind(sock, 1u << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0) {
        const int err = errno;
        if (err == EPERM) return fail(ErrorKind::permission, "watching nf_tables events needs CAP_NET_ADMIN");
        return fail(ErrorKind::kernel, std::string("cannot subscribe to nf_tables events: ") + std::strerror(err));
    }
    const int fd = mnl_socket_get_fd(sock);
    const int want = rcvbuf > 0x3fffffff ? 0x3fffffff : static_cast<int>(rcvbuf);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);  // capped at net.core.rmem_max
    }
    m->buf_.resize(MNL_SOCKET_BUFFER_SIZE * 4);
    return m;
}

int Monitor::fd() const { return mnl_socket_get_fd(sock_); }

std::size_t Monitor::rcvbuf() const {
    int have = 0;
    socklen_t len = sizeof have;
    if (getsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &have, &len) != 0) return 0;
    return static_cast<std::size_t>(have);
}

Result<MonitorRead> Monitor::read(std::size_t budget) {
    MonitorRead out;
    for (std::size_t n = 0; n < budget; ++n) {
        sockaddr_nl from{};
        socklen_t from_len = sizeof from;
        const ssize_t got = recvfrom(fd(), buf_.data(), buf_.size(), MSG_DONTWAIT,
                                     reinterpret_cast<sockaddr*>(&from), &from_len);
        if (got >= 0) {
            // Only the kernel (port 0) speaks for nf_tables.
            if (from.nl_pid == 0) parser_.feed(buf_.data(), static_cast<std::size_t>(got), out.batches);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            drained(out);
            return out;
        }
        if (errno != ENOBUFS) return fail(ErrorKind::kernel, std::string("reading nf_tables events: ") + std::strerror(errno));
        // Events were dropped: what is pending belongs to a transaction we
        // saw only in part. The socket keeps delivering what comes next.
        parser_.drop_pending();
        lost_ = true;
    }
    out.more = true;
    out.overrun = lost_;  // and again in each read until one drains the socket
    return out;
}

void Monitor::leave() {
    const int group = NFNLGRP_NFTABLES;
    setsockopt(fd(), SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, &group, sizeof group);
}

void Monitor::join() {
    const int group = NFNLGRP_NFTABLES;
    if (setsockopt(fd(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0) lost_ = true;
}

void Monitor::drained(MonitorRead& out) {
    out.overrun = lost_;
    // Changes still waiting for their NEWGEN after a loss may belong to a
    // transaction whose other events were dropped: never let them join the
    // next batch (the caller resyncs anyway).
    if (lost_) parser_.drop_pending();
    lost_ = false;
}

bool touches(const Change& change, std::uint8_t family, const std::string& table) {
    return change.family == family && change.table == table;
}

bool touches(const MonitorBatch& batch, std::uint8_t family, const std::string& table) {
    for (const Change& c : batch.changes) {
        if (touches(c, family, table)) return true;
    }
    return false;
}

bool is_own(const MonitorBatch& batch, const Committer& us) {
    return (us.pid != 0 && batch.pid == us.pid) || (us.portid != 0 && batch.portid == us.portid);
}

namespace {

std::string hex(const std::vector<std::uint8_t>& bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out = "0x";
    for (std::uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

std::string key_text(const std::vector<std::uint8_t>& key) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (key.size() == 4 && inet_ntop(AF_INET, key.data(), buf, sizeof buf) != nullptr) return buf;
    if (key.size() == 16 && inet_ntop(AF_INET6, key.data(), buf, sizeof buf) != nullptr) return buf;
    return hex(key);
}

const char* kind_name(ObjectKind kind) {
    switch (kind) {
        case ObjectKind::table: return "table";
        case ObjectKind::chain: return "chain";
        case ObjectKind::rule: return "rule";
        case ObjectKind::set: return "set";
        case ObjectKind::element: return "element";
        case ObjectKind::object: return "object";
        case ObjectKind::flowtable: return "flowtable";
    }
    return "object";
}

std::string elements_text(const Change& c) {
    std::string out;
    for (const ElementKey& e : c.elements) {
        if (!out.empty()) out += ", ";
        out += describe(e);
    }
    const char* noun = c.elements.size() == 1 ? "element " : "elements ";
    return noun + out + (c.op == ChangeOp::added ? " added to set " : " removed from set ") + c.name;
}

}  // namespace

std::string describe(const ElementKey& element) {
    std::string out = key_text(element.key);
    if (!element.key_end.empty()) out += "-" + key_text(element.key_end);
    if (element.interval_end) out += " (interval end)";
    return out;
}

std::string describe(const Change& c) {
    const char* verb = c.op == ChangeOp::added ? " added" : " deleted";
    switch (c.kind) {
        case ObjectKind::table: return std::string("table") + verb;
        case ObjectKind::chain: return "chain " + c.chain + verb;
        case ObjectKind::rule: return std::string("rule") + verb + " in chain " + c.chain;
        case ObjectKind::element: return elements_text(c);
        case ObjectKind::set:
        case ObjectKind::object:
        case ObjectKind::flowtable: return std::string(kind_name(c.kind)) + " " + c.name + verb;
    }
    return "unknown change";
}

}  // namespace nftpolicy::kernel
