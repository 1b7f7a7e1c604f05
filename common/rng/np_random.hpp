#pragma once
// numpy's legacy RandomState (np.random.seed / np.random.*), bit for bit, as far as micrograd's demo
// needs it: np.random.seed(1337); X, y = sklearn.datasets.make_moons(n_samples=100, noise=0.1).
// Written from a description of the algorithms; credit: numpy (BSD-3-Clause: random/mtrand.pyx,
// src/legacy/legacy-distributions.c, src/distributions/distributions.c), scikit-learn (BSD-3-Clause:
// datasets/_samples_generator.py make_moons), Intel SVML as shipped with numpy (BSD-3-Clause).
#include <array>
#include <cstdint>
#include <iterator>
#include <vector>

#include "common/rng/generator.hpp"  // Mt19937

namespace z2h {

class RandomState {
 public:
  explicit RandomState(uint32_t seed = 0) { this->seed(seed); }

  // np.random.seed(s), 0 <= s < 2**32: MT19937 init_genrand(s) (like torch, unlike CPython), and the
  // cached Gaussian is dropped.
  void seed(uint32_t seed);

  uint32_t random_uint32() { return engine_(); }
  uint64_t random_uint64();  // two draws, the first as the high word
  // random_sample(): 53 bits from two draws, (a >> 5) * 2^26 + (b >> 6), divided by 2^53.
  double random_sample();
  // standard_normal(): the legacy polar (Marsaglia) method. Draws x1, x2 uniform in (-1, 1) until
  // 0 < r2 = x1^2 + x2^2 < 1, returns x2 * f and caches x1 * f for the next call, f = sqrt(-2 ln(r2) / r2).
  double standard_normal();
  double normal(double loc, double scale) { return loc + scale * standard_normal(); }
  // A uniform integer in [0, max]: draws masked to the smallest all-ones mask >= max, rejected while
  // > max (32-bit draws when max < 2**32, else 64-bit). What shuffle and legacy randint use.
  uint64_t random_interval(uint64_t max);

  // shuffle(x): for i = n-1 down to 1, swap x[i] with x[random_interval(i)].
  template <class T>
  void shuffle(std::vector<T>& x) {
    for (size_t i = x.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(random_interval(i - 1));
      std::iter_swap(x.begin() + static_cast<std::ptrdiff_t>(i - 1), x.begin() + static_cast<std::ptrdiff_t>(j));
    }
  }
  // permutation(n): shuffle(arange(n)).
  std::vector<int64_t> permutation(int64_t n);

 private:
  Mt19937 engine_;
  bool has_gauss_ = false;
  double gauss_ = 0.0;
};

// np.cos / np.sin on float64 give different last bits on different CPUs: numpy >= 1.22 runs Intel
// SVML's AVX-512 kernels (up to 4 ulp) when the CPU has AVX512_SKX, and the C library's cos/sin
// otherwise. Karpathy's printed X[0] = [1.1221146075409683, 0.08147717341718697] and numpy on the
// project's AVX-512 machines agree; glibc gives 1.1221146075409685 (1 ulp) for X[0][0].
enum class NumpyTrig { Avx512Svml, Libm };

struct Moons {
  std::vector<std::array<double, 2>> X;  // [n_samples, 2]
  std::vector<int> y;                    // 0 = upper moon, 1 = lower moon, like sklearn
};

// sklearn.datasets.make_moons(n_samples, shuffle=True, noise=noise) with `rs` as its random_state:
// n_out = n_samples / 2 points (cos t, sin t) and n_in = n_samples - n_out points (1 - cos t,
// 1 - sin t - 0.5), t = np.linspace(0, pi, .); rows shuffled by rs.shuffle(arange(n)); then
// X += rs.normal(0, noise) element by element in row-major order. Bit for bit with numpy/sklearn.
Moons make_moons(int n_samples, double noise, RandomState& rs, NumpyTrig trig = NumpyTrig::Avx512Svml);

}  // namespace z2h
