// common/tensor/kernels/exact/rows.cpp — softmax, log_softmax and the negative log-likelihood as
// PyTorch 1.13's CPU kernels compute them, bit for bit: SLEEF's exp and log in ATen's loop order
// (vec_math.hpp), row sums in vec::reduce_all's lane order, nll_loss's cascade sum, and the FMAs
// that GCC contracts in torch's binary made explicit.
#include <algorithm>
#include <cmath>
#include <vector>

#include "common/tensor/kernels/exact/exact.hpp"
#include "common/tensor/parallel.hpp"

namespace z2h::kernels::exact {

namespace {

// PyTorch's log_softmax over rows (cpu/SoftMaxKernel.cpp, _vec_log_softmax_lastdim), bit for bit:
// the row max; Σ exp(x - max) with 8 lane accumulators and vec_reduce_all's fold; SLEEF's log of
// that sum; then (x - max) - log_sum, in that order (adding max and log_sum first would round
// differently). y: R rows of C.
void log_softmax_rows(const float* x, float* y, int64_t R, int64_t C) {
  thread_local std::vector<float> stats;  // per row: max, then Σ exp (turned into its log)
  stats.resize(static_cast<size_t>(2 * R));
  float *mx = stats.data(), *log_sum = stats.data() + R;
  // exp(x - max) of all rows in one pass through y (SLEEF works lane by lane, so this gives the
  // numbers map_reduce_all sums), then each row's sum in its lane order.
  for (int64_t i = 0; i < R; ++i) {
    const float* xr = x + i * C;
    float* yr = y + i * C;
    mx[i] = vec::reduce_max(xr, C);
    for (int64_t j = 0; j < C; ++j) yr[j] = xr[j] - mx[i];
  }
  vec::exp(y, y, R * C);
  for (int64_t i = 0; i < R; ++i) log_sum[i] = vec::reduce_sum(y + i * C, C);
  vec::log(log_sum, log_sum, R);  // all rows' logs in one pass, as the kernel does per chunk
  for (int64_t i = 0; i < R; ++i) {
    const float *xr = x + i * C, m = mx[i], l = log_sum[i];
    float* yr = y + i * C;
    for (int64_t j = 0; j < C; ++j) yr[j] = (xr[j] - m) - l;
  }
}

// dx += g - exp(y) * Σ g, row by row: PyTorch's _vec_host_softmax_backward_lastdim<log_softmax>
// (cpu/SoftMaxKernel.cpp): Σ g by vec::reduce_all, exp by SLEEF, and x - exp(y) * sum contracted
// by GCC into one FMA (checked against torch 1.13.1: the unfused form is 1 ulp off in ~5%).
// e: scratch of C floats.
void log_softmax_backward_row(const float* g, const float* y, float* dx, float* e, int64_t C, bool first) {
  const float s = vec::reduce_sum(g, C);
  vec::exp(y, e, C);
  if (first) for (int64_t j = 0; j < C; ++j) dx[j] = std::fma(-e[j], s, g[j]);
  else for (int64_t j = 0; j < C; ++j) dx[j] += std::fma(-e[j], s, g[j]);
}

// Rows are independent: large inputs are shared among the threads by rows (parallel.hpp), each
// share computed exactly as it would be alone. min_rows: the rows of `cols` below which a kernel
// stays on the calling thread.
long min_rows(int64_t cols) { return std::max<long>(1, parallel::kMinElements / std::max<int64_t>(cols, 1)); }

}  // namespace

void log_softmax(const float* x, float* y, int64_t rows, int64_t cols) {
  parallel::for_shares(rows, min_rows(cols), 1, [&](long r0, long r1) {
    log_softmax_rows(x + r0 * cols, y + r0 * cols, r1 - r0, cols);
  });
}

// PyTorch's _vec_softmax_lastdim (cpu/SoftMaxKernel.cpp): SLEEF's exp(x - max), their sum in
// vec::reduce_all's order, then a multiply by 1 / sum.
void softmax(const float* x, float* y, int64_t rows, int64_t cols) {
  parallel::for_shares(rows, min_rows(cols), 1, [&](long r0, long r1) {
    for (int64_t i = r0; i < r1; ++i) vec::softmax_row(x + i * cols, y + i * cols, cols);
  });
}

// dx (+)= dy - exp(y) * Σ dy, one row at a time (log_softmax_backward_row above).
void log_softmax_backward(const float* dy, const float* y, float* dx, int64_t rows, int64_t cols, bool first) {
  parallel::for_shares(rows, min_rows(cols), 1, [&](long r0, long r1) {
    thread_local std::vector<float> e;
    e.resize(static_cast<size_t>(cols));
    for (int64_t i = r0; i < r1; ++i)
      log_softmax_backward_row(dy + i * cols, y + i * cols, dx + i * cols, e.data(), cols, first);
  });
}

// -Σ v[b] over the rows that count, in nll_loss_out_frame's order (native/LossNLL.cpp): 8 partial
// sums; after adding row b, level j is flushed into level j + 1 while b's low 4·(j+1) bits are 0
// (so row 0 moves straight to the top, then rows 1..16, 17..32, ... form blocks of 16); at the end
// the levels are added from level 0 up.
float nll_sum(const float* y, const int64_t* targets, int64_t N, int64_t C, int64_t ignore_index) {
  constexpr int kLevels = 8;
  const int64_t ceil_log2 = N <= 2 ? 1 : 64 - __builtin_clzll(static_cast<uint64_t>(N - 1));
  const int64_t level_power = std::max<int64_t>(4, ceil_log2 / kLevels);
  const int64_t level_mask = (int64_t{1} << level_power) - 1;
  float partial[kLevels] = {};
  for (int64_t b = 0; b < N; ++b) {
    const int64_t t = targets[b];
    if (t == ignore_index) continue;
    partial[0] -= y[b * C + t];
    for (int j = 0; j + 1 < kLevels; ++j) {
      if ((b & (level_mask << (j * level_power))) != 0) break;
      partial[j + 1] += partial[j];
      partial[j] = 0.0f;
    }
  }
  float total = 0.0f;
  for (float p : partial) total += p;
  return total;
}

// As cross_entropy's backward in PyTorch: nll_loss's gradient is g at [i, t_i] and 0 elsewhere
// (nll_loss_backward_out_frame), then log_softmax's backward, which for such a row is
// dx = onehot·gn - exp(y)·gn with gn = -g; each element is fma(-exp(y), gn, 0 or gn), as GCC
// contracts it.
void nll_log_softmax_backward(const float* logp, const int64_t* targets, float g, float* dx, int64_t rows,
                              int64_t cols, int64_t ignore_index, bool first) {
  const float gn = -g;  // nll_loss's gradient at the target: -(dout / count)
  parallel::for_shares(rows, min_rows(cols), 1, [&](long r0, long r1) {
    thread_local std::vector<float> e;
    e.resize(static_cast<size_t>((r1 - r0) * cols));
    vec::exp(logp + r0 * cols, e.data(), (r1 - r0) * cols);  // exp(y), all the share's rows at once
    for (int64_t i = r0; i < r1; ++i) {
      const int64_t t = targets[i];
      float* d = dx + i * cols;
      const float* er = e.data() + (i - r0) * cols;
      if (t == ignore_index) {  // its nll gradient row is 0, and so is log_softmax's
        if (first) std::fill_n(d, cols, 0.0f);
        continue;
      }
      if (first) {
        for (int64_t j = 0; j < cols; ++j) d[j] = std::fma(-er[j], gn, 0.0f);
        d[t] = std::fma(-er[t], gn, gn);
      } else {
        for (int64_t j = 0; j < cols; ++j) d[j] += std::fma(-er[j], gn, j == t ? gn : 0.0f);
      }
    }
  });
}

}  // namespace z2h::kernels::exact
