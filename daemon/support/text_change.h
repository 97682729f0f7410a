// How a text changed between two reads of a file, found by comparing the new
// text with the old one as it arrives, block by block: nftpolicyd follows a
// 13 MB address list this way without keeping a second copy of it, and a
// one-line edit costs one pass over the file and a copy of the changed part.
//
// Example:
//   text_change("10.0.0.1\n10.0.0.3\n", "10.0.0.1\n10.0.0.44\n")
//       == TextChange{16, 18, "3"}: both texts keep "10.0.0.1\n10.0.0." and
//       "\n"; the old "3" became the new "44" (new bytes [16, 18)).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nftpolicy {

// The old and the new text agree on their first `begin` bytes and on their
// tails after the changed part: old [begin, begin + removed.size()) became
// new [begin, new_end). Head and tail never overlap, and the changed part is
// the shortest such.
struct TextChange {
    std::size_t begin = 0;
    std::size_t new_end = 0;
    std::string removed;  // the old bytes of the changed part
    bool operator==(const TextChange&) const = default;
};

// The change from `before` to `after`, comparing two whole texts.
TextChange text_change(std::string_view before, std::string_view after);

// Finds the change from `old` to a new text of `new_size` bytes handed in
// pieces, in order (feed), and then applies it to `old` (finish). Costs one
// compare per byte; keeps only the new bytes of the changed part.
class ChangeFinder {
public:
    ChangeFinder(std::string_view old, std::size_t new_size);
    // The next bytes of the new text; false when they go past `new_size`.
    bool feed(std::string_view bytes);
    // Whether exactly `new_size` bytes were fed.
    bool complete() const { return fed_ == new_size_; }
    // Makes `text` (the old text given to the constructor) the new one and
    // returns the change. Only when complete().
    TextChange finish(std::string& text) &&;

private:
    std::size_t old_at(std::size_t pos) const { return pos + old_.size() - new_size_; }  // tail alignment
    void compare_tail(std::string_view bytes, std::size_t from);

    std::string_view old_;
    std::size_t new_size_;
    std::size_t fed_ = 0;
    bool in_head_ = true;
    std::size_t begin_ = 0;       // first new byte that differs (once out of the head)
    std::size_t must_differ_ = 0; // new bytes below this cannot be in the common tail
    std::size_t end_ = 0;         // the changed part is new [begin_, end_) so far
    std::string middle_;          // its bytes
};

}  // namespace nftpolicy
