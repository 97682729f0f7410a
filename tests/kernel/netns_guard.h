// Kernel tests run only inside a network namespace of their own: refuse to
// run in a namespace that has any interface besides lo (that is, most likely
// the machine's own), so a mistaken invocation can never load rules there.
#pragma once

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "kernel/netlink_kernel.h"

namespace nftpolicy::testing {

// Output of a shell command (stdout), and its exit status.
struct Shell {
    std::string out;
    int status = 0;
};

inline Shell sh(const std::string& cmd) {
    Shell r;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return Shell{"", -1};
    char buf[4096];
    std::size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    r.status = pclose(p);
    return r;
}

// True in a fresh `unshare -n` namespace: only `lo` exists, and, when PID 1's
// namespace link can be read (some sandboxes hide it), ours is not PID 1's.
inline bool in_scratch_netns() {
    Shell init_ns = sh("readlink /proc/1/ns/net 2>/dev/null");
    if (init_ns.status == 0 && !init_ns.out.empty() && sh("readlink /proc/self/ns/net").out == init_ns.out) {
        return false;
    }
    // (/sys/class/net would show the mount's namespace, not ours.)
    Shell s = sh("ip -o link show | cut -d: -f2");
    return s.status == 0 && s.out == " lo\n";
}

// Empties the ruleset of this scratch namespace. The only `nft flush ruleset`
// of the kernel tests, and it checks where it runs first.
inline void flush_scratch_ruleset() {
    REQUIRE(in_scratch_netns());
    REQUIRE(sh("nft flush ruleset").status == 0);
}

// Netlink to the kernel of this scratch namespace; refuses anywhere else.
inline std::unique_ptr<kernel::NetlinkKernel> open_scratch_kernel() {
    REQUIRE(in_scratch_netns());
    auto k = kernel::NetlinkKernel::open();
    REQUIRE(k);
    return std::move(*k);
}

}  // namespace nftpolicy::testing
