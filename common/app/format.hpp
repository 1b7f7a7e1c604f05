#pragma once
// common/app/format.hpp — how the programs print a number the way the lectures' Python printed it,
// so that a line of output can be compared with the notebook's character by character.
#include <cstdint>
#include <string>
#include <vector>

namespace z2h {

// A double as Python's repr() prints it: the shortest digits that read back as the same double,
// plain decimals for exponents -4..15, scientific otherwise, and ".0" on a whole number:
//   py_repr(20.0) == "20.0", py_repr(2.0674145221710205) == "2.0674145221710205",
//   py_repr(1e-05) == "1e-05", py_repr(0.0001) == "0.0001", py_repr(1e16) == "1e+16".
// A float32 result (loss.item()) is printed as the double it converts to, as .item() does.
std::string py_repr(double x);

// A shape as Python prints it: py_list({182625, 8}) == "[182625, 8]" (list(x.shape), and inside
// torch.Size([32, 64])), py_tuple({30, 100}) == "(30, 100)" (tuple(x.shape); py_tuple({30}) == "(30,)").
std::string py_list(const std::vector<int64_t>& v);
std::string py_tuple(const std::vector<int64_t>& v);

}  // namespace z2h
