// Internal to kernel/: one request/response exchange on a netlink socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

struct mnl_socket;
struct nlmsghdr;
struct nlattr;

namespace nftpolicy::kernel::detail {

// Called for each reply message; false stops (the dump is then drained).
using MessageFn = std::function<bool(const nlmsghdr*)>;

// Sends `request` (sequence number `seq`) and runs `fn` on every reply until
// the kernel signals the end (NLMSG_DONE or an ack), receiving into `recv`
// (the socket owner's buffer, kept between requests: a fresh 256 KiB per
// request cost page faults on every one). Returns 0 or -errno.
int talk(mnl_socket* sock, std::uint32_t portid, std::span<char> recv, const nlmsghdr* request, std::uint32_t seq,
         const MessageFn& fn);

// The receive buffer size: dump replies are at most a page or so each;
// element dumps can be larger.
inline constexpr std::size_t kReceiveBuffer = 256 * 1024;

// Attributes of a message after its `header_len`-byte family header, and the
// attributes nested in one attribute.
using AttrFn = std::function<void(const nlattr*)>;
void for_each_attr(const nlmsghdr* nlh, std::size_t header_len, const AttrFn& fn);
void for_each_nested(const nlattr* nest, const AttrFn& fn);

}  // namespace nftpolicy::kernel::detail
