#pragma once
// 02-bigram/report.hpp — how the stage prints numbers: like Python, so its lines can be compared
// with the notebook's and with reference.py's character by character.
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

namespace bigram {

// Python's repr of a float: the shortest digits that read back as the same double, e.g.
// 3.7693049907684326 for a float32 loss (printed as the double it converts to, as .item() does).
inline std::string repr(double x) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

// f"{k:7d}/{steps:7d}: {loss!r}" — the lecture's training line.
inline std::string step_line(int64_t k, int64_t steps, double loss) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%7" PRId64 "/%7" PRId64 ": ", k, steps);
  return buf + repr(loss);
}

inline std::string join(const std::vector<std::string>& names, const char* sep = " ") {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) s += (i ? sep : "") + names[i];
  return s;
}

}  // namespace bigram
