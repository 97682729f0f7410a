// KnownElements on disk; see element_cache.h. Format: a text header line
// "nftpolicy-elements 2 <table> <scope> <genid> <sets>", then per set a line
// "<name> <count>" followed by count records of 17 bytes (16 key bytes,
// big-endian, and an end flag).
#include "kernel/element_cache.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace nftpolicy::kernel {

namespace {

constexpr std::size_t kRecord = 17;

void put_elements(std::ofstream& out, const std::vector<emit::KeyElem>& elems) {
    std::vector<char> buf(kRecord * elems.size());
    for (std::size_t i = 0; i < elems.size(); ++i) {
        emit::key_to_bytes(elems[i].key, 16, reinterpret_cast<std::uint8_t*>(&buf[i * kRecord]));
        buf[i * kRecord + 16] = elems[i].end ? 1 : 0;
    }
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

bool get_elements(std::ifstream& in, std::size_t count, std::vector<emit::KeyElem>& elems) {
    std::vector<char> buf(kRecord * count);
    if (!in.read(buf.data(), static_cast<std::streamsize>(buf.size()))) return false;
    elems.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        elems[i].key = emit::key_from_bytes(&buf[i * kRecord], 16);
        elems[i].end = buf[i * kRecord + 16] != 0;
    }
    return true;
}

}  // namespace

Result<void> write_known(const std::string& path, const KnownElements& known) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << "nftpolicy-elements 2 " << known.table << ' ' << known.scope << ' ' << known.genid << ' '
            << known.sets.size() << '\n';
        for (const auto& [name, elems] : known.sets) {
            out << name << ' ' << elems.size() << '\n';
            put_elements(out, elems);
        }
        if (!out.flush()) return fail(ErrorKind::io, "cannot write " + tmp);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        return fail(ErrorKind::io, "cannot write " + path + ": " + std::strerror(errno));
    }
    return {};
}

std::optional<KnownElements> read_known(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string magic;
    int version = 0;
    std::size_t sets = 0;
    KnownElements known;
    if (!(in >> magic >> version >> known.table >> known.scope >> known.genid >> sets) ||
        magic != "nftpolicy-elements" || version != 2) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < sets; ++i) {
        std::string name;
        std::size_t count = 0;
        if (!(in >> name >> count) || in.get() != '\n') return std::nullopt;
        if (!get_elements(in, count, known.sets[name])) return std::nullopt;
    }
    return known;
}

}  // namespace nftpolicy::kernel
