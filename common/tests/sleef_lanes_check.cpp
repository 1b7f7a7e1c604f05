// common/tests/sleef_lanes_check.cpp — the check behind vec_math.cpp's AVX-512 path: SLEEF's
// 16-lane exp/log/tanh (u10) return the same bits as the 8-lane AVX2 ones PyTorch calls, for every
// one of the 2^32 float inputs (NaN payloads aside). Not part of the build or the test suite (it
// takes about a minute); run it on an AVX-512 machine after a libsleef upgrade:
//   g++ -O2 -mavx512f -mavx2 -mfma common/tests/sleef_lanes_check.cpp -o /tmp/sleef_lanes_check -lsleef
//   /tmp/sleef_lanes_check      # libsleef 3.5.1: "0 differing of 2^32" for tanh, exp and log
#include <immintrin.h>
#include <sleef.h>
#include <cstdio>
#include <cstring>
#include <cstdint>
#include <chrono>
template <class F8, class F16>
void check(const char* name, F8 f8, F16 f16) {
  uint64_t bad = 0; alignas(64) uint32_t in[16]; alignas(64) uint32_t a[16], b[16];
  auto t0 = std::chrono::steady_clock::now();
  for (uint64_t base = 0; base < (1ull << 32); base += 16) {
    for (int l = 0; l < 16; ++l) in[l] = uint32_t(base + l);
    __m512 x = _mm512_load_ps((float*)in);
    _mm512_store_ps((float*)b, f16(x));
    _mm256_store_ps((float*)a, f8(_mm256_load_ps((float*)in)));
    _mm256_store_ps((float*)a + 8, f8(_mm256_load_ps((float*)in + 8)));
    for (int l = 0; l < 16; ++l) if (a[l] != b[l]) { float fa, fb; std::memcpy(&fa,&a[l],4); std::memcpy(&fb,&b[l],4);
      if (!(fa != fa && fb != fb)) { if (bad < 3) std::printf("  %s diff at %08x: %a vs %a\n", name, in[l], fa, fb); ++bad; } }
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s: %llu differing of 2^32 (%.1fs)\n", name, (unsigned long long)bad, s); std::fflush(stdout);
}
int main() {
  check("tanh", [](__m256 v){ return Sleef_tanhf8_u10(v); }, [](__m512 v){ return Sleef_tanhf16_u10(v); });
  check("exp", [](__m256 v){ return Sleef_expf8_u10(v); }, [](__m512 v){ return Sleef_expf16_u10(v); });
  check("log", [](__m256 v){ return Sleef_logf8_u10(v); }, [](__m512 v){ return Sleef_logf16_u10(v); });
}
