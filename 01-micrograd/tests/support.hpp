#pragma once
// Shared by the stage's tests: doubles print with all 17 significant digits, so a failing check
// shows expected vs actual to the last bit (Catch2 prints 10 by default).
#include <catch2/catch.hpp>

namespace micrograd_test {
inline const bool kFullPrecision = [] {
  Catch::StringMaker<double>::precision = 17;
  return true;
}();
}  // namespace micrograd_test
