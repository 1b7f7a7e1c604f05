#pragma once
// 02-bigram/report.hpp — how the stage prints numbers: like Python, so its lines can be compared
// with the notebook's and with reference.py's character by character.
#include "common/app/format.hpp"

#include <string>
#include <vector>

namespace bigram {

using z2h::py_repr;  // 3.7693049907684326 for a float32 loss, as .item() prints it

inline std::string join(const std::vector<std::string>& names, const char* sep = " ") {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) s += (i ? sep : "") + names[i];
  return s;
}

}  // namespace bigram
