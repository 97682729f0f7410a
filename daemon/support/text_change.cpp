// Finding how a text changed; see text_change.h.
#include "support/text_change.h"

#include <algorithm>

#include "support/common_ends.h"

namespace nftpolicy {

TextChange text_change(std::string_view before, std::string_view after) {
    ChangeFinder finder(before, after.size());
    finder.feed(after);
    std::string text(before);
    return std::move(finder).finish(text);
}

ChangeFinder::ChangeFinder(std::string_view old, std::size_t new_size) : old_(old), new_size_(new_size) {}

bool ChangeFinder::feed(std::string_view bytes) {
    if (bytes.size() > new_size_ - fed_) return false;
    std::size_t from = 0;
    if (in_head_) {
        const std::size_t comparable = fed_ < old_.size() ? std::min(bytes.size(), old_.size() - fed_) : 0;
        from = common_prefix<char>(bytes.substr(0, comparable), old_.substr(fed_, comparable));
        if (from < bytes.size()) {  // the first difference: the head ends here
            in_head_ = false;
            begin_ = end_ = fed_ + from;
            must_differ_ = begin_ + (new_size_ > old_.size() ? new_size_ - old_.size() : 0);
        }
    }
    if (!in_head_ && from < bytes.size()) compare_tail(bytes.substr(from), fed_ + from);
    fed_ += bytes.size();
    return true;
}

// New bytes at [from, from + bytes.size()), all after the head: where they
// differ from the old tail aligned at the end, the changed part grows to
// take them in, with the equal bytes between (copied from the old text).
void ChangeFinder::compare_tail(std::string_view bytes, std::size_t from) {
    const std::size_t to = from + bytes.size();
    // The changed part takes in new [from, differs_to); none when equal.
    std::size_t differs_to = std::clamp(must_differ_, from, to);
    const std::size_t cmp_from = std::max(from, must_differ_);
    if (cmp_from < to) {
        const std::size_t n = to - cmp_from;
        const std::size_t same = common_suffix<char>(bytes.substr(cmp_from - from), old_.substr(old_at(cmp_from), n), n);
        if (same < n) differs_to = to - same;
    }
    if (differs_to == from) return;
    if (end_ < from) middle_.append(old_.substr(old_at(end_), from - end_));
    const std::size_t copy_from = std::max(end_, from);
    middle_.append(bytes.substr(copy_from - from, differs_to - copy_from));
    end_ = differs_to;
}

TextChange ChangeFinder::finish(std::string& text) && {
    if (in_head_) begin_ = end_ = new_size_;  // the new text is a head of the old one
    const std::size_t old_end = old_at(end_);
    TextChange change{begin_, end_, text.substr(begin_, old_end - begin_)};
    text.replace(begin_, old_end - begin_, middle_);
    return change;
}

}  // namespace nftpolicy
