// The pending-confirmation record; see confirm_record.h.
#include "service/confirm_record.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "support/atomic_file.h"
#include "support/file_read.h"

namespace nftpolicy::service {

namespace {

constexpr const char* kMagic = "nftpolicy-confirm 1";
constexpr FileKind kRecordFile{"a confirmation record", 64 * 1024};

struct Parser {
    const std::string& path;
    ConfirmRecord r;
    std::set<std::string> seen;

    Result<void> error(int line, const std::string& why) const {
        return fail(ErrorKind::invalid, fmt::format("{}:{}: {}", path, line, why));
    }
};

bool is_hash(const std::string& v) {
    return v.size() == 16 && v.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::optional<std::int64_t> unix_seconds(const std::string& v) {
    std::int64_t out = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || end != v.data() + v.size() || out < 0) return std::nullopt;
    return out;
}

Result<void> set_time(Parser& p, int line, const std::string& key, const std::string& v,
                      std::int64_t& out) {
    auto t = unix_seconds(v);
    if (!t) return p.error(line, fmt::format("{}: '{}' is not a time in unix seconds", key, v));
    out = *t;
    return {};
}

Result<void> set_hash(Parser& p, int line, const std::string& key, const std::string& v,
                      std::string& out) {
    if (!is_hash(v))
        return p.error(line, fmt::format("{}: '{}' is not a ruleset hash (16 hex digits)", key, v));
    out = v;
    return {};
}

Result<void> set_state(Parser& p, int line, const std::string& v) {
    if (v == "pending")
        p.r.state = ConfirmState::pending;
    else if (v == "rolled-back")
        p.r.state = ConfirmState::rolled_back;
    else
        return p.error(line, fmt::format("state: '{}': expected pending or rolled-back", v));
    return {};
}

Result<void> set_enforcer(Parser& p, int line, const std::string& v) {
    for (Enforcer e : {Enforcer::daemon, Enforcer::systemd, Enforcer::waiter}) {
        if (v == enforcer_name(e)) {
            p.r.enforcer = e;
            return {};
        }
    }
    return p.error(line, fmt::format("enforcer: '{}': expected nftpolicyd, systemd or waiter", v));
}

Result<void> field(Parser& p, int line, const std::string& key, const std::string& v) {
    ConfirmRecord& r = p.r;
    if (key == "state") return set_state(p, line, v);
    if (key == "armed") return set_time(p, line, key, v, r.armed);
    if (key == "deadline") return set_time(p, line, key, v, r.deadline);
    if (key == "rolled_back_at") return set_time(p, line, key, v, r.rolled_back_at);
    if (key == "applied") return set_hash(p, line, key, v, r.applied);
    if (key == "restore") return set_hash(p, line, key, v, r.restore);
    if (key == "enforcer") return set_enforcer(p, line, v);
    if (key == "table")
        r.table = v;
    else if (key == "policy")
        r.policy = v;
    else if (key == "enforcer_id")
        r.enforcer_id = v;
    else if (key == "reason")
        r.reason = v;
    else
        return p.error(line, fmt::format("unknown key '{}'", key));
    return {};
}

Result<void> line_of(Parser& p, int line, const std::string& text) {
    const auto sp = text.find(' ');
    const std::string key = text.substr(0, sp);
    const std::string value = sp == std::string::npos ? "" : text.substr(sp + 1);
    if (!p.seen.insert(key).second) return p.error(line, fmt::format("'{}' given twice", key));
    return field(p, line, key, value);
}

Result<void> complete(const Parser& p, int lines) {
    for (const char* key :
         {"state", "armed", "deadline", "applied", "restore", "table", "enforcer"}) {
        if (!p.seen.contains(key)) return p.error(lines, fmt::format("'{}' is missing", key));
    }
    if (p.r.deadline < p.r.armed)
        return p.error(lines, "the deadline lies before the time it was armed");
    return {};
}

}  // namespace

const char* enforcer_name(Enforcer e) {
    switch (e) {
        case Enforcer::daemon:
            return "nftpolicyd";
        case Enforcer::systemd:
            return "systemd";
        case Enforcer::waiter:
            return "waiter";
    }
    return "?";
}

std::string confirm_path(const std::string& state_dir) {
    return state_dir + "/confirm";
}
std::string unconfirmed_path(const std::string& state_dir) {
    return state_dir + "/unconfirmed";
}

std::string serialize_confirm(const ConfirmRecord& r) {
    std::string out = std::string(kMagic) + "\n";
    out += fmt::format("state {}\n", r.state == ConfirmState::pending ? "pending" : "rolled-back");
    out += fmt::format("armed {}\ndeadline {}\n", r.armed, r.deadline);
    out += fmt::format("applied {}\nrestore {}\n", r.applied, r.restore);
    out += fmt::format("table {}\npolicy {}\n", r.table, r.policy);
    out += fmt::format("enforcer {}\nenforcer_id {}\n", enforcer_name(r.enforcer), r.enforcer_id);
    if (r.state == ConfirmState::rolled_back) {
        out += fmt::format("rolled_back_at {}\nreason {}\n", r.rolled_back_at, r.reason);
    }
    return out;
}

Result<ConfirmRecord> parse_confirm(const std::string& text, const std::string& path) {
    Parser p{path, {}, {}};
    if (text.find('\0') != std::string::npos)
        return tl::unexpected(p.error(1, "contains a NUL byte").error());
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line != kMagic) {
        return tl::unexpected(
            p.error(1, fmt::format("not a confirmation record (expected '{}')", kMagic)).error());
    }
    int n = 1;
    while (std::getline(in, line)) {
        if (auto r = line_of(p, ++n, line); !r) return tl::unexpected(r.error());
    }
    if (auto r = complete(p, n); !r) return tl::unexpected(r.error());
    return p.r;
}

Result<void> write_confirm(const std::string& path, const ConfirmRecord& r) {
    return write_file_atomic(path, serialize_confirm(r));
}

Result<std::optional<ConfirmRecord>> read_confirm(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) return std::optional<ConfirmRecord>();
    auto text = read_regular_file(path, kRecordFile);
    if (!text)
        return fail(ErrorKind::io, fmt::format("cannot read {}: {}", path, text.error().message));
    auto r = parse_confirm(*text, path);
    if (!r) return tl::unexpected(r.error());
    return std::optional(std::move(*r));
}

}  // namespace nftpolicy::service
