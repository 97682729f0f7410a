// Watching the files a ruleset was compiled from (inotify). Editors and
// Ansible replace a file by renaming a new one over it, which a watch on the
// file itself would not see after the first time, so the watches are on the
// directories and events are matched by file name: a watched file's, or
// any `*.toml` there (an include that left no trace in the ruleset is not in
// the watched list, but it lives next to the files that are).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/result.h"

namespace nftpolicy::service {

class Watcher {
  public:
    static Result<Watcher> create();
    Watcher(Watcher&& other) noexcept : fd_(other.fd_), dirs_(std::move(other.dirs_)) {
        other.fd_ = -1;
    }
    Watcher& operator=(Watcher&&) = delete;
    Watcher(const Watcher&) = delete;
    ~Watcher();

    int fd() const { return fd_; }
    // Watches exactly `files` from now on (their directories); a directory
    // that cannot be watched is returned as a warning.
    std::vector<std::string> watch(const std::vector<std::string>& files);
    // Whether every directory watch() was asked for is watched: only then
    // do events tell every change of the watched files.
    bool complete() const;
    // What the pending events say, by path of a watched file (or *.toml
    // file). An overflowed queue reports "*" as changed and touched.
    struct Events {
        std::set<std::string> changed;  // written and closed, renamed, created, deleted, chmod'ed
        std::set<std::string> written;  // written and closed, or renamed into place: whole again
        std::set<std::string> touched;  // any event, a write not yet closed included
    };
    Events drain();

  private:
    explicit Watcher(int fd) : fd_(fd) {}
    struct Dir {
        int wd = -1;
        std::set<std::string> names;
    };
    int fd_;
    std::map<std::string, Dir> dirs_;  // by directory path
};

}  // namespace nftpolicy::service
