// Large address sets split for the kernel's sake: the single addresses of a
// set in a hash set (no `flags interval`), its ranges and prefixes in an
// interval set beside it. The meaning is unchanged: the two parts are
// disjoint and together hold the set's addresses.
//
// Why: on commit, the kernel's rbtree backend walks the whole tree of every
// interval set a transaction touches (0.15 s at a million elements, however
// few changed), while a hash set takes one element in microseconds
// (docs/performance.md, "One-address change"). Most large inventories are
// lists of hosts, so after the split a one-address edit touches only the hash
// set.
//
// The hash set is declared with a `size` of at least 1.5 times its elements,
// a power of two: with a size the kernel picks its fixed-size hash backend,
// which takes a million elements several times faster than the resizing one
// (bench/one_address.py); the set is recreated, with its rules, only when it
// outgrows the size (the kernel refuses elements past it).
//
// The hash set keeps the set's name; the interval part is NAME_ranges and
// exists only when the set has ranges. A rule matching the set is written
// twice, once per part, hash part first (one lookup for a single address):
// the parts are disjoint, so at most one of the two rules ever matches an
// address, and a rule with two split sets is written four times. Sets with
// fewer than `min_singles` single addresses stay as they are: the kernel's
// walk of a small tree costs nothing worth another set and rule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "ir/ruleset.h"

namespace nftpolicy::ir {

inline constexpr std::size_t kSplitMinSingles = 1024;

// The name of a split set's interval part.
std::string ranges_set_name(const std::string& set);

// The `size` of a hash set of `count` addresses.
std::uint32_t hash_set_size(std::size_t count);

Table split_address_sets(Table table, std::size_t min_singles = kSplitMinSingles);

}  // namespace nftpolicy::ir
