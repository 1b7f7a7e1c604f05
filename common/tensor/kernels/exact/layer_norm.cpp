// common/tensor/kernels/exact/layer_norm.cpp — see layer_norm.hpp. Built with -mavx2 -mfma
// (common/tensor/CMakeLists.txt), like vec_math.cpp: PyTorch's kernels are AVX2 ones. Every
// _mm256_fmadd_ps / std::fma below stands where GCC fused PyTorch's `a * b + c` (layer_norm.hpp);
// which ones were fused was found by trying each form against torch 1.13.1's outputs.
#include "common/tensor/kernels/exact/layer_norm.hpp"
#include "common/tensor/kernels/kernels.hpp"
#include "common/tensor/parallel.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/app/error.hpp"

namespace z2h::kernels::exact {

namespace {

// Built for AVX2+FMA whatever the rest of the build targets: stop with one clear line on an older CPU.
const bool kHasAvx2Fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
void require_avx2() {
  if (!kHasAvx2Fma)
    throw UserError("this CPU has no AVX2/FMA, which common/tensor/kernels/exact/layer_norm.cpp (PyTorch's AVX2 "
                    "layer_norm) needs: run the course on an x86-64 CPU from 2013 (Intel Haswell, AMD Zen) or later");
}

constexpr int64_t kLanes = 8;       // Vectorized<float>::size() on AVX2
constexpr int64_t kChunkSize = 16;  // moments_utils.h: vectors per Welford chunk

// Rows of C below which a kernel stays on the calling thread: about parallel::kMinElements numbers.
long min_rows(int64_t C) { return std::max<long>(1, parallel::kMinElements / std::max<int64_t>(C, 1)); }

// Vectorized<float>::loadu(ptr, count): the first `count` lanes, the rest 0.
__m256 load_partial(const float* p, int64_t count) {
  alignas(32) float buf[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::copy(p, p + count, buf);
  return _mm256_load_ps(buf);
}
void store_partial(float* p, __m256 v, int64_t count) {
  alignas(32) float buf[kLanes];
  _mm256_store_ps(buf, v);
  std::copy(buf, buf + count, p);
}
// Vec::set(a, b, count): b's first `count` lanes, a's others.
__m256 set_first(__m256 a, __m256 b, int64_t count) {
  alignas(32) float fa[kLanes], fb[kLanes];
  _mm256_store_ps(fa, a);
  _mm256_store_ps(fb, b);
  std::copy(fb, fb + count, fa);
  return _mm256_load_ps(fa);
}

// vec_reduce_all's fold of eight lanes (functional_base.h, AVX2 specialisation).
float fold_sum(__m256 v) {
  v = _mm256_add_ps(v, _mm256_permute2f128_ps(v, v, 0x1));
  v = _mm256_add_ps(v, _mm256_shuffle_ps(v, v, 0x4E));
  v = _mm256_add_ps(v, _mm256_shuffle_ps(v, v, 0xB1));
  return _mm256_cvtss_f32(v);
}

// vec::map{2,3}_reduce_all(map = product, reduce = +) over n floats: rows shorter than a vector sum
// the products lane after lane; longer ones start from the first vector's products and add the
// others with fused multiply-adds (prod(i) = a·b for map2, (a·b)·c for map3: the last multiply is
// the fused one), the partial last vector into its own lanes, then the fold.
template <class Head, class Last>
float product_sum(const float* a, const float* b, const float* c, int64_t n, Head head, Last last) {
  if (n < kLanes) {
    alignas(32) float p[kLanes];
    __m256 h = head(load_partial(a, n), load_partial(b, n));
    _mm256_store_ps(p, c ? _mm256_mul_ps(h, load_partial(c, n)) : h);
    float s = p[0];
    for (int64_t i = 1; i < n; ++i) s += p[i];
    return s;
  }
  auto at = [&](int64_t i) { return c ? _mm256_loadu_ps(c + i) : _mm256_set1_ps(0.0f); };
  // the first vector: the plain product
  __m256 acc = c ? _mm256_mul_ps(head(_mm256_loadu_ps(a), _mm256_loadu_ps(b)), at(0))
                 : head(_mm256_loadu_ps(a), _mm256_loadu_ps(b));
  int64_t i = kLanes;
  for (; i < n - n % kLanes; i += kLanes) acc = last(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), at(i), acc);
  if (i < n) {
    const int64_t r = n - i;
    const __m256 cv = c ? load_partial(c + i, r) : _mm256_set1_ps(0.0f);
    acc = set_first(acc, last(load_partial(a + i, r), load_partial(b + i, r), cv, acc), r);
  }
  return fold_sum(acc);
}

float sum_ab(const float* a, const float* b, int64_t n) {  // map2_reduce_all(x * y, +)
  return product_sum(
      a, b, nullptr, n, [](__m256 x, __m256 y) { return _mm256_mul_ps(x, y); },
      [](__m256 x, __m256 y, __m256, __m256 acc) { return _mm256_fmadd_ps(x, y, acc); });
}
float sum_abc(const float* a, const float* b, const float* c, int64_t n) {  // map3_reduce_all(x * y * z, +)
  return product_sum(
      a, b, c, n, [](__m256 x, __m256 y) { return _mm256_mul_ps(x, y); },
      [](__m256 x, __m256 y, __m256 z, __m256 acc) { return _mm256_fmadd_ps(_mm256_mul_ps(x, y), z, acc); });
}

// AddMomentsVec / AddMoments: merge (m0_add, m1_add, m2_add) into (m0, m1, m2).
//   c = m0_add / n;  delta = m1_add - m1;  m1 += c·delta;  m2 += m2_add + delta·delta·c·m0
// Unlike layer_norm_kernel.cpp's own lines, PyTorch 1.13's moments code is not fused anywhere:
// every multiply-add below (and in rowwise_moments) is a multiply, then an add — this alone gives
// torch's means and variances on every row length tested (fusing any one of them does not).
void add_moments_vec(int64_t m0_add, __m256 m1_add, __m256 m2_add, int64_t& m0, __m256& m1, __m256& m2) {
  const int64_t n = m0 + m0_add;
  const float c = n == 0 ? 0.0f : static_cast<float>(m0_add) / static_cast<float>(n);
  const __m256 cv = _mm256_set1_ps(c);
  const __m256 delta = _mm256_sub_ps(m1_add, m1);
  m1 = _mm256_add_ps(m1, _mm256_mul_ps(cv, delta));
  const __m256 t = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(delta, delta), cv), _mm256_set1_ps(static_cast<float>(m0)));
  m2 = _mm256_add_ps(m2, _mm256_add_ps(m2_add, t));
  m0 = n;
}
void add_moments(int64_t m0_add, float m1_add, float m2_add, int64_t& m0, float& m1, float& m2) {
  const int64_t n = m0 + m0_add;
  const float c = n == 0 ? 0.0f : static_cast<float>(m0_add) / static_cast<float>(n);
  const float delta = m1_add - m1;
  m1 = m1 + c * delta;
  m2 = m2 + (m2_add + delta * delta * c * static_cast<float>(m0));
  m0 = n;
}

int64_t ceil_log2(int64_t x) {  // utils::CeilLog2: 1 for x <= 2
  if (x <= 2) return 1;
  int64_t d = 0;
  for (uint64_t v = static_cast<uint64_t>(x - 1); v; v >>= 1) ++d;
  return d;
}

// RowwiseMoments(X, N): Welford on eight lanes in chunks of 16 vectors, the chunks merged in a
// binary cascade (a stack of depth ceil(log2(chunks))), the scalar tail by plain Welford, then the
// eight lanes merged into the tail's moments one by one. Returns (mean, biased variance).
std::pair<float, float> rowwise_moments(const float* X, int64_t N) {
  const int64_t n = N / kLanes, m = (n + kChunkSize - 1) / kChunkSize, depth = ceil_log2(m);
  int64_t m0_stk[64];  // depth <= 63: m < 2^63
  __m256 m1_stk[64], m2_stk[64];
  for (int64_t j = 0; j < depth; ++j) m0_stk[j] = 0, m1_stk[j] = m2_stk[j] = _mm256_setzero_ps();
  for (int64_t i = 0; i < m; ++i) {
    const float* Xp = X + i * kChunkSize * kLanes;
    const int64_t m0 = std::min(kChunkSize, n - i * kChunkSize);
    __m256 m1v = _mm256_setzero_ps(), m2v = _mm256_setzero_ps();
    for (int64_t j = 0; j < m0; ++j) {
      const __m256 xv = _mm256_loadu_ps(Xp + j * kLanes);
      const __m256 delta = _mm256_sub_ps(xv, m1v);
      m1v = _mm256_add_ps(m1v, _mm256_mul_ps(delta, _mm256_set1_ps(1.0f / static_cast<float>(j + 1))));
      m2v = _mm256_add_ps(m2v, _mm256_mul_ps(delta, _mm256_sub_ps(xv, m1v)));
    }
    add_moments_vec(m0, m1v, m2v, m0_stk[0], m1_stk[0], m2_stk[0]);
    int64_t mask = i + 1;
    for (int64_t j = 1; j < depth && (mask & 1) == 0; ++j) {
      add_moments_vec(m0_stk[j - 1], m1_stk[j - 1], m2_stk[j - 1], m0_stk[j], m1_stk[j], m2_stk[j]);
      m0_stk[j - 1] = 0;
      m1_stk[j - 1] = _mm256_setzero_ps();
      m2_stk[j - 1] = _mm256_setzero_ps();
      mask >>= 1;
    }
  }
  for (int64_t i = 1; i < depth; ++i) add_moments_vec(m0_stk[i], m1_stk[i], m2_stk[i], m0_stk[0], m1_stk[0], m2_stk[0]);
  alignas(32) float m1a[kLanes], m2a[kLanes];
  _mm256_store_ps(m1a, m1_stk[0]);
  _mm256_store_ps(m2a, m2_stk[0]);
  int64_t m0 = 0;
  float m1 = 0.0f, m2 = 0.0f;
  for (int64_t i = n * kLanes; i < N; ++i) {
    const float delta = X[i] - m1;
    ++m0;
    m1 += delta / static_cast<float>(m0);
    m2 += delta * (X[i] - m1);
  }
  for (int64_t l = 0; l < kLanes; ++l) add_moments(n, m1a[l], m2a[l], m0, m1, m2);
  return {m1, m2 / static_cast<float>(N)};
}

}  // namespace

// Rows are independent, and the thread count does not change what a row computes, so large inputs
// are shared among the threads (parallel.hpp) by rows — or, for dgamma and dbeta, whose sums run
// over the rows in order, by columns: each column is summed over all rows by one thread, in order.
void layer_norm_forward(const float* x, const float* gamma, const float* beta, int64_t R, int64_t C, float eps,
                        float* y, float* mean, float* rstd) {
  require_avx2();
  parallel::for_shares(R, min_rows(C), 1, [&](long r0, long r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const float* xr = x + i * C;
      float* yr = y + i * C;
      auto [mu, var] = rowwise_moments(xr, C);
      const float rs = 1.0f / std::sqrt(var + eps);
      const __m256 scale = _mm256_set1_ps(rs), bias = _mm256_set1_ps(-rs * mu);
      // vec::map3: (x * scale + bias) * gamma + beta, both fused
      auto f = [&](__m256 xv, __m256 gv, __m256 bv) {
        return _mm256_fmadd_ps(_mm256_fmadd_ps(xv, scale, bias), gv, bv);
      };
      int64_t j = 0;
      for (; j + kLanes <= C; j += kLanes)
        _mm256_storeu_ps(yr + j, f(_mm256_loadu_ps(xr + j), _mm256_loadu_ps(gamma + j), _mm256_loadu_ps(beta + j)));
      if (j < C) {
        const int64_t r = C - j;
        store_partial(yr + j, f(load_partial(xr + j, r), load_partial(gamma + j, r), load_partial(beta + j, r)), r);
      }
      if (mean) mean[i] = mu;
      if (rstd) rstd[i] = rs;
    }
  });
}

void layer_norm_backward(const float* dy, const float* x, const float* mean, const float* rstd, const float* gamma,
                         int64_t R, int64_t C, float* dx, float* dgamma, float* dbeta) {
  require_avx2();
  if (dgamma || dbeta) {  // columns [c0, c1), each summed over the rows in order
    const long min_cols = R * C >= parallel::kMinElements ? 0 : C + 1;
    parallel::for_shares(C, min_cols, 16, [&](long c0, long c1) {
      if (dgamma) std::fill(dgamma + c0, dgamma + c1, 0.0f);
      if (dbeta) std::fill(dbeta + c0, dbeta + c1, 0.0f);
      for (int64_t i = 0; i < R; ++i) {
        const float *dyr = dy + i * C, *xr = x + i * C;
        if (dgamma) {  // dgamma += dy * (a * x + b), b = -a * mean: both fused
          const float a = rstd[i], b = -a * mean[i];
          for (int64_t j = c0; j < c1; ++j) dgamma[j] = std::fma(dyr[j], std::fma(a, xr[j], b), dgamma[j]);
        }
        if (dbeta)
          for (int64_t j = c0; j < c1; ++j) dbeta[j] += dyr[j];
      }
    });
  }
  if (!dx) return;
  const float scale = 1.0f / static_cast<float>(C);
  parallel::for_shares(R, min_rows(C), 1, [&](long r0, long r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const float *dyr = dy + i * C, *xr = x + i * C;
      const float a = rstd[i];
      const float ds = sum_abc(dyr, xr, gamma, C);  // Σ dy · x · gamma
      const float db = sum_ab(dyr, gamma, C);       // Σ dy · gamma
      const float bb = (std::fma(db, mean[i], -ds) * a * a * a) * scale;
      const float cc = std::fma(-bb, mean[i], -(db * a * scale));
      // dx = a * dy * gamma + bb * x + cc: bb * x fused into the first sum
      float* dxr = dx + i * C;
      for (int64_t j = 0; j < C; ++j) dxr[j] = std::fma(bb, xr[j], (a * dyr[j]) * gamma[j]) + cc;
    }
  });
}

void softmax_backward_row(const float* dy, const float* y, float* dx, int64_t C) {
  require_avx2();
  const float s = sum_ab(dy, y, C);
  for (int64_t j = 0; j < C; ++j) dx[j] = (dy[j] - s) * y[j];
}

// The kernels.hpp names of the two above.
void layer_norm(const float* x, const float* gamma, const float* beta, int64_t R, int64_t C, float eps, float* y,
                float* mean, float* rstd) {
  layer_norm_forward(x, gamma, beta, R, C, eps, y, mean, rstd);
}
void softmax_backward(const float* dy, const float* y, float* dx, int64_t R, int64_t C) {
  parallel::for_shares(R, min_rows(C), 1, [&](long r0, long r1) {
    for (int64_t i = r0; i < r1; ++i) softmax_backward_row(dy + i * C, y + i * C, dx + i * C, C);
  });
}

}  // namespace z2h::kernels::exact
