// CPython `random`, see py_random.hpp. Credit: CPython (PSF licence).
#include "common/rng/py_random.hpp"

#include <string>

#include "common/app/error.hpp"

namespace z2h {

void PyRandom::seed(uint64_t seed) {
  // 1 or 2 little-endian 32-bit words: as many as the integer needs, and at least one (seed 0 -> [0]).
  const uint32_t key[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  engine_.init_by_array(key, (seed >> 32) != 0 ? 2 : 1);
}

double PyRandom::random() {
  const uint32_t a = engine_() >> 5, b = engine_() >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

uint64_t PyRandom::getrandbits(int k) {
  if (k < 0 || k > 64) {
    throw UserError("getrandbits supports 0 <= k <= 64 bits here, got k=" + std::to_string(k));
  }
  if (k == 0) return 0;
  if (k <= 32) return engine_() >> (32 - k);
  const uint64_t low = engine_();  // CPython fills the integer from its least significant word up
  const uint64_t high = engine_() >> (64 - k);
  return (high << 32) | low;
}

uint64_t PyRandom::randbelow(uint64_t n) {
  if (n == 0) throw UserError("randbelow needs n >= 1 (an empty range has nothing to pick)");
  const int k = std::bit_width(n);  // n.bit_length()
  uint64_t r = getrandbits(k);
  while (r >= n) r = getrandbits(k);
  return r;
}

}  // namespace z2h
