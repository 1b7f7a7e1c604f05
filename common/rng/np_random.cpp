// numpy legacy RandomState and sklearn's make_moons, see np_random.hpp.
// Credits: numpy (BSD-3-Clause), scikit-learn (BSD-3-Clause), Intel SVML as shipped with numpy
// (BSD-3-Clause). Built with -ffp-contract=off: every fused multiply-add below is an explicit std::fma.
#include "common/rng/np_random.hpp"

#include <bit>
#include <cmath>
#include <numeric>
#include <string>

#include "common/app/error.hpp"

namespace z2h {

void RandomState::seed(uint32_t seed) {
  engine_.init_genrand(seed);
  has_gauss_ = false;
  gauss_ = 0.0;
}

uint64_t RandomState::random_uint64() {
  const uint64_t hi = engine_();
  return (hi << 32) | engine_();
}

double RandomState::random_sample() {
  const uint32_t a = engine_() >> 5, b = engine_() >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

double RandomState::standard_normal() {
  if (has_gauss_) {
    has_gauss_ = false;
    return gauss_;
  }
  double x1, x2, r2;
  do {
    x1 = 2.0 * random_sample() - 1.0;
    x2 = 2.0 * random_sample() - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);
  const double f = std::sqrt(-2.0 * std::log(r2) / r2);
  gauss_ = f * x1;
  has_gauss_ = true;
  return f * x2;
}

uint64_t RandomState::random_interval(uint64_t max) {
  if (max == 0) return 0;  // no draw at all
  const int bits = std::bit_width(max);  // mask = the smallest 2^k - 1 >= max
  const uint64_t mask = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  uint64_t value;
  if (max <= 0xffffffffu) {
    while ((value = (engine_() & mask)) > max) {
    }
  } else {
    while ((value = (random_uint64() & mask)) > max) {
    }
  }
  return value;
}

std::vector<int64_t> RandomState::permutation(int64_t n) {
  if (n < 0) throw UserError("permutation needs n >= 0, got " + std::to_string(n));
  std::vector<int64_t> x(static_cast<size_t>(n));
  std::iota(x.begin(), x.end(), int64_t{0});
  shuffle(x);
  return x;
}

// ---- make_moons ------------------------------------------------------------------------------

namespace {

inline double from_bits(uint64_t u) { return std::bit_cast<double>(u); }
inline uint64_t to_bits(double d) { return std::bit_cast<uint64_t>(d); }

// The constants of SVML's low-accuracy __svml_sin8 / __svml_cos8, as bit patterns.
const double kInvPi = from_bits(0x3fd45f306dc9c883);  // 1/pi
const double kPi1 = from_bits(0x400921fb54442d18);    // pi = kPi1 + kPi2 + kPi3 (Cody–Waite)
const double kPi2 = from_bits(0x3ca1a62633145c06);
const double kPi3 = from_bits(0x395c1cd129024e09);

// sin(r) ~ r + r^3 * P(r^2), a degree-6 polynomial in r^2, highest coefficient first.
double svml_sin_poly(double r_reduced, double r2, const uint64_t (&c)[7]) {
  double p = std::fma(from_bits(c[0]), r2, from_bits(c[1]));
  const double r3 = r2 * r_reduced;
  for (int k = 2; k < 7; ++k) p = std::fma(r2, p, from_bits(c[k]));
  return std::fma(r3, p, r_reduced);
}

// numpy's float64 sin on AVX-512 (__svml_sin8, main path |x| < 2^24): N = nearest integer to x/pi,
// r = x - N*pi, sin(x) = (-1)^N sin(r). Inputs here are in [0, pi].
double svml_sin(double x) {
  constexpr uint64_t coeffs[7] = {0xbd69f1517e9f65f0, 0x3de60e6bee01d83e, 0xbe5ae6355aaa4a53,
                                  0x3ec71de3806add1a, 0xbf2a01a019a659dd, 0x3f8111111110a573,
                                  0xbfc55555555554a8};
  const double shifter = from_bits(0x4338000000000000);  // 1.5 * 2^52: adding it rounds to an integer
  const double shifted = std::fma(x, kInvPi, shifter);
  uint64_t sign = to_bits(shifted) << 63;  // parity of N
  if (to_bits(x) == 0x8000000000000000u) sign ^= to_bits(x);
  const double n = shifted - shifter;
  double r = std::fma(-n, kPi1, x);
  r = std::fma(-kPi2, n, r);
  const double r2 = r * r;  // from the two-part reduction, like the original
  const double r_full = std::fma(-kPi3, n, r);
  return from_bits(to_bits(svml_sin_poly(r_full, r2, coeffs)) ^ sign);
}

// floor(a * b) of the exact product, which SVML gets from a round-toward-zero FMA against 2^52.
double floor_of_product(double a, double b) {
  const double p = a * b;
  double f = std::floor(p);
  if (f == p && std::fma(a, b, -p) < 0.0) f -= 1.0;  // the product rounded up onto an integer
  return f;
}

// numpy's float64 cos on AVX-512 (__svml_cos8, main path): cos(x) = sin(x + pi/2), so with
// N = floor(|x|/pi), r = (N + 1/2)*pi - |x| and cos(x) = (-1)^N sin(r). Inputs here are in [0, pi].
double svml_cos(double x) {
  constexpr uint64_t coeffs[7] = {0xbd69f0d60811aac8, 0x3de60e6857a2f220, 0xbe5ae63546002231,
                                  0x3ec71de38030fea0, 0xbf2a01a019a5b87b, 0x3f8111111110a4a8,
                                  0xbfc55555555554a7};
  const double ax = std::fabs(x);
  if (ax < 0x1p-27) return 1.0;
  const double n = floor_of_product(kInvPi, ax);
  const uint64_t sign = (static_cast<uint64_t>(n) & 1u) << 63;
  const double n_half = n + 0.5;
  double r = std::fma(n_half, kPi1, -ax);
  r = std::fma(kPi2, n_half, r);
  const double r2 = r * r;
  const double r_full = from_bits(to_bits(std::fma(kPi3, n_half, r)) ^ sign);
  return svml_sin_poly(r_full, r2, coeffs);
}

// np.linspace(0, pi, num): i * (pi / (num - 1)) + 0.0, the last point exactly pi.
std::vector<double> linspace_0_pi(int num) {
  const double pi = 3.14159265358979323846;
  std::vector<double> t(static_cast<size_t>(num));
  const double step = num > 1 ? pi / (num - 1) : 0.0;
  for (int i = 0; i < num; ++i) t[i] = static_cast<double>(i) * step + 0.0;
  if (num > 1) t[num - 1] = pi;
  return t;
}

}  // namespace

Moons make_moons(int n_samples, double noise, RandomState& rs, NumpyTrig trig) {
  if (n_samples < 0) throw UserError("make_moons needs n_samples >= 0, got " + std::to_string(n_samples));
  if (!(noise >= 0.0)) throw UserError("make_moons needs noise >= 0, got " + std::to_string(noise));
  const auto cos_ = [trig](double t) { return trig == NumpyTrig::Libm ? std::cos(t) : svml_cos(t); };
  const auto sin_ = [trig](double t) { return trig == NumpyTrig::Libm ? std::sin(t) : svml_sin(t); };

  const int n_out = n_samples / 2, n_in = n_samples - n_out;
  std::vector<std::array<double, 2>> X;
  std::vector<int> y;
  for (double t : linspace_0_pi(n_out)) {  // upper moon
    X.push_back({cos_(t), sin_(t)});
    y.push_back(0);
  }
  for (double t : linspace_0_pi(n_in)) {  // lower moon, shifted right and down
    X.push_back({1.0 - cos_(t), 1.0 - sin_(t) - 0.5});
    y.push_back(1);
  }

  // sklearn.utils.shuffle: indices = arange(n); rs.shuffle(indices); X[indices], y[indices]
  const std::vector<int64_t> order = rs.permutation(n_samples);
  Moons moons;
  for (int64_t i : order) {
    moons.X.push_back(X[static_cast<size_t>(i)]);
    moons.y.push_back(y[static_cast<size_t>(i)]);
  }
  for (auto& row : moons.X) {  // X += rs.normal(scale=noise, size=X.shape), row-major
    for (double& v : row) v += rs.normal(0.0, noise);
  }
  return moons;
}

}  // namespace z2h
