// A temporary directory for a test, removed with everything in it when the
// test ends.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <iterator>
#include <string>

namespace nftpolicy::testing {

struct ScratchDir {
    std::filesystem::path path;
    ScratchDir() {
        char tmpl[] = "/tmp/nftpolicy-test-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
    // Files and directories below it, at any depth.
    std::size_t entries() const {
        return static_cast<std::size_t>(std::distance(std::filesystem::recursive_directory_iterator(path), {}));
    }
};

}  // namespace nftpolicy::testing
