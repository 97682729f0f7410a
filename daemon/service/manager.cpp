// nftpolicyd's event loop and its rendering; see manager.h.
#include "service/manager.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "resolve/phases.h"
#include "service/confirm.h"
#include "service/control.h"
#include "service/drift_watch.h"
#include "state/site_state.h"

namespace nftpolicy::service {

const char* trigger_name(Trigger why) {
    switch (why) {
        case Trigger::start:
            return "start";
        case Trigger::signal:
            return "SIGHUP";
        case Trigger::client:
            return "nftpolicy reload";
        case Trigger::files:
            return "policy files changed";
        case Trigger::state:
            return "migration state changed";
        case Trigger::drift:
            return "drift";
        case Trigger::confirm:
            return "confirmation";
    }
    return "?";
}

namespace {

constexpr std::uint64_t kBusyRetryUsec = 1000000;
// How long the state files a converge left wait for more converges to
// supersede them (Manager::defer_writes): a quiet second, at most ten.
constexpr std::uint64_t kStateWriteQuietUsec = 1000000;
constexpr std::uint64_t kStateWriteMaxUsec = 10000000;
constexpr std::uint64_t kTimerAccuracyUsec = 1;
constexpr std::size_t kStatusErrorMax = 300;

// Which of two scheduled triggers a merged converge runs as.
int strength(Trigger why) {
    switch (why) {
        case Trigger::drift:
        case Trigger::confirm:
            return 0;
        case Trigger::state:
            return 1;
        case Trigger::files:
            return 2;
        case Trigger::start:
            return 3;
        case Trigger::signal:
            return 4;
        case Trigger::client:
            return 5;
    }
    return 0;
}

bool immediate(Trigger why) {
    return why == Trigger::signal || why == Trigger::client;
}

std::vector<std::string> phase_list(const pipeline::Compiled* c) {
    std::vector<std::string> out;
    if (!c) return out;
    for (const auto& [m, p] : c->phases) out.push_back(m + "=" + resolve::phase_name(p));
    return out;
}

std::string joined(const std::vector<std::string>& items, const char* none) {
    if (items.empty()) return none;
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
    return out;
}

std::string what_is_held(const Holding& h) {
    switch (h.held) {
        case Held::nothing:
            return "no ruleset loaded";
        case Held::policy:
            return "policy";
        case Held::last_good:
            return "LAST GOOD ruleset (the policy does not load)";
        case Held::kept:
            return "KEPT the table found in the kernel (the policy does not load, no last good)";
        case Held::builtin:
            return "BUILT-IN safe ruleset: " + h.note + ", all else dropped";
        case Held::rolled_back:
            return "ROLLED BACK to the last confirmed ruleset (an apply --confirm was not confirmed)";
    }
    return "?";
}

// "; CONFIRM by 2026-12-02 14:31:07 UTC (23 s left), else back to HASH".
std::string confirm_status(const std::string& state_dir) {
    auto r = read_confirm(confirm_path(state_dir));
    if (!r || !*r || (*r)->state != ConfirmState::pending) return "";
    const std::int64_t left = std::max<std::int64_t>((*r)->deadline - wall_now(), 0);
    return fmt::format("; CONFIRM by {} ({} s left), else back to {}", format_time((*r)->deadline), left,
                       (*r)->restore);
}

std::string status_line(const Holding& h, const std::string& last_error) {
    const pipeline::Compiled* c = h.compiled.get();
    std::string s = fmt::format("gen {} {}", h.generation, what_is_held(h));
    if (c) {
        std::vector<std::string> gates(c->flipped_gates.begin(), c->flipped_gates.end());
        s += fmt::format("; phase {}; gates {}; {} flows", joined(phase_list(c), "none"),
                         joined(gates, "none"), c->flows);
    }
    if (!last_error.empty()) {
        s += "; error: " + last_error.substr(0, kStatusErrorMax);
    }
    std::replace(s.begin(), s.end(), '\n', ' ');  // one STATUS= line
    return s;
}

ManagerOptions with_lock(ManagerOptions options) {
    options.engine.state.lock = options.runtime_dir + "/lock";
    return options;
}

std::int64_t unix_now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

LogFields fields_of(const Holding& h) {
    LogFields f;
    f.phases = phase_list(h.compiled.get());
    f.generation = h.generation;
    f.flows = h.compiled ? h.compiled->flows : 0;
    f.hash = h.hash;
    return f;
}

std::uint64_t monotonic_usec() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::uint64_t(ts.tv_sec) * 1000000 + std::uint64_t(ts.tv_nsec) / 1000;
}

std::string changes_summary(const Outcome& out) {
    const std::string took = out.took_usec ? fmt::format(" ({:.1f} ms)", double(out.took_usec) / 1000) : "";
    if (!out.committed) return "the kernel already held it" + took;
    return fmt::format("{} change{} committed in one transaction{}", out.changes.size(),
                       out.changes.size() == 1 ? "" : "s", took);
}

// "; drift: 2 repaired" when any drift was seen.
std::string drift_status(const DriftCounts& c) {
    if (c.foreign == 0 && c.lost == 0) return "";
    return fmt::format("; drift: {} foreign change{}, {} repaired, {} reported, {} event loss{}",
                       c.foreign, c.foreign == 1 ? "" : "s", c.repairs, c.reported, c.lost,
                       c.lost == 1 ? "" : "es");
}

}  // namespace

struct Manager::Client {
    int fd = -1;
    SourcePtr source;
    std::string request;
    bool waiting = false;  // for the outcome of the next converge
    bool done = false;
    ~Client() {
        source.reset();
        if (fd >= 0) ::close(fd);
    }
};

Manager::Manager(ManagerOptions options)
    : options_(with_lock(std::move(options))), log_(Log::detect()), metrics_(options_.metrics, options_.engine) {}

Manager::~Manager() {
    clients_.clear();
    sources_.clear();
    timer_.reset();
    if (control_fd_ >= 0) ::close(control_fd_);
}

// ---- setup ---------------------------------------------------------------

Result<void> Manager::add_signals() {
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
    if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0)
        return fail(ErrorKind::io, "cannot block signals");
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
        sd_event_source* s = nullptr;
        if (int r = sd_event_add_signal(event_.get(), &s, sig, on_signal, this); r < 0) {
            return fail(ErrorKind::io, fmt::format("signal {}: {}", sig, std::strerror(-r)));
        }
        sources_.emplace_back(s);
    }
    return {};
}

Result<void> Manager::add_control() {
    auto fd = listen_control(options_.runtime_dir);
    if (!fd) return tl::unexpected(fd.error());
    control_fd_ = *fd;
    sd_event_source* s = nullptr;
    if (int r = sd_event_add_io(event_.get(), &s, control_fd_, EPOLLIN, on_accept, this); r < 0) {
        return fail(ErrorKind::io, fmt::format("control socket: {}", std::strerror(-r)));
    }
    sources_.emplace_back(s);
    return {};
}

Result<void> Manager::add_watcher() {
    auto w = Watcher::create();
    if (!w) return tl::unexpected(w.error());
    watcher_.emplace(std::move(*w));
    sd_event_source* s = nullptr;
    if (int r = sd_event_add_io(event_.get(), &s, watcher_->fd(), EPOLLIN, on_inotify, this);
        r < 0) {
        return fail(ErrorKind::io, fmt::format("inotify: {}", std::strerror(-r)));
    }
    sources_.emplace_back(s);
    return {};
}

// Opened before the first converge: no transaction after its read goes unseen.
Result<void> Manager::add_monitor() {
    auto w = DriftWatch::open(options_.event_buffer);
    if (!w) return tl::unexpected(w.error());
    drift_ = std::move(*w);
    engine_->mute_during_commit(&drift_->monitor());
    sd_event_source* s = nullptr;
    if (int r = sd_event_add_io(event_.get(), &s, drift_->fd(), EPOLLIN, on_monitor, this); r < 0) {
        return fail(ErrorKind::io, fmt::format("nf_tables events: {}", std::strerror(-r)));
    }
    sources_.emplace_back(s);
    return {};
}

Result<void> Manager::setup() {
    sd_event* e = nullptr;
    if (int r = sd_event_new(&e); r < 0)
        return fail(ErrorKind::io, std::string("sd-event: ") + std::strerror(-r));
    event_.reset(e);
    auto engine = Engine::open(options_.engine);
    if (!engine) return tl::unexpected(engine.error());
    engine_ = std::move(*engine);
    for (auto step : {&Manager::add_signals, &Manager::add_watcher, &Manager::add_control,
                      &Manager::add_metrics_timer, &Manager::add_monitor, &Manager::add_confirm_timer,
                      &Manager::add_state_timer}) {
        if (auto r = (this->*step)(); !r) return r;
    }
    sd_event_set_watchdog(e, 1);  // WATCHDOG=1 at half of WATCHDOG_USEC, when systemd asks
    return add_idle_timer(on_timer, "timer", timer_);
}

// A one-shot timer, off until armed. Accuracy 1 us: with 0, sd-event lets a
// timer slip by up to 250 ms (to coalesce wake-ups), which every reload and
// repair would wait for.
Result<void> Manager::add_idle_timer(sd_event_time_handler_t handler, const char* what, SourcePtr& out) {
    sd_event_source* t = nullptr;
    if (int r = sd_event_add_time(event_.get(), &t, CLOCK_MONOTONIC, 0, kTimerAccuracyUsec, handler, this); r < 0) {
        return fail(ErrorKind::io, std::string(what) + ": " + std::strerror(-r));
    }
    out.reset(t);
    sd_event_source_set_enabled(t, SD_EVENT_OFF);
    return {};
}

// ---- converge and its rendering ----------------------------------------------

void Manager::rewatch() {
    if (!watcher_) return;
    for (const auto& w : watcher_->watch(engine_->watched_files())) log_.warning(w);
}

void Manager::refresh_status() {
    status_ = status_line(engine_->holding(), last_error_) + confirm_status(options_.engine.state.state_dir);
    if (drift_) status_ += drift_status(drift_->counts());
}

void Manager::render(Trigger why, const Outcome& out) {
    const Holding& h = engine_->holding();
    const LogFields fields = fields_of(h);
    if (out.ok) {
        last_error_.clear();
        if (out.committed || out.recompiled || why != Trigger::drift) {
            log_.info(fmt::format("{}: ruleset gen {} ({} flows, hash {}): {}", trigger_name(why),
                                  h.generation, fields.flows, h.hash, changes_summary(out)),
                      &fields);
        }
        if (!out.diagnostics.empty()) log_.warning(out.diagnostics);
    } else if (out.failure) {
        last_error_ = out.error;
        log_.error(
            fmt::format("{}: failed: {}; the kernel keeps: {} (gen {})\n{}", trigger_name(why),
                        out.error, what_is_held(h), h.generation, out.diagnostics),
            &fields);
        if (out.committed)
            log_.info(fmt::format("{}: restored the held ruleset: {}", trigger_name(why),
                                  changes_summary(out)),
                      &fields);
    }
    for (const auto& n : out.notes) log_.info(n);
    for (const auto& w : out.warnings) log_.warning(w);
    refresh_status();
    note_facts(out);
}

// ---- the metrics textfile ----------------------------------------------------

// The policy's error and warning counts change only with a compile; a
// converge that reused the held ruleset keeps them.
void Manager::note_facts(const Outcome& out) {
    facts_.last_ok = out.ok;
    if (out.recompiled || out.failure) {
        facts_.policy_errors = out.policy_errors;
        facts_.policy_warnings = out.policy_warnings;
    }
}

// Failures are logged once each (a missing directory would repeat every
// period): the textfile is an observer, never a reason to stop.
void Manager::write_metrics() {
    if (!metrics_.enabled()) return;
    if (!metrics_.ready()) {
        const std::string note = "no directory " + metrics_.options().dir;
        if (note != metrics_error_)
            log_.info("metrics textfile: " + note + " (node_exporter's textfile collector); none written");
        metrics_error_ = note;
        return;
    }
    facts_.drift_repairs = drift_ ? drift_->counts().repairs : 0;  // the drift watch counts them
    auto w = metrics_.write(engine_->holding(), facts_, unix_now());
    std::string error = w ? "" : w.error().message;
    if (!error.empty() && error != metrics_error_) log_.warning("metrics textfile: " + error);
    metrics_error_ = std::move(error);
}

Result<void> Manager::add_metrics_timer() {
    if (!metrics_.enabled()) return {};
    sd_event_source* t = nullptr;
    if (int r = sd_event_add_time_relative(event_.get(), &t, CLOCK_MONOTONIC, options_.metrics.interval_usec, 0,
                                           on_metrics_timer, this);
        r < 0) {
        return fail(ErrorKind::io, std::string("metrics timer: ") + std::strerror(-r));
    }
    metrics_timer_.reset(t);
    return {};
}

int Manager::on_metrics_timer(sd_event_source* s, std::uint64_t usec, void* self) {
    auto* m = static_cast<Manager*>(self);
    m->write_metrics();
    sd_event_source_set_time(s, usec + m->options_.metrics.interval_usec);
    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
    return 0;
}

Outcome Manager::converge(Trigger why) {
    const bool reload = why != Trigger::drift;
    if (reload) {
        sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading (%s)",
                   static_cast<unsigned long long>(monotonic_usec()), trigger_name(why));
    }
    // File changes recompile too: the watched list comes from the ruleset's
    // spans and may miss an include that shaped nothing in it.
    // The CLI guarded what it committed (and may have been forced): adopt it.
    const bool force = why == Trigger::state || std::exchange(force_next_, false);
    auto ssh = std::exchange(ssh_next_, {});
    take_file_events(false);  // a write not yet dispatched: its list is read again
    const std::uint64_t t0 = monotonic_usec();
    Outcome out = engine_->converge(why == Trigger::signal || why == Trigger::client ||
                                    why == Trigger::files, force, ssh);
    out.took_usec = monotonic_usec() - t0;
    if (out.failure && out.failure->kind == pipeline::FailureKind::busy && !immediate(why)) {
        schedule(why, kBusyRetryUsec);  // the CLI holds the lock: try again
        ssh_next_ = std::move(ssh);
    }
    rewatch();
    drift_synced(out);
    render(why, out);
    if (reload) {
        sd_notifyf(0, "READY=1\nSTATUS=%s", status_.c_str());
    } else {
        sd_notifyf(0, "STATUS=%s", status_.c_str());
    }
    write_metrics();  // before the answer: a reload's caller reads metrics of its outcome
    answer_clients(out);
    defer_writes(out.recompiled);
    return out;
}

// After the outcome is told: the large state files, then, after a compile,
// the memory the previous ruleset held goes back to the system (an idle
// daemon would otherwise keep the peak of its last converge).
void Manager::finish_writes(bool recompiled) {
    for (const auto& w : engine_->finish()) log_.warning(w);
    if (recompiled) ::malloc_trim(0);
}

// finish_writes, once no converge came for kStateWriteQuietUsec, and at
// most kStateWriteMaxUsec after the first converge that left them: the
// converges of a burst (a script reloading after each of 50 one-address
// edits, or edits a few hundred ms apart) supersede each other's files,
// which are written once, and none waits for the writes of the one before
// (70-100 ms at 1M). The apply lock stays taken until then (engine.h).
void Manager::defer_writes(bool recompiled) {
    trim_pending_ = trim_pending_ || recompiled;
    if (!engine_->writes_pending() && !trim_pending_) return;
    const std::uint64_t now = monotonic_usec();
    if (writes_since_ == 0) writes_since_ = now;
    sd_event_source_set_time(state_timer_.get(),
                             std::min(now + kStateWriteQuietUsec, writes_since_ + kStateWriteMaxUsec));
    sd_event_source_set_enabled(state_timer_.get(), SD_EVENT_ONESHOT);
}

int Manager::on_state_timer(sd_event_source*, std::uint64_t, void* self) {
    auto* m = static_cast<Manager*>(self);
    m->writes_since_ = 0;
    m->finish_writes(std::exchange(m->trim_pending_, false));
    return 0;
}

void Manager::schedule(Trigger why, std::uint64_t delay_usec) {
    if (!pending_ || strength(why) > strength(*pending_)) pending_ = why;
    std::uint64_t now = 0;
    sd_event_now(event_.get(), CLOCK_MONOTONIC, &now);
    const std::uint64_t when = immediate(*pending_) ? now : now + delay_usec;
    sd_event_source_set_time(timer_.get(), when);
    sd_event_source_set_enabled(timer_.get(), SD_EVENT_ONESHOT);
}

// ---- control socket clients ----------------------------------------------------

void Manager::answer(Client& c, const Outcome* out) {
    Reply r;
    r.generation = engine_->holding().generation;
    r.status = status_;
    if (out) {
        if (out->failure) r.failure = out->failure->kind;
        r.diagnostics = out->diagnostics;
        if (out->failure && out->diagnostics.empty())
            r.diagnostics = "nftpolicyd: error: " + out->error + "\n";
    }
    const std::string text = format_reply(r);
    ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{2, 0};
    ::setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    for (std::size_t off = 0; off < text.size();) {
        const ssize_t n = ::write(c.fd, text.data() + off, text.size() - off);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
    }
    c.done = true;
}

void Manager::answer_clients(const Outcome& out) {
    for (auto& c : clients_) {
        if (c->waiting) answer(*c, &out);
    }
    std::erase_if(clients_, [](const auto& c) { return c->done; });
}

// `reload [force] [ssh CLIENT CPORT SERVER SPORT]` (the client's
// $SSH_CONNECTION, kept by the lockout guard of the reload it asks for).
void Manager::take_reload_options(const std::string& cmd) {
    std::string_view rest = std::string_view(cmd).substr(std::string_view("reload").size());
    if (rest.starts_with(" force")) {
        force_next_ = true;
        rest.remove_prefix(std::string_view(" force").size());
    }
    if (!rest.starts_with(" ssh ")) return;
    if (auto ssh = ir::parse_ssh_connection(std::string(rest.substr(5)))) ssh_next_.push_back(*ssh);
}

void Manager::client_request(Client& c) {
    const std::string cmd = c.request.substr(0, c.request.find('\n'));
    if (cmd == "reload" || cmd.starts_with("reload ")) {
        take_reload_options(cmd);
        c.waiting = true;
        sd_event_source_set_enabled(c.source.get(), SD_EVENT_OFF);
        schedule(Trigger::client, 0);
        return;
    }
    if (cmd == "status") return answer(c, nullptr);
    if (cmd.starts_with("confirm") || cmd.starts_with("rollback")) return confirm_command(c, cmd);
    Outcome bad;
    bad.failure = pipeline::Failure{pipeline::FailureKind::system, "unknown command '" + cmd + "'"};
    bad.error = bad.failure->message;
    answer(c, &bad);
}

int Manager::on_client(sd_event_source*, int fd, std::uint32_t, void* self) {
    auto* m = static_cast<Manager*>(self);
    for (auto& c : m->clients_) {
        if (c->fd != fd) continue;
        char buf[256];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) c->request.append(buf, static_cast<std::size_t>(n));
        const bool complete =
            n == 0 || c->request.find('\n') != std::string::npos || c->request.size() > 1024;
        if (n < 0 && errno != EAGAIN && errno != EINTR) c->done = true;
        if (!c->done && complete) m->client_request(*c);
        break;
    }
    std::erase_if(m->clients_, [](const auto& c) { return c->done; });
    return 0;
}

int Manager::on_accept(sd_event_source*, int fd, std::uint32_t, void* self) {
    auto* m = static_cast<Manager*>(self);
    for (;;) {
        int cfd = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) return 0;
        auto c = std::make_unique<Client>();
        c->fd = cfd;
        auto uid = peer_uid(cfd);
        if (!uid || (*uid != 0 && *uid != ::geteuid())) continue;  // ~Client closes it
        sd_event_source* s = nullptr;
        if (sd_event_add_io(m->event_.get(), &s, cfd, EPOLLIN, on_client, m) < 0) continue;
        c->source.reset(s);
        m->clients_.push_back(std::move(c));
    }
}

// ---- the state files a converge left -----------------------------------------------

Result<void> Manager::add_state_timer() { return add_idle_timer(on_state_timer, "state timer", state_timer_); }

// ---- the deadline of `apply --confirm` ---------------------------------------------

Result<void> Manager::add_confirm_timer() {
    return add_idle_timer(on_confirm_timer, "confirm timer", confirm_timer_);
}

// The timer fires at the earlier of `deadline` (a `confirm-arm` that comes
// before its record) and the pending record's deadline; off when neither.
void Manager::arm_confirm(std::optional<std::int64_t> deadline) {
    auto r = read_confirm(confirm_path(options_.engine.state.state_dir));
    if (!r) log_.error("confirmation record: " + r.error().message);
    if (r && *r && (*r)->state == ConfirmState::pending) {
        deadline = deadline ? std::min(*deadline, (*r)->deadline) : (*r)->deadline;
    }
    if (!deadline) {
        sd_event_source_set_enabled(confirm_timer_.get(), SD_EVENT_OFF);
        return;
    }
    // The deadline is wall-clock time (it outlives us); the timer runs on the
    // monotonic clock (sd-event fired CLOCK_REALTIME timers early here), a
    // millisecond past the deadline's second.
    timespec wall{};
    clock_gettime(CLOCK_REALTIME, &wall);
    const std::int64_t wall_usec = std::int64_t(wall.tv_sec) * 1000000 + wall.tv_nsec / 1000;
    const std::int64_t delay = std::max<std::int64_t>(*deadline * 1000000 - wall_usec + 1000, 0);
    sd_event_source_set_time(confirm_timer_.get(), monotonic_usec() + static_cast<std::uint64_t>(delay));
    sd_event_source_set_enabled(confirm_timer_.get(), SD_EVENT_ONESHOT);
}

// Journal, STATUS= and metrics after a confirm or rollback.
void Manager::finish(const Outcome& out) {
    rewatch();
    drift_synced(out);
    render(Trigger::confirm, out);
    sd_notifyf(0, "STATUS=%s", status_.c_str());
    write_metrics();
}

int Manager::on_confirm_timer(sd_event_source*, std::uint64_t, void* self) {
    auto* m = static_cast<Manager*>(self);
    std::string message;
    Outcome out = m->engine_->rollback("deadline passed", true, wall_now(), message);
    m->log_.info("confirmation deadline: " + (out.ok ? message : out.error));
    m->finish(out);
    if (out.failure && out.failure->kind == pipeline::FailureKind::busy) {
        m->arm_confirm(wall_now() + 1);  // the CLI holds the lock: try again
        return 0;
    }
    m->arm_confirm(std::nullopt);  // replaced by a later deadline: wait for that one
    return 0;
}

void Manager::confirm_command(Client& c, const std::string& cmd) {
    std::string message;
    Outcome out;
    const std::int64_t now = wall_now();
    if (cmd.starts_with("confirm-arm")) {
        const std::string arg = cmd.size() > 12 ? cmd.substr(12) : "";
        arm_confirm(arg.empty() ? std::nullopt : std::optional<std::int64_t>(std::strtoll(arg.c_str(), nullptr, 10)));
        refresh_status();  // after the commit the CLI arms again: STATUS= shows the record
        sd_notifyf(0, "STATUS=%s", status_.c_str());
        out.ok = true;
        message = "deadline armed";
    } else if (cmd == "confirm") {
        out = engine_->confirm(now, message);
    } else if (cmd == "rollback" || cmd == "rollback-if-pending") {
        const bool if_pending = cmd == "rollback-if-pending";
        out = engine_->rollback(if_pending ? "deadline passed" : "nftpolicy rollback", if_pending, now, message);
    } else {
        out.failure = pipeline::Failure{pipeline::FailureKind::system, "unknown command '" + cmd + "'"};
        out.error = out.failure->message;
    }
    if (!cmd.starts_with("confirm-arm")) {
        log_.info(fmt::format("{}: {}", cmd, out.failure ? out.error : message));
        finish(out);
        arm_confirm(std::nullopt);
    }
    out.diagnostics = out.failure ? "nftpolicy: error: " + out.error + "\n" : message + "\n";
    answer(c, &out);
}

// ---- event callbacks -----------------------------------------------------------

int Manager::on_signal(sd_event_source*, const signalfd_siginfo* si, void* self) {
    auto* m = static_cast<Manager*>(self);
    if (si->ssi_signo == SIGHUP) {
        m->schedule(Trigger::signal, 0);
        return 0;
    }
    sd_notify(0, "STOPPING=1");
    m->log_.info(
        fmt::format("stopping on signal {}; the ruleset stays in the kernel", si->ssi_signo));
    return sd_event_exit(m->event_.get(), 0);
}

int Manager::on_timer(sd_event_source*, std::uint64_t, void* self) {
    auto* m = static_cast<Manager*>(self);
    if (!m->pending_) return 0;
    const Trigger why = *m->pending_;
    m->pending_.reset();
    m->converge(why);
    return 0;
}

int Manager::on_inotify(sd_event_source*, int, std::uint32_t, void* self) {
    static_cast<Manager*>(self)->take_file_events(true);
    return 0;
}

// What the watched files' events say, taken now: the engine forgets the
// lists read before a write and, with `read_ahead`, reads those closed after
// one (not when a converge is about to read them anyway); a converge follows
// the changes, debounced. Before each converge too, so that it reads again
// a list written since the last events were dispatched.
void Manager::take_file_events(bool read_ahead) {
    // Without a watch on each file's directory no list read before is vouched for.
    if (!watcher_ || !watcher_->complete()) engine_->files_changed({"*"}, {});
    if (!watcher_) return;
    auto events = watcher_->drain();
    engine_->files_changed(events.touched, read_ahead ? events.written : std::set<std::string>{});
    if (events.changed.empty()) return;
    const std::string state = state::state_path(options_.engine.state.state_dir);
    const bool only_state = events.changed.size() == 1 && *events.changed.begin() == state;
    schedule(only_state ? Trigger::state : Trigger::files, options_.debounce_usec);
}

// ---- drift -----------------------------------------------------------------------

// After every converge: the tracker follows what the engine read or
// committed; a drift converge that changed the kernel was a repair.
void Manager::drift_synced(const Outcome& out) {
    if (!drift_) return;
    drift_->synced(*engine_);
    const bool retry = out.failure && out.failure->kind == pipeline::FailureKind::busy;
    if (drift_pending_ && !retry) {
        drift_pending_ = false;
        if (out.committed) {
            ++drift_->counts().repairs;
            write_drift_counts();
        }
    }
    if (drift_->loss_pending()) read_drift();  // a gap during our commit: no event will tell
}

void Manager::write_drift_counts() {
    const std::string path = options_.runtime_dir + "/drift";
    if (auto w = write_counts(path, drift_->counts()); !w) {
        log_.warning("drift counts not written: " + w.error().message);
    }
}

// Logs what the events say; repairs (or adopts a CLI's commit) from the loop.
void Manager::on_drift(const drift::Assessment& a) {
    LogFields fields = fields_of(engine_->holding());
    for (const DriftMessage& m : drift_messages(a, drift_->table(), drift_->mode())) {
        fields.extra = m.fields;
        log_.write(m.priority, m.text, &fields);
    }
    if (!a.foreign.empty() || a.lost) {
        write_drift_counts();
        refresh_status();
        sd_notifyf(0, "STATUS=%s", status_.c_str());
    }
    if (cli_committed(a)) {
        schedule(Trigger::state, 0);  // adopt: re-read the state directory, then converge
    } else if (a.action == drift::Action::repair || a.action == drift::Action::resync) {
        drift_pending_ = true;
        schedule(Trigger::drift, 0);
    }
}

void Manager::read_drift() {
    auto a = drift_->read(*engine_);
    if (a) return on_drift(*a);
    // The events cannot be trusted: read the table and converge.
    log_.error("drift: reading nf_tables events failed: " + a.error().message + "; resyncing");
    drift_pending_ = true;
    schedule(Trigger::drift, 0);
}

int Manager::on_monitor(sd_event_source*, int, std::uint32_t, void* self) {
    static_cast<Manager*>(self)->read_drift();
    return 0;
}

// ---- life ----------------------------------------------------------------------

Result<void> Manager::start() {
    Outcome out = engine_->start();
    rewatch();
    drift_synced(out);
    render(Trigger::start, out);
    if (engine_->holding().held == Held::nothing) {
        return fail(ErrorKind::kernel, "no ruleset could be loaded: " + out.error);
    }
    sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%d", status_.c_str(), static_cast<int>(::getpid()));
    write_metrics();
    finish_writes(true);
    arm_confirm(std::nullopt);  // a deadline from before a restart: at once if it has passed
    return {};
}

int Manager::loop() {
    int r = sd_event_loop(event_.get());
    return r < 0 ? 1 : r;
}

int run(const ManagerOptions& options) {
    Manager m(options);
    if (auto s = m.setup(); !s) {
        Log::detect().error("cannot start: " + s.error().message);
        return 1;
    }
    if (auto s = m.start(); !s) {
        Log::detect().error(s.error().message);
        return 1;
    }
    return m.loop();
}

}  // namespace nftpolicy::service
