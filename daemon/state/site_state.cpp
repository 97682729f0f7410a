// The migration state file; see site_state.h.
#include "state/site_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "resolve/phases.h"

namespace nftpolicy::state {

namespace {

constexpr const char* kMagic = "nftpolicy-state";

std::vector<std::string_view> fields_of(std::string_view line) {
    std::vector<std::string_view> out;
    while (!line.empty()) {
        const auto sp = line.find(' ');
        out.push_back(line.substr(0, sp));
        if (sp == std::string_view::npos) break;
        line.remove_prefix(sp + 1);
    }
    return out;
}

bool is_name(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    }
    return true;
}

bool is_gate(std::string_view s) {
    const auto dot = s.find('.');
    return dot != std::string_view::npos && is_name(s.substr(0, dot)) && is_name(s.substr(dot + 1));
}

std::optional<std::int64_t> parse_time(std::string_view s) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}

// Parses one entry line into `state`; an error text when it is malformed.
std::string parse_entry(const std::vector<std::string_view>& f, SiteState& state) {
    if (f[0] == "phase") {
        if (f.size() != 4) return "expected 'phase MIGRATION PHASE SECONDS'";
        auto phase = policy::phase_from_name(f[2]);
        auto since = parse_time(f[3]);
        if (!is_name(f[1]) || !phase || !since) return "expected 'phase MIGRATION legacy|coexist|final SECONDS'";
        if (!state.phases.emplace(f[1], PhaseEntry{*phase, *since}).second) return "a second phase for this migration";
        return {};
    }
    if (f[0] == "gate") {
        if (f.size() != 4) return "expected 'gate MIGRATION.GATE flipped|open SECONDS'";
        auto since = parse_time(f[3]);
        if (!is_gate(f[1]) || (f[2] != "flipped" && f[2] != "open") || !since) {
            return "expected 'gate MIGRATION.GATE flipped|open SECONDS'";
        }
        if (!state.gates.emplace(f[1], GateEntry{f[2] == "flipped", *since}).second) return "a second entry for this gate";
        return {};
    }
    return "unknown entry '" + std::string(f[0]) + "'; expected 'phase' or 'gate'";
}

Error corrupt(const std::string& path, std::size_t line, const std::string& what) {
    return Error{ErrorKind::io, fmt::format("{}:{}: corrupt state file: {} (docs/migrations.md, \"State\"; "
                                                 "fix or remove the line, then check with `nftpolicy migration status`)",
                                                 path, line, what)};
}

}  // namespace

std::string state_path(const std::string& state_dir) { return state_dir + "/migrations"; }

std::string serialize(const SiteState& state) {
    std::string out = "# nftpolicy migration state (docs/migrations.md); written by nftpolicy\n";
    out += fmt::format("{} {}\n", kMagic, kStateVersion);
    for (const auto& [m, e] : state.phases) out += fmt::format("phase {} {} {}\n", m, resolve::phase_name(e.phase), e.since);
    for (const auto& [g, e] : state.gates) out += fmt::format("gate {} {} {}\n", g, e.flipped ? "flipped" : "open", e.since);
    return out;
}

Result<SiteState> parse_state(std::string_view text, const std::string& path) {
    SiteState state;
    bool versioned = false;
    std::size_t number = 0;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        ++number;
        if (line.empty() || line[0] == '#') continue;
        auto f = fields_of(line);
        if (!versioned) {
            if (f.size() != 2 || f[0] != kMagic) return tl::unexpected(corrupt(path, number, "expected 'nftpolicy-state 1' first"));
            if (f[1] != std::to_string(kStateVersion)) {
                return tl::unexpected(corrupt(path, number, fmt::format("version {} is not supported (this nftpolicy "
                                                                        "reads version {})", f[1], kStateVersion)));
            }
            versioned = true;
            continue;
        }
        if (auto err = parse_entry(f, state); !err.empty()) return tl::unexpected(corrupt(path, number, err));
    }
    if (!versioned) return tl::unexpected(corrupt(path, number, "no 'nftpolicy-state 1' line (empty or truncated file)"));
    return state;
}

Result<SiteState> read_state(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return SiteState{};  // nothing chosen yet
    if (fd < 0) {
        return fail(errno == EACCES ? ErrorKind::permission : ErrorKind::io,
                    "cannot read state file " + path + ": " + std::strerror(errno));
    }
    std::string text;
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    const int err = errno;
    ::close(fd);
    if (n < 0) return fail(ErrorKind::io, "cannot read state file " + path + ": " + std::strerror(err));
    return parse_state(text, path);
}

Result<PendingFile> prepare_state(const std::string& path, const SiteState& state) {
    return PendingFile::prepare(path, serialize(state));
}

}  // namespace nftpolicy::state
