// nftpolicyd's manager, shaped like networkd's: creating it does no I/O;
// setup() wires the event loop (sd-event, one thread): SIGTERM/SIGINT to
// exit, SIGHUP to reload, the watchdog, inotify on the policy files and the
// state directory, the control socket, the nf_tables events (drift_watch.h:
// another process's change to our table is logged and, with drift =
// "repair", undone by a converge); start() makes the kernel hold the
// policy (or a fallback) and sends READY=1; loop() runs until a signal ends
// it. Every change goes through converge(), the single path to the kernel
// (the reload paths and drift repair alike). The ruleset stays in the
// kernel when the daemon stops or dies.
#pragma once

#include <systemd/sd-event.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "service/drift_watch.h"
#include "service/engine.h"
#include "service/journal.h"
#include "service/metrics_file.h"
#include "service/watcher.h"

namespace nftpolicy::service {

struct ManagerOptions {
    EngineOptions engine;
    std::string runtime_dir = "/run/nftpolicy";  // control socket, apply lock
    std::uint64_t debounce_usec = 200000;        // file changes merged within this
    MetricsOptions metrics;                      // the node_exporter textfile
    // Receive buffer of the nf_tables event socket (the kernel doubles it);
    // events beyond it are lost and force a resync (drift_watch.h).
    std::size_t event_buffer = kernel::Monitor::kDefaultRcvbuf;
};

// Why a converge runs.
enum class Trigger {
    start,
    signal,   // SIGHUP
    client,   // `nftpolicy reload` on the control socket
    files,    // a policy file, an include or an address list changed
    state,    // the state directory's migration state changed (CLI)
    drift,    // someone else changed our table (drift repair)
    confirm,  // `apply --confirm`: its deadline, `nftpolicy confirm` or `rollback`
};
const char* trigger_name(Trigger why);

struct EventDeleter {
    void operator()(sd_event* e) const { sd_event_unref(e); }
};
struct SourceDeleter {
    void operator()(sd_event_source* s) const { sd_event_source_disable_unref(s); }
};
using EventPtr = std::unique_ptr<sd_event, EventDeleter>;
using SourcePtr = std::unique_ptr<sd_event_source, SourceDeleter>;

class Manager {
  public:
    explicit Manager(ManagerOptions options);
    ~Manager();
    Manager(const Manager&) = delete;
    Manager& operator=(const Manager&) = delete;

    Result<void> setup();
    // The first converge; READY=1 once the kernel holds a ruleset. Fails
    // only when it holds none of ours (nothing loaded, nothing found).
    Result<void> start();
    // Runs the event loop; the exit code.
    int loop();

    // The one path to the kernel. Under the apply lock: re-reads the state
    // directory, recompiles if an input changed (always for signal and
    // client), commits only what differs from the kernel, keeps the last
    // good ruleset when the policy is invalid; then renders the outcome
    // (journal, STATUS=). Reload triggers are framed by RELOADING=1 and
    // READY=1; Trigger::drift is not.
    Outcome converge(Trigger why);
    // Runs converge(why) from the loop after `delay_usec` (merging what
    // arrives in between).
    void schedule(Trigger why, std::uint64_t delay_usec);
    void finish_writes(bool recompiled);
    void defer_writes(bool recompiled);
    static int on_state_timer(sd_event_source* s, std::uint64_t usec, void* self);
    Result<void> add_state_timer();
    Result<void> add_idle_timer(sd_event_time_handler_t handler, const char* what, SourcePtr& out);

    sd_event* event() const { return event_.get(); }
    const Engine& engine() const { return *engine_; }
    std::uint32_t last_commit_genid() const { return engine_->last_commit_genid(); }
    // The STATUS= text as it stands.
    const std::string& status() const { return status_; }

  private:
    struct Client;
    static int on_signal(sd_event_source* s, const signalfd_siginfo* si, void* self);
    static int on_timer(sd_event_source* s, std::uint64_t usec, void* self);
    static int on_metrics_timer(sd_event_source* s, std::uint64_t usec, void* self);
    static int on_inotify(sd_event_source* s, int fd, std::uint32_t events, void* self);
    static int on_accept(sd_event_source* s, int fd, std::uint32_t events, void* self);
    static int on_client(sd_event_source* s, int fd, std::uint32_t events, void* self);
    static int on_monitor(sd_event_source* s, int fd, std::uint32_t events, void* self);
    static int on_confirm_timer(sd_event_source* s, std::uint64_t usec, void* self);

    Result<void> add_signals();
    Result<void> add_control();
    Result<void> add_watcher();
    Result<void> add_metrics_timer();
    void note_facts(const Outcome& out);
    void write_metrics();
    Result<void> add_monitor();
    void read_drift();
    void on_drift(const drift::Assessment& a);
    void drift_synced(const Outcome& out);
    void write_drift_counts();
    void rewatch();
    void take_file_events(bool read_ahead);
    void render(Trigger why, const Outcome& out);
    void answer_clients(const Outcome& out);
    void answer(Client& c, const Outcome* out);
    void client_request(Client& c);
    void take_reload_options(const std::string& cmd);
    Result<void> add_confirm_timer();
    void arm_confirm(std::optional<std::int64_t> deadline);
    void confirm_command(Client& c, const std::string& cmd);
    void finish(const Outcome& out);
    void refresh_status();

    ManagerOptions options_;
    Log log_;
    EventPtr event_;
    std::unique_ptr<Engine> engine_;
    std::optional<Watcher> watcher_;
    std::vector<SourcePtr> sources_;  // signals, inotify, control socket, nf_tables events
    std::unique_ptr<DriftWatch> drift_;
    bool drift_pending_ = false;  // a converge for drift is scheduled
    SourcePtr timer_;
    int control_fd_ = -1;
    std::vector<std::unique_ptr<Client>> clients_;
    std::optional<Trigger> pending_;  // the strongest trigger scheduled
    std::string status_;
    std::string last_error_;
    MetricsFile metrics_;
    SourcePtr metrics_timer_;
    DaemonFacts facts_;
    std::string metrics_error_;  // the last textfile failure, logged once
    SourcePtr confirm_timer_;    // the deadline of `apply --confirm`
    SourcePtr state_timer_;      // the state files a converge left (defer_writes)
    bool trim_pending_ = false;  // a recompile's memory is given back with them
    std::uint64_t writes_since_ = 0;  // the first converge that left them (monotonic usec)
    bool force_next_ = false;    // `reload --force`: the lockout guard steps aside once
    std::vector<ir::SshClient> ssh_next_;  // the SSH sessions of the clients asking for the next reload
};

// new manager -> setup -> start (READY=1) -> loop: nftpolicyd's whole life.
int run(const ManagerOptions& options);

}  // namespace nftpolicy::service
