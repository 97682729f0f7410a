// KnownElements on disk; see element_cache.h. Format: a text header line
// "nftpolicy-elements 3 <table> <scope> <genid> <sets>", then per set a line
// "<name> <4|6> <count>" followed by count intervals, each its first and last
// address as big-endian numbers of the family's width (8 bytes an IPv4
// interval, 32 an IPv6 one). Written and read in fixed-size chunks, so that
// neither side holds a second copy of a million-interval set.
#include "kernel/element_cache.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace nftpolicy::kernel {

namespace {

constexpr std::size_t kChunk = 64 * 1024;

std::size_t width(net::Family family) { return family == net::Family::ipv4 ? 4 : 16; }

void put_intervals(std::ofstream& out, const emit::IntervalContent& content) {
    const std::size_t w = width(content.family);
    std::vector<std::uint8_t> buf(kChunk);
    std::size_t used = 0;
    for (const net::Interval& iv : content.intervals) {
        if (used + 2 * w > buf.size()) {
            out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(used));
            used = 0;
        }
        emit::key_to_bytes(iv.lo, w, &buf[used]);
        emit::key_to_bytes(iv.hi, w, &buf[used + w]);
        used += 2 * w;
    }
    out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(used));
}

bool get_intervals(std::ifstream& in, std::size_t count, emit::IntervalContent& content) {
    const std::size_t w = width(content.family);
    const std::size_t per_chunk = kChunk / (2 * w);
    std::vector<char> buf(per_chunk * 2 * w);
    net::IntervalList::Builder ivs;  // straight into chunks: no flat copy beside them
    for (std::size_t done = 0; done < count;) {
        const std::size_t n = std::min(per_chunk, count - done);
        if (!in.read(buf.data(), static_cast<std::streamsize>(n * 2 * w))) return false;
        for (std::size_t i = 0; i < n; ++i) {
            ivs.push_back(net::Interval{emit::key_from_bytes(&buf[i * 2 * w], w),
                                        emit::key_from_bytes(&buf[i * 2 * w + w], w)});
        }
        done += n;
    }
    content.intervals = std::move(ivs).finish();
    return true;
}

}  // namespace

Result<void> write_known(const std::string& path, const KnownElements& known) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << "nftpolicy-elements 3 " << known.table << ' ' << known.scope << ' ' << known.genid << ' '
            << known.sets.size() << '\n';
        for (const auto& [name, content] : known.sets) {
            out << name << ' ' << (content.family == net::Family::ipv4 ? 4 : 6) << ' ' << content.intervals.size()
                << '\n';
            put_intervals(out, content);
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
        magic != "nftpolicy-elements" || version != 3) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < sets; ++i) {
        std::string name;
        int family = 0;
        std::size_t count = 0;
        if (!(in >> name >> family >> count) || in.get() != '\n' || (family != 4 && family != 6)) return std::nullopt;
        emit::IntervalContent& content = known.sets[name];
        content.family = family == 4 ? net::Family::ipv4 : net::Family::ipv6;
        if (!get_intervals(in, count, content)) return std::nullopt;
    }
    return known;
}

}  // namespace nftpolicy::kernel
