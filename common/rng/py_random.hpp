#pragma once
// CPython's `random` module (Modules/_randommodule.c and Lib/random.py, Python 3.11), bit for bit:
// the lectures split names.txt with `random.seed(42); random.shuffle(words)` and micrograd draws its
// weights with `random.uniform(-1, 1)` after `random.seed(1337)`.
// Written from a description of the algorithms; credit: CPython (PSF licence), MT19937 (Matsumoto &
// Nishimura).
//
// Worked example: PyRandom rng(42); rng.shuffle(words) puts "yuheng", "diondre", "xavien" first.
#include <bit>
#include <cstdint>
#include <iterator>
#include <vector>

#include "common/rng/generator.hpp"  // Mt19937

namespace z2h {

class PyRandom {
 public:
  // CPython seeds an unseeded Random from os.urandom; this one uses 0 so runs are repeatable.
  explicit PyRandom(uint64_t seed = 0) { this->seed(seed); }

  // random.seed(n) for an int n >= 0: init_by_array with n split into 32-bit words, low word first
  // (one word when n < 2**32; a negative n seeds like abs(n)).
  void seed(uint64_t seed);

  // random.random(): 53 bits from two draws, (a >> 5) * 2^26 + (b >> 6), scaled by 2^-53.
  double random();
  // random.uniform(a, b) = a + (b - a) * random()
  double uniform(double a, double b) { return a + (b - a) * random(); }
  // random.getrandbits(k) for 0 <= k <= 64: the top k bits of one draw (k <= 32), or two draws with
  // the first as the LOW word.
  uint64_t getrandbits(int k);
  // random._randbelow(n), n >= 1: getrandbits(n.bit_length()) until the result is < n (no modulo bias).
  uint64_t randbelow(uint64_t n);

  // random.shuffle(x): for i = n-1 down to 1, swap x[i] with x[randbelow(i + 1)].
  template <class T>
  void shuffle(std::vector<T>& x) {
    for (size_t i = x.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(randbelow(i));
      std::iter_swap(x.begin() + static_cast<std::ptrdiff_t>(i - 1), x.begin() + static_cast<std::ptrdiff_t>(j));
    }
  }

 private:
  Mt19937 engine_;
};

}  // namespace z2h
