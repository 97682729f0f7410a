// inotify on the directories of the watched files; see watcher.h.
#include "service/watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

namespace nftpolicy::service {

namespace {

// A converge follows these; IN_MODIFY (a write, closed or not) only voids
// what was read before it (policy/address_list_cache.h).
constexpr std::uint32_t kChanges = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB;
constexpr std::uint32_t kMask = kChanges | IN_MODIFY | IN_ONLYDIR;

std::pair<std::string, std::string> split(const std::string& file) {
    std::filesystem::path p(file);
    std::string dir = p.parent_path().string();
    return {dir.empty() ? "." : dir, p.filename().string()};
}

}  // namespace

Result<Watcher> Watcher::create() {
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return fail(ErrorKind::io, std::string("inotify: ") + std::strerror(errno));
    return Watcher(fd);
}

Watcher::~Watcher() {
    if (fd_ >= 0) ::close(fd_);
}

std::vector<std::string> Watcher::watch(const std::vector<std::string>& files) {
    std::map<std::string, std::set<std::string>> wanted;
    for (const auto& f : files) {
        auto [dir, name] = split(f);
        wanted[dir].insert(name);
    }
    for (auto it = dirs_.begin(); it != dirs_.end();) {
        if (wanted.contains(it->first)) {
            ++it;
            continue;
        }
        ::inotify_rm_watch(fd_, it->second.wd);
        it = dirs_.erase(it);
    }
    std::vector<std::string> warnings;
    for (auto& [dir, names] : wanted) {
        Dir& d = dirs_[dir];
        d.names = std::move(names);
        if (d.wd >= 0) continue;
        d.wd = ::inotify_add_watch(fd_, dir.c_str(), kMask);
        if (d.wd < 0) warnings.push_back("cannot watch " + dir + ": " + std::strerror(errno));
    }
    return warnings;
}

bool Watcher::complete() const {
    return std::all_of(dirs_.begin(), dirs_.end(), [](const auto& d) { return d.second.wd >= 0; });
}

namespace {

bool ends_with_toml(std::string_view name) {
    return name.size() > 5 && name.substr(name.size() - 5) == ".toml";
}

void add(Watcher::Events& out, const std::string& path, std::uint32_t mask) {
    out.touched.insert(path);
    if (mask & (kChanges | IN_Q_OVERFLOW)) out.changed.insert(path);
    if (mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) out.written.insert(path);
}

}  // namespace

Watcher::Events Watcher::drain() {
    alignas(inotify_event) char buf[8192];
    Events out;
    for (;;) {
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n <= 0) return out;
        for (ssize_t off = 0; off < n;) {
            const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
            off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
            if (ev->mask & IN_Q_OVERFLOW) add(out, "*", ev->mask);
            if (ev->len == 0) continue;
            const std::string_view name(ev->name);
            for (const auto& [dir, d] : dirs_) {
                if (d.wd == ev->wd && (d.names.contains(std::string(name)) || ends_with_toml(name)))
                    add(out, dir + "/" + std::string(name), ev->mask);
            }
        }
    }
}

}  // namespace nftpolicy::service
