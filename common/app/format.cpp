#include "common/app/format.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace z2h {

std::string py_repr(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  // The shortest round-trip digits, as d.ddde±XX; Python's repr then chooses the layout: plain
  // decimals for exponents -4..15, scientific otherwise, and always a ".0" on a whole number.
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  (void)ec;  // 32 characters always suffice for a double
  std::string s(buf, end);
  std::string sign;
  if (s[0] == '-') {
    sign = "-";
    s.erase(0, 1);
  }
  const size_t e = s.find('e');
  const int exp10 = std::stoi(s.substr(e + 1));
  std::string digits = s.substr(0, e);
  if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
  if (exp10 < -4 || exp10 >= 16) {
    std::string mant = digits.substr(0, 1);
    if (digits.size() > 1) mant += "." + digits.substr(1);
    std::string ex = std::to_string(std::abs(exp10));
    if (ex.size() < 2) ex = "0" + ex;
    return sign + mant + (exp10 < 0 ? "e-" : "e+") + ex;
  }
  if (exp10 < 0) return sign + "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
  const size_t int_len = static_cast<size_t>(exp10) + 1;
  if (digits.size() <= int_len) return sign + digits + std::string(int_len - digits.size(), '0') + ".0";
  return sign + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

namespace {
std::string joined(const char* open, const std::vector<int64_t>& v, const char* close) {
  std::string s = open;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(v[i]);
  }
  s += close;
  return s;
}
}  // namespace

std::string py_list(const std::vector<int64_t>& v) { return joined("[", v, "]"); }
std::string py_tuple(const std::vector<int64_t>& v) { return joined("(", v, v.size() == 1 ? ",)" : ")"); }

}  // namespace z2h
