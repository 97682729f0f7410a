// Rendering of `nftpolicy matrix` (docs/matrix.md): text for an 80-column
// terminal (a grid of the nodes when it fits, then every cell as a list,
// then the steps of each migration), JSON (version kMatrixJsonVersion) and
// Graphviz DOT.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "matrix/matrix.h"

namespace nftpolicy::cli {

inline constexpr int kMatrixJsonVersion = 1;
inline constexpr std::size_t kTextWidth = 80;

std::string matrix_text(const matrix::Matrix& m);
// Keys in the documented order (docs/matrix.md).
nlohmann::ordered_json matrix_json(const matrix::Matrix& m);
std::string matrix_dot(const matrix::Matrix& m);

// "tcp/1433,1434 udp/1434", "tcp/3023-4023", "icmp/echo-request"
std::string ports_text(const policy::Service& service);
// Breaks `line` at spaces so that no line is wider than `width` (a word
// longer than that stays whole); continuation lines start with `indent`.
std::string wrap(const std::string& line, std::size_t indent, std::size_t width = kTextWidth);

}  // namespace nftpolicy::cli
