#pragma once
// Helpers for the tensor-layer tests: reading goldens written by make_tensor_goldens.py and
// comparing tensors with a message that shows expected vs actual.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "common/tensor/ops.hpp"

namespace z2h::test {

using json = nlohmann::json;

inline json load_golden(const std::string& name) {
  std::string path = std::string(Z2H_SOURCE_DIR) + "/common/tests/goldens/" + name;
  std::ifstream f(path);
  if (!f) throw std::runtime_error("golden file " + path + " is missing (run /usr/bin/python3 common/tests/make_tensor_goldens.py)");
  return json::parse(f);
}

inline float golden_float(const json& v) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "nan") return std::numeric_limits<float>::quiet_NaN();
    return s[0] == '-' ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  }
  return v.get<float>();
}

inline Shape shape_of(const json& j) { return Shape(j.at("shape").get<std::vector<int64_t>>()); }

inline Tensor to_tensor(const json& j) {
  std::vector<float> v;
  for (const auto& x : j.at("data")) v.push_back(golden_float(x));
  return tensor(std::move(v), shape_of(j));
}

inline LongTensor to_long(const json& j) {
  return LongTensor(j.at("data").get<std::vector<int64_t>>(), shape_of(j));
}

// |actual - expected| <= atol + rtol * |expected| everywhere (NaN/inf must match exactly).
struct Mismatch {
  bool ok = true;
  std::string message;
  double max_abs = 0.0;
};

inline Mismatch compare(const Tensor& expected, const Tensor& actual, double atol, double rtol) {
  Mismatch m;
  std::ostringstream os;
  if (!actual.defined()) {
    m.ok = false;
    m.message = "actual is undefined (no gradient reached it)";
    return m;
  }
  if (expected.shape() != actual.shape()) {
    m.ok = false;
    m.message = "shape: expected " + expected.shape().str() + ", actual " + actual.shape().str();
    return m;
  }
  int64_t worst = -1;
  double worst_excess = 0.0;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    double e = expected.data()[i], a = actual.data()[i];
    if (std::isnan(e) || std::isinf(e)) {
      bool same = (std::isnan(e) && std::isnan(a)) || e == a;
      if (!same) {
        worst = i;
        worst_excess = std::numeric_limits<double>::infinity();
      }
      continue;
    }
    double d = std::fabs(a - e);
    if (!(d <= d + 1) || std::isnan(a)) d = std::numeric_limits<double>::infinity();
    m.max_abs = std::max(m.max_abs, d);
    double excess = d - (atol + rtol * std::fabs(e));
    if (excess > 0 && excess > worst_excess) {
      worst_excess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    m.ok = false;
    os.precision(9);
    os << "element " << worst << ": expected " << expected.data()[worst] << ", actual " << actual.data()[worst]
       << " (max abs diff " << m.max_abs << ", atol " << atol << ", rtol " << rtol << ")";
    m.message = os.str();
  }
  return m;
}

#define Z2H_CHECK_CLOSE(expected, actual, atol, rtol)                              \
  do {                                                                             \
    auto z2h_m_ = ::z2h::test::compare((expected), (actual), (atol), (rtol));      \
    INFO(z2h_m_.message);                                                          \
    CHECK(z2h_m_.ok);                                                              \
  } while (0)

}  // namespace z2h::test
