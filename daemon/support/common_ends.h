// The common head and tail of two arrays, compared with memcmp a block at a
// time: at a million addresses an element-by-element compare of two
// interval lists (or of two 13 MB address files) was a sizeable part of a
// one-address reload; memcmp compares such blocks several times faster.
//
// Only for types whose equality is equality of their bytes (no padding, no
// floating point): the static_assert below checks what the compiler can.
//
// Example:
//   std::string_view a = "10.0.0.1\n10.0.0.3\n", b = "10.0.0.1\n10.0.0.4\n";
//   common_prefix<char>(a, b) == 16; common_suffix<char>(a, b, 18 - 16) == 1
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>

namespace nftpolicy {

namespace detail {
template <typename T>
constexpr std::size_t kBlock = std::max<std::size_t>(1, 16384 / sizeof(T));

template <typename T>
bool same(const T* a, const T* b, std::size_t n) {
    static_assert(std::is_trivially_copyable_v<T> && std::has_unique_object_representations_v<T>,
                  "equal values must have equal bytes");
    return std::memcmp(a, b, n * sizeof(T)) == 0;
}
}  // namespace detail

// How many elements `a` and `b` share at their start.
template <typename T>
std::size_t common_prefix(std::span<const T> a, std::span<const T> b) {
    const std::size_t n = std::min(a.size(), b.size());
    std::size_t i = 0;
    while (i + detail::kBlock<T> <= n && detail::same(a.data() + i, b.data() + i, detail::kBlock<T>))
        i += detail::kBlock<T>;
    while (i < n && detail::same(a.data() + i, b.data() + i, 1)) ++i;
    return i;
}

// How many elements they share at their end, at most `limit` (so that head
// and tail do not overlap: pass min(a.size(), b.size()) - head).
template <typename T>
std::size_t common_suffix(std::span<const T> a, std::span<const T> b, std::size_t limit) {
    const T* ea = a.data() + a.size();
    const T* eb = b.data() + b.size();
    std::size_t s = 0;
    while (s + detail::kBlock<T> <= limit &&
           detail::same(ea - s - detail::kBlock<T>, eb - s - detail::kBlock<T>, detail::kBlock<T>))
        s += detail::kBlock<T>;
    while (s < limit && detail::same(ea - s - 1, eb - s - 1, 1)) ++s;
    return s;
}

}  // namespace nftpolicy
