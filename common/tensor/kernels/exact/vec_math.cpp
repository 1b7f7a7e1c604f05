// common/tensor/kernels/exact/vec_math.cpp — see vec_math.hpp. Built with -mavx2 -mfma (common/CMakeLists.txt): the
// SLEEF entry points take __m256 (and __m512 in the AVX-512 path, chosen at run time).
// SLEEF (Boost licence) is the library PyTorch links.
#include "common/tensor/kernels/exact/vec_math.hpp"

#include <immintrin.h>
#include <sleef.h>
#ifndef __AVX512F__  // sleef.h declares its 16-lane functions only for AVX-512 builds
extern "C" {
__m512 Sleef_expf16_u10(__m512);
__m512 Sleef_logf16_u10(__m512);
__m512 Sleef_tanhf16_u10(__m512);
}
#endif

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/app/error.hpp"

namespace z2h::vec {

namespace {

// Vectorized<float>::loadu(ptr, count): the first `count` lanes from ptr, the rest 0.
__m256 load_partial(const float* p, int64_t count) {
  alignas(32) float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::copy(p, p + count, buf);
  return _mm256_load_ps(buf);
}
void store_partial(float* p, __m256 v, int64_t count) {
  alignas(32) float buf[8];
  _mm256_store_ps(buf, v);
  std::copy(buf, buf + count, p);
}

// vec::map: whole vectors, then one partial vector (vec_math.hpp: SLEEF is lane by lane).
template <class F>
void map(F f, const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) store_partial(y + i, f(load_partial(x + i, n - i)), n - i);
}

// The same map, 16 lanes at a time, on CPUs with AVX-512. SLEEF's 16-lane functions run the same
// algorithm with the same FMAs as its 8-lane AVX2 ones: for exp, log and tanh they return the same
// bits for every one of the 2^32 floats (NaN payloads aside; checked exhaustively against libsleef
// 3.5.1 by tests/sleef_lanes_check.cpp), so this is only faster (tanh is a fifth of a lecture-3
// step), never different.
template <class Fn16>
__attribute__((target("avx512f"))) void map16(Fn16 f, const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, f(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, m, f(_mm512_maskz_loadu_ps(m, x + i)));
  }
}
const bool kHasAvx512 = __builtin_cpu_supports("avx512f");

// e[i] = exp(x[i] - max) for n >= 8, 16 lanes at a time, and their sum in map_sum's order (below):
// the 8-lane accumulator takes each 16 lanes' low half, then their high half, the partial last
// vector's missing lanes as zeros (adding 0 to a sum of exps leaves it unchanged).
__attribute__((target("avx512f"))) __m256 sum_exp_minus16(const float* x, float max, float* e, int64_t n) {
  const __m512 m = _mm512_set1_ps(max);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 v = _mm512_maskz_mov_ps(k, Sleef_expf16_u10(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), m)));
    _mm512_mask_storeu_ps(e + i, k, v);
    const __m256 lo = _mm512_castps512_ps256(v), hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    acc = i == 0 ? lo : _mm256_add_ps(acc, lo);
    if (n - i > 8) acc = _mm256_add_ps(acc, hi);
  }
  return acc;
}

// vec_reduce_all's AVX2 fold (functional_base.h, VecReduceAllSIMD<float>): swap the 128-bit
// halves, then 64-bit pairs, then neighbours, combining each time; lane 0 is the result.
template <class Op>
float fold(__m256 v, Op op) {
  v = op(v, _mm256_permute2f128_ps(v, v, 0x1));
  v = op(v, _mm256_shuffle_ps(v, v, 0x4E));
  v = op(v, _mm256_shuffle_ps(v, v, 0xB1));
  return _mm256_cvtss_f32(v);
}

// vec::map_reduce_all(map, +) / reduce_all(+): lane accumulators, the tail merged with
// Vec::set(acc, acc + tail, rem) (only the tail's own lanes change), then the fold. Rows shorter
// than a vector use the slow path: lane 0 plus lanes 1.. in turn, left to right.
template <class Map>
float map_sum(Map f, const float* x, int64_t n) {
  if (n < 8) {
    alignas(32) float a[8];
    _mm256_store_ps(a, f(load_partial(x, n)));
    float s = a[0];
    for (int64_t i = 1; i < n; ++i) s += a[i];
    return s;
  }
  __m256 acc = f(_mm256_loadu_ps(x));
  int64_t i = 8;
  for (; i < n - n % 8; i += 8) acc = _mm256_add_ps(acc, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    alignas(32) float a[8], t[8];
    _mm256_store_ps(a, acc);
    _mm256_store_ps(t, f(load_partial(x + i, n - i)));
    for (int64_t l = 0; l < n - i; ++l) a[l] += t[l];
    acc = _mm256_load_ps(a);
  }
  return fold(acc, [](__m256 a, __m256 b) { return _mm256_add_ps(a, b); });
}

// softmax_row for n >= 8 with AVX-512: the max of 16-lane chunks (the same number in any order; NaN
// if there is one), exp(x - max) and its sum as sum_exp_minus16, then y * (1 / sum).
__attribute__((target("avx512f"))) void softmax_row16(const float* x, float* y, int64_t n) {
  auto mask = [n](int64_t i) { return n - i >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1); };
  const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 mx = neg_inf;
  __mmask16 nan = 0;
  for (int64_t i = 0; i < n; i += 16) {
    const __m512 v = _mm512_mask_loadu_ps(neg_inf, mask(i), x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    mx = _mm512_max_ps(mx, v);
  }
  const float max = nan ? std::numeric_limits<float>::quiet_NaN() : _mm512_reduce_max_ps(mx);
  const __m256 sum = sum_exp_minus16(x, max, y, n);
  const __m512 inv = _mm512_set1_ps(1.0f / fold(sum, [](__m256 a, __m256 b) { return _mm256_add_ps(a, b); }));
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = mask(i);
    _mm512_mask_storeu_ps(y + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, y + i), inv));
  }
}

// This file is built for AVX2+FMA whatever the rest of the build targets (PyTorch's kernels are
// AVX2 ones): on an older x86 CPU its instructions would crash the program, so every entry point
// checks once and stops with one clear line instead.
const bool kHasAvx2Fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
void require_avx2() {
  if (!kHasAvx2Fma)
    throw UserError("this CPU has no AVX2/FMA, which common/tensor/kernels/exact/vec_math.cpp (PyTorch's AVX2 exp/log/tanh) "
                    "needs: run the course on an x86-64 CPU from 2013 (Intel Haswell, AMD Zen) or later");
}

}  // namespace

void exp(const float* x, float* y, int64_t n) {
  require_avx2();
  if (kHasAvx512 && n >= 16) return map16(Sleef_expf16_u10, x, y, n);
  map([](__m256 v) { return Sleef_expf8_u10(v); }, x, y, n);
}
void log(const float* x, float* y, int64_t n) {
  require_avx2();
  if (kHasAvx512 && n >= 16) return map16(Sleef_logf16_u10, x, y, n);
  map([](__m256 v) { return Sleef_logf8_u10(v); }, x, y, n);
}
void tanh(const float* x, float* y, int64_t n) {
  require_avx2();
  if (kHasAvx512 && n >= 16) return map16(Sleef_tanhf16_u10, x, y, n);
  map([](__m256 v) { return Sleef_tanhf8_u10(v); }, x, y, n);
}

void pow(const float* x, float p, float* y, int64_t n) {
  require_avx2();
  const __m256 e = _mm256_set1_ps(p);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {  // cpu_kernel_vec's vectorized_loop: two vectors per iteration
    _mm256_storeu_ps(y + i, Sleef_powf8_u10(_mm256_loadu_ps(x + i), e));
    _mm256_storeu_ps(y + i + 8, Sleef_powf8_u10(_mm256_loadu_ps(x + i + 8), e));
  }
  for (; i < n; ++i) y[i] = static_cast<float>(std::pow(static_cast<double>(x[i]), static_cast<double>(p)));  // basic_loop
}

float reduce_max(const float* x, int64_t n) {
  require_avx2();
  // The maximum is the same in any order; a NaN anywhere makes it NaN, as vec::maximum does.
  int64_t i = 0;
  float m = x[0];
  if (n >= 8) {
    __m256 acc = _mm256_loadu_ps(x), nan = _mm256_cmp_ps(acc, acc, _CMP_UNORD_Q);
    for (i = 8; i + 8 <= n; i += 8) {
      const __m256 v = _mm256_loadu_ps(x + i);
      acc = _mm256_max_ps(acc, v);
      nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    if (_mm256_movemask_ps(nan)) return std::numeric_limits<float>::quiet_NaN();
    m = fold(acc, [](__m256 a, __m256 b) { return _mm256_max_ps(a, b); });
  }
  for (; i < n; ++i) m = (x[i] > m || x[i] != x[i]) ? x[i] : m;
  return m;
}

float reduce_sum(const float* x, int64_t n) {
  require_avx2();
  return map_sum([](__m256 v) { return v; }, x, n);
}

void softmax_row(const float* x, float* y, int64_t n) {
  require_avx2();
  if (kHasAvx512 && n >= 8) return softmax_row16(x, y, n);
  const float inv = 1.0f / sum_exp_minus(x, reduce_max(x, n), n, y);
  for (int64_t j = 0; j < n; ++j) y[j] *= inv;
}

float sum_exp_minus(const float* x, float max, int64_t n, float* e) {
  require_avx2();
  const __m256 m = _mm256_set1_ps(max);
  auto f = [m](__m256 v) { return Sleef_expf8_u10(_mm256_sub_ps(v, m)); };
  if (!e) return map_sum(f, x, n);
  // the same numbers map_reduce_all would sum, kept; 16 lanes at a time where AVX-512 is there
  // (SLEEF's 16-lane exp gives its 8-lane one's bits, see map16)
  if (kHasAvx512 && n >= 8)
    return fold(sum_exp_minus16(x, max, e, n), [](__m256 a, __m256 b) { return _mm256_add_ps(a, b); });
  map(f, x, e, n);
  return reduce_sum(e, n);
}

}  // namespace z2h::vec
