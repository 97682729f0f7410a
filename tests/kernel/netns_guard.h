// Kernel tests run only inside a network namespace of their own: refuse to
// run in a namespace that has any interface besides lo (that is, most likely
// the machine's own), so a mistaken invocation can never load rules there.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

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

// True when only `lo` exists: a fresh `unshare -n` namespace.
inline bool in_scratch_netns() {
    // (/sys/class/net would show the mount's namespace, not ours.)
    Shell s = sh("ip -o link show | cut -d: -f2");
    return s.status == 0 && s.out == " lo\n";
}

}  // namespace nftpolicy::testing
