// The daemon's decisions, without its event loop: what the kernel should
// hold and making it hold that. One Engine per nftpolicyd. It keeps in
// memory the compiled ruleset it holds, the fingerprint of the files that
// ruleset was compiled from, and the kernel's large set contents from its
// last commit (kernel::KnownElements), so that a converge with unchanged
// inputs neither recompiles nor dumps a large set back from the kernel.
// Every kernel change goes through pipeline::commit under the apply lock
// the CLI takes too. Returns outcomes as values; never prints or logs
// (manager.h renders them).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kernel/netlink_kernel.h"
#include "pipeline/apply.h"
#include "ir/reach.h"
#include "pipeline/compile.h"
#include "service/inputs.h"

namespace nftpolicy::service {

struct EngineOptions {
    pipeline::PolicyRequest policy;  // file, include paths, host, table; phases come from the state
    pipeline::StateOptions state;    // the apply lock, the state directory
};

// Where the ruleset the kernel holds came from.
enum class Held {
    nothing,      // nothing committed, nothing found
    policy,       // the policy as it stands (or stood at its last good compile)
    last_good,    // the state directory's last good ruleset (the policy was broken at start)
    kept,         // a table already in the kernel, left as found (broken policy, no last good)
    builtin,      // the safe built-in ruleset (fallback.h)
    rolled_back,  // the last confirmed ruleset, after an `apply --confirm` went unconfirmed
};
const char* held_name(Held held);

struct Holding {
    Held held = Held::nothing;
    std::shared_ptr<const pipeline::Compiled> compiled;  // null for nothing and kept
    std::string hash;                                    // kernel::ruleset_hash of compiled
    std::uint64_t generation = 0;                        // +1 whenever the held ruleset changes
    std::string note;                                    // builtin: what it lets in
};

struct Outcome {
    bool ok = false;  // the policy compiled and the kernel holds it
    std::optional<pipeline::Failure> failure;
    std::string diagnostics;  // rendered: file:line:col, source line, caret (warnings too)
    std::string error;        // the failure in one line (for STATUS=)
    bool recompiled = false;
    bool committed = false;  // the kernel changed
    std::vector<std::string> changes;
    std::vector<std::string> warnings;
    std::vector<std::string> notes;  // e.g. a flowtable left out (kernel/flowtable_probe.h)
    std::size_t policy_errors = 0;  // of the last compile (a refused empty ruleset counts one)
    std::size_t policy_warnings = 0;
    std::uint64_t took_usec = 0;  // the converge's time, when its caller measured it (0: not)
};

class Engine {
  public:
    // Opens the netlink socket; fails without CAP_NET_ADMIN.
    static Result<std::unique_ptr<Engine>> open(EngineOptions options);
    ~Engine();  // writes what finish() would
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // The first converge, with the fallbacks: the policy; else the last
    // good ruleset; else a table already in the kernel, kept; else the
    // built-in ruleset. ok only for the policy itself.
    Outcome start();

    // Under the apply lock: compile the policy with the state directory's
    // phases and gates (only when `recompile`, or when an input file or the
    // state file changed since the last compile), and make the kernel hold
    // the result, committing only what differs. An invalid policy keeps (and
    // restores) the ruleset held before.
    // The lockout guard refuses a new ruleset that cuts the management
    // access of the held one, or the SSH session of a client that asked for
    // the reload (`ssh`), unless `force`.
    // Returns once the kernel holds the result; the large state files (the
    // elements file, the last good ruleset) are left for finish(), and the
    // apply lock stays taken until then. A converge before finish() takes
    // over both: what it commits supersedes what they would have written
    // (a burst of one-address reloads writes them once, not once each).
    Outcome converge(bool recompile, bool force = false, const std::vector<ir::SshClient>& ssh = {});
    // Once a converge's outcome is told, when the daemon is quiet: writes
    // the state files left (at a million addresses 9 MB and 1M lines,
    // synced) and releases the apply lock. Returns what could not be
    // written. Every call but converge does it first, and so does the
    // destructor, so nothing is lost if it is not called.
    std::vector<std::string> finish();
    // Whether finish() has files to write (and holds the apply lock).
    bool writes_pending() const { return finish_lock_.has_value(); }

    // `nftpolicy confirm` (service/confirm.h): the unconfirmed ruleset becomes
    // the last confirmed one. Past the deadline it rolls back instead and
    // fails. `message` says what happened.
    Outcome confirm(std::int64_t now, std::string& message);
    // Commits the last confirmed ruleset (Held::rolled_back) and marks the
    // pending record rolled back; with `if_pending`, only when a
    // confirmation is pending and its deadline has passed.
    Outcome rollback(const std::string& reason, bool if_pending, std::int64_t now,
                     std::string& message);

    // What the watched files' events say (Watcher::Events): the address
    // lists `touched` are read again by the next compile; those `written`
    // (closed after an edit) are read now, so that a reload asked for just
    // after the edit finds them read (AddressListCache::read_ahead).
    void files_changed(const std::set<std::string>& touched, const std::set<std::string>& written);

    const Holding& holding() const { return holding_; }
    // Files the last compile depended on, and the state file: what to watch.
    std::vector<std::string> watched_files() const;
    // The generation our last commit left the ruleset at (0: none yet).
    std::uint32_t last_commit_genid() const { return last_genid_; }
    // Every transaction up to this generation is reflected in what the
    // engine last read or committed (0: nothing yet): the generation its
    // last read saw, or the one its commit made (generation-checked against
    // that read, so no other commit came in between).
    std::uint32_t synced_genid() const { return synced_genid_; }
    // The kernel's large set contents as of known_elements()->genid, for the
    // drift tracker to carry across transactions that leave our sets alone.
    std::optional<kernel::KnownElements>& known_elements() { return known_; }
    // The kernel's current ruleset generation.
    Result<std::uint32_t> generation() { return kernel_->generation(); }
    // The netlink port our commits come from (kernel/monitor.h: is_own).
    std::uint32_t portid() const { return kernel_->portid(); }
    // Our commits leave `monitor`'s event group while the kernel takes them.
    void mute_during_commit(kernel::Monitor* monitor) { kernel_->mute_during_commit(monitor); }
    const EngineOptions& options() const { return options_; }

  private:
    Engine(EngineOptions options, std::unique_ptr<kernel::NetlinkKernel> kernel);
    Result<kernel::ApplyLock> take_lock();
    void converge_locked(bool recompile, bool force, const std::vector<ir::SshClient>& ssh, Outcome& out);
    std::shared_ptr<const pipeline::Compiled> compile_if_needed(bool recompile, Outcome& out);
    void note_inputs(const pipeline::CompileOutput& compiled);
    bool commit(const std::shared_ptr<const pipeline::Compiled>& target, Held held,
                const std::string& policy_path, Outcome& out);
    void fall_back(Outcome& out);
    bool kernel_has_table(const std::string& table);
    std::optional<pipeline::Failure> refuse(const pipeline::Compiled& next, bool force,
                                            const std::vector<ir::SshClient>& ssh) const;
    void keep_last_good(const pipeline::Compiled& target, Outcome& out);
    void save_state(Outcome& out);
    Outcome rollback_locked(const std::string& reason, bool if_pending, std::int64_t now,
                            std::string& message);

    EngineOptions options_;
    std::unique_ptr<kernel::NetlinkKernel> kernel_;
    Holding holding_;
    std::optional<kernel::KnownElements> known_;
    policy::AddressListCache lists_;  // the address lists of the last compile
    std::vector<std::string> inputs_;  // files the last compile depended on (see note_inputs)
    Fingerprint fingerprint_;          // of inputs_ and the state file, at that compile
    std::optional<Outcome> failed_;    // that compile's failure, while the files stay the same
    std::optional<std::string> last_good_hash_;
    // What a converge left for finish(), under this lock.
    std::optional<kernel::ApplyLock> finish_lock_;
    bool elements_unsaved_ = false;
    bool record_unsynced_ = false;
    std::shared_ptr<const pipeline::Compiled> last_good_pending_;
    std::uint32_t last_genid_ = 0;
    std::uint32_t synced_genid_ = 0;
};

}  // namespace nftpolicy::service
