// The apply record; see apply_record.h.
#include "kernel/apply_record.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "emit/nft_text.h"

namespace nftpolicy::kernel {

namespace {

std::string serialize(const ApplyRecord& r) {
    std::string out;
    out += "table " + r.table + "\n";
    out += "policy " + r.policy + "\n";
    out += "host " + r.host + "\n";
    for (const auto& p : r.phases) out += "phase " + p + "\n";
    for (const auto& g : r.gates) out += "gate " + g + "\n";
    out += "ruleset_hash " + r.ruleset_hash + "\n";
    out += "genid " + std::to_string(r.genid) + "\n";
    out += "applied_at " + std::to_string(r.applied_at) + "\n";
    return out;
}

void parse_line(const std::string& key, const std::string& value, ApplyRecord& r) {
    if (key == "table") r.table = value;
    if (key == "policy") r.policy = value;
    if (key == "host") r.host = value;
    if (key == "phase") r.phases.push_back(value);
    if (key == "gate") r.gates.push_back(value);
    if (key == "ruleset_hash") r.ruleset_hash = value;
    if (key == "genid") r.genid = static_cast<std::uint32_t>(std::stoul(value));
    if (key == "applied_at") r.applied_at = std::stoll(value);
}

}  // namespace

Result<void> write_record(const std::string& path, const ApplyRecord& record) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail(ErrorKind::io, "cannot write " + tmp + ": " + std::strerror(errno));
    const std::string text = serialize(record);
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        return fail(ErrorKind::io, "cannot write " + path + ": " + std::strerror(ok ? errno : err));
    }
    return {};
}

Result<std::optional<ApplyRecord>> read_record(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT) return std::optional<ApplyRecord>{};
        return fail(ErrorKind::io, "cannot read " + path + ": " + std::strerror(errno));
    }
    ApplyRecord r;
    std::string line;
    while (std::getline(in, line)) {
        const auto sp = line.find(' ');
        if (sp == std::string::npos) continue;
        try {
            parse_line(line.substr(0, sp), line.substr(sp + 1), r);
        } catch (const std::exception&) {
            return fail(ErrorKind::io, path + ": malformed line '" + line + "'");
        }
    }
    return std::optional<ApplyRecord>(std::move(r));
}

namespace {

constexpr std::uint64_t kFnvOffset = 1469598103934665603ULL;

std::uint64_t fnv1a(std::uint64_t h, const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

// Interval bounds as 16 little-endian bytes each, whatever the family.
std::uint64_t hash_intervals(std::uint64_t h, const net::IntervalList& list) {
    for (const auto& iv : list) {
        unsigned char bytes[32];
        for (int i = 0; i < 16; ++i) {
            bytes[i] = static_cast<unsigned char>(iv.lo >> (8 * i));
            bytes[16 + i] = static_cast<unsigned char>(iv.hi >> (8 * i));
        }
        h = fnv1a(h, bytes, sizeof bytes);
    }
    return h;
}

}  // namespace

std::string ruleset_hash(const std::string& text) {
    return fmt::format("{:016x}", fnv1a(kFnvOffset, text.data(), text.size()));
}

std::string ruleset_hash(const ir::Table& table) {
    ir::Table skeleton = table;  // copy-on-write lists: no element is copied
    for (auto& set : skeleton.sets) set.elements = {};
    std::string text = emit::nft_text(skeleton);
    std::uint64_t h = fnv1a(kFnvOffset, text.data(), text.size());
    for (const auto& set : table.sets) h = hash_intervals(h, set.elements);
    return fmt::format("{:016x}", h);
}

}  // namespace nftpolicy::kernel
