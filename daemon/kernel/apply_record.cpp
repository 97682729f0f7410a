// The apply record; see apply_record.h.
#include "kernel/apply_record.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <xxhash.h>

#include "emit/nft_text.h"
#include "support/atomic_file.h"

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
    for (const auto& n : r.notes) out += "note " + n + "\n";
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
    if (key == "note") r.notes.push_back(value);
}

}  // namespace

Result<void> write_record(const std::string& path, const ApplyRecord& record, Sync sync) {
    return write_file_atomic(path, serialize(record), sync);
}

namespace {

// `dir` if it exists, else its nearest existing ancestor: the directory in
// which write_record's create_directories would first write.
std::string nearest_existing(const std::string& dir) {
    std::string at = dir;
    struct stat st {};
    while (::stat(at.c_str(), &st) != 0 && errno == ENOENT) {
        std::string parent = std::filesystem::path(at).parent_path().string();
        if (parent.empty()) parent = ".";
        if (parent == at) break;
        at = std::move(parent);
    }
    return at;
}

}  // namespace

Result<void> check_state_dir(const std::string& dir) {
    const std::string at = nearest_existing(dir);
    const auto unusable = [&](ErrorKind kind, const std::string& why) {
        return fail(kind, fmt::format("state directory '{}' is not writable: {}{}; nothing was applied", dir, why,
                                      at == dir ? "" : fmt::format(" (at '{}')", at)));
    };
    struct stat st {};
    if (::stat(at.c_str(), &st) != 0) return unusable(ErrorKind::io, std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) return unusable(ErrorKind::io, "not a directory");
    if (::faccessat(AT_FDCWD, at.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
        const int err = errno;
        return unusable(err == EACCES ? ErrorKind::permission : ErrorKind::io, std::strerror(err));
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

// XXH3 over the bytes; a local fingerprint, compared only on this machine.
class Hasher {
public:
    Hasher() { XXH3_64bits_reset(state_.get()); }
    void add(const void* data, std::size_t size) { XXH3_64bits_update(state_.get(), data, size); }
    std::string hex() const { return fmt::format("{:016x}", XXH3_64bits_digest(state_.get())); }

private:
    struct Free {
        void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
    };
    std::unique_ptr<XXH3_state_t, Free> state_{XXH3_createState()};
};

}  // namespace

std::string ruleset_hash(const ir::Table& table) {
    ir::Table skeleton = table;  // copy-on-write lists: no element is copied
    for (auto& set : skeleton.sets) set.elements = {};
    const std::string text = emit::nft_text(skeleton);
    Hasher h;
    h.add(text.data(), text.size());
    for (const auto& set : table.sets) {
        // Each list's count and content hash (the sum of its intervals'
        // hashes, kept per chunk: a one-address edit of a million-address
        // list hashes one chunk, not the list). The hash is only ever
        // compared with one computed here.
        const std::uint64_t list[2] = {set.elements.size(), set.elements.hash()};
        h.add(list, sizeof list);
    }
    return h.hex();
}

}  // namespace nftpolicy::kernel
