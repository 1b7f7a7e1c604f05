// common/tensor/ops_nn.cpp — the row kernels of neural nets: softmax, log_softmax, cross_entropy,
// layer_norm, batch_norm, dropout. Hand-written loops over raw pointers (xtensor views in inner
// loops are 5-30x slower, TOOLCHAIN.md pitfall #6); exp and log are PyTorch's own SLEEF functions
// in PyTorch's loop order (vec_math.hpp), so softmax, log_softmax and cross_entropy give its bits.
// g++ 12 reports xsimd's AVX-512 exp/tanh as -Wuninitialized in sanitizer builds (the
// _mm512_undefined_* idiom of its own <avx512fintrin.h>): a false positive, silenced for this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common/rng/generator.hpp"
#include "common/tensor/ops_internal.hpp"
#include "common/tensor/kernels/exact/layer_norm.hpp"
#include "common/tensor/kernels/exact/vec_math.hpp"

namespace z2h {
using namespace detail;

namespace {

void check_last_dim(const Tensor& x, int64_t dim, const char* op) {
  if (x.ndim() < 1 || wrap_dim(dim, x.ndim()) != x.ndim() - 1)
    throw std::invalid_argument(std::string(op) + ": only the last dimension is supported (got dim " +
                                std::to_string(dim) + " for shape " + x.shape().str() + ")");
}

thread_local std::vector<float> scratch;
float* scratch_of(int64_t n) {
  if (scratch.size() < static_cast<size_t>(n)) scratch.resize(static_cast<size_t>(n));
  return scratch.data();
}

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

}  // namespace

// ---- softmax over the last dimension ------------------------------------------------------------
// x: (..., C) -> (..., C), y = exp(x - max) / Σ exp(x - max).   dx += y * (dout - Σ_j dout_j y_j)
Tensor softmax(const Tensor& x, int64_t dim) {
  check_last_dim(x, dim, "softmax");
  const int64_t C = x.size(-1), R = C ? x.numel() / C : 0;
  Tensor out = make_result(x.shape(), "softmax", {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (!x.requires_grad()) return;
    const int64_t C = o.shape[o.shape.ndim() - 1], R = C ? o.shape.numel() / C : 0;
    bool first;
    float* dx = x.node()->grad_data(&first);
    const float *g = o.grad.data(), *y = o.data;
    float* row = scratch_of(C);
    for (int64_t i = 0; i < R; ++i) {  // PyTorch's rows (kernels/exact/layer_norm.hpp), then added
      kernels::exact::softmax_backward_row(g + i * C, y + i * C, first ? dx + i * C : row, C);
      if (!first) for (int64_t j = 0; j < C; ++j) dx[i * C + j] += row[j];
    }
  });
  // The forward is PyTorch's _vec_softmax_lastdim (cpu/SoftMaxKernel.cpp) to the bit: SLEEF's
  // exp(x - max), their sum in vec::reduce_all's order, then a multiply by 1 / sum.
  const float* xv = x.data();
  float* y = out.data();
  for (int64_t i = 0; i < R; ++i) {
    const float* xr = xv + i * C;
    const float inv = 1.0f / vec::sum_exp_minus(xr, vec::reduce_max(xr, C), C, y + i * C);
    for (int64_t j = 0; j < C; ++j) y[i * C + j] *= inv;
  }
  return out;
}

// ---- log_softmax over the last dimension -----------------------------------------------------
// x: (..., C) -> (..., C), y = x - max - log Σ exp(x - max).   dx += dout - exp(y) * Σ_j dout_j
// Both directions are PyTorch's kernels to the bit (log_softmax_rows, log_softmax_backward_row).
Tensor log_softmax(const Tensor& x, int64_t dim) {
  check_last_dim(x, dim, "log_softmax");
  const int64_t C = x.size(-1), R = C ? x.numel() / C : 0;
  Tensor out = make_result(x.shape(), "log_softmax", {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (!x.requires_grad()) return;
    const int64_t C = o.shape[o.shape.ndim() - 1], R = C ? o.shape.numel() / C : 0;
    bool first;
    float* dx = x.node()->grad_data(&first);
    float* e = scratch_of(C);
    for (int64_t i = 0; i < R; ++i)
      log_softmax_backward_row(o.grad.data() + i * C, o.data + i * C, dx + i * C, e, C, first);
  });
  log_softmax_rows(x.data(), out.data(), R, C);
  return out;
}

// ---- cross_entropy: log_softmax, then the negative log-likelihood ---------------------------
// logits: (N, C), targets: (N) -> 0-D mean over the counted rows of  -log softmax(logits)[target].
// Rows whose target is ignore_index count for nothing. Stable: exp(x - max) never overflows.
// As F.cross_entropy in PyTorch 1.13 it is nll_loss(log_softmax(logits)), and both halves are
// PyTorch's kernels bit for bit, forward and backward:
//   forward: y = log_softmax_rows(logits); loss = -Σ y[i, t_i] / count, the sum in nll_loss's
//            cascade order (below);
//   backward: nll_loss's grad is g = -(dout / count) at [i, t_i] and 0 elsewhere; then
//            log_softmax's backward, which for such a row is dx = g·[j == t] - exp(y) · g.
// node: saved = y (N, C), index = targets, ints[0] = ignore_index, floats[0] = count.
namespace {
// -Σ v[b] over the rows that count, in nll_loss_out_frame's order (native/LossNLL.cpp): 8 partial
// sums; after adding row b, level j is flushed into level j + 1 while b's low 4·(j+1) bits are 0
// (so row 0 moves straight to the top, then rows 1..16, 17..32, ... form blocks of 16); at the end
// the levels are added from level 0 up.
float nll_cascade_sum(const float* y, const LongTensor& targets, int64_t C, int64_t ignore_index) {
  constexpr int kLevels = 8;
  const int64_t N = static_cast<int64_t>(targets.data.size());
  const int64_t ceil_log2 = N <= 2 ? 1 : 64 - __builtin_clzll(static_cast<uint64_t>(N - 1));
  const int64_t level_power = std::max<int64_t>(4, ceil_log2 / kLevels);
  const int64_t level_mask = (int64_t{1} << level_power) - 1;
  float partial[kLevels] = {};
  for (int64_t b = 0; b < N; ++b) {
    const int64_t t = targets.data[static_cast<size_t>(b)];
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
}  // namespace

Tensor cross_entropy(const Tensor& logits, const LongTensor& targets, int64_t ignore_index) {
  if (logits.ndim() != 2 || targets.ndim() != 1 || targets.shape[0] != logits.size(0))
    throw std::invalid_argument("cross_entropy: expected logits (N, C) and targets (N), got " +
                                logits.shape().str() + " and " + targets.shape.str());
  const int64_t N = logits.size(0), C = logits.size(1);
  int64_t count = 0;
  for (int64_t t : targets.data) {
    if (t == ignore_index) continue;
    if (t < 0 || t >= C)
      throw std::out_of_range("cross_entropy: target " + std::to_string(t) + " is out of bounds for " +
                              std::to_string(C) + " classes");
    ++count;
  }
  Tensor out = make_result(Shape{}, "cross_entropy", {logits}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (!x.requires_grad()) return;
    const int64_t N = x.size(0), C = x.size(1), ignore = o.ints[0];
    const float g = -(o.grad.data()[0] / o.floats[0]);  // nll_loss_backward_out_frame
    bool first;
    float* dx = x.node()->grad_data(&first);
    float* e = scratch_of(N * C);
    vec::exp(o.saved.data(), e, N * C);  // exp(y), all rows at once
    for (int64_t i = 0; i < N; ++i) {
      const int64_t t = o.index.data[static_cast<size_t>(i)];
      float* d = dx + i * C;
      const float* er = e + i * C;
      if (t == ignore) {  // its nll gradient row is 0, and so is log_softmax's
        if (first) std::fill_n(d, C, 0.0f);
        continue;
      }
      // the row's nll gradient sums to g (one non-zero), so each element is fma(-exp(y), g, 0 or g)
      if (first) {
        for (int64_t j = 0; j < C; ++j) d[j] = std::fma(-er[j], g, 0.0f);
        d[t] = std::fma(-er[t], g, g);
      } else {
        for (int64_t j = 0; j < C; ++j) d[j] += std::fma(-er[j], g, j == t ? g : 0.0f);
      }
    }
  });
  Tensor y = empty(Shape{N, C});
  log_softmax_rows(logits.data(), y.data(), N, C);
  out.data()[0] = nll_cascade_sum(y.data(), targets, C, ignore_index) / static_cast<float>(count);
  if (Node* n = out.node(); n->backward_fn) {
    n->saved = y;
    n->index = targets;
    n->ints[0] = ignore_index;
    n->floats[0] = static_cast<float>(count);
  }
  return out;
}

// ---- layer_norm over the last dimension ----------------------------------------------------------
// x: (..., C), weight, bias: (C) -> (..., C).   For each row: mean μ, biased variance σ²,
// rstd = 1 / sqrt(σ² + eps), out = (x - μ) · rstd · weight + bias; backward:
// dx = rstd · (dout·weight - mean(dout·weight) - xhat · mean(dout·weight·xhat)),
// dweight = Σ_rows dout · xhat, dbias = Σ_rows dout.   Both directions are PyTorch's CPU kernel to
// the bit (kernels/exact/layer_norm.hpp: Welford statistics, its fused multiply-adds); each
// gradient is computed whole, then added to the input's, as autograd does.
// node: saved = (μ, rstd) per row.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  const int64_t C = x.size(-1), R = C ? x.numel() / C : 0;
  if (weight.numel() != C || bias.numel() != C)
    throw std::invalid_argument("layer_norm: weight " + weight.shape().str() + " and bias " +
                                bias.shape().str() + " must have the size of the last dim of " + x.shape().str());
  Tensor out = make_result(x.shape(), "layer_norm", {x, weight, bias}, [](Node& o) {
    const Tensor &x = o.inputs[0], &w = o.inputs[1], &b = o.inputs[2];
    const int64_t C = x.size(-1), R = C ? x.numel() / C : 0;
    const float* st = o.saved.data();
    const bool want_dx = x.requires_grad(), want_dw = w.requires_grad(), want_db = b.requires_grad();
    thread_local std::vector<float> tmp;
    tmp.resize(static_cast<size_t>((want_dx ? R * C : 0) + 2 * C));
    float *tdx = want_dx ? tmp.data() : nullptr, *tdw = tmp.data() + (want_dx ? R * C : 0), *tdb = tdw + C;
    kernels::exact::layer_norm_backward(o.grad.data(), x.data(), st, st + R, w.data(), R, C, tdx,
                                        want_dw ? tdw : nullptr, want_db ? tdb : nullptr);
    auto add_into = [](const Tensor& t, const float* v, int64_t n) {
      bool first;
      float* g = t.node()->grad_data(&first);
      if (first) std::copy_n(v, n, g);
      else for (int64_t i = 0; i < n; ++i) g[i] += v[i];
    };
    if (want_dx) add_into(x, tdx, R * C);
    if (want_dw) add_into(w, tdw, C);
    if (want_db) add_into(b, tdb, C);
  });
  Tensor stats = empty(Shape{2, R});  // means, then rstds
  kernels::exact::layer_norm_forward(x.data(), weight.data(), bias.data(), R, C, eps, out.data(), stats.data(),
                                     stats.data() + R);
  if (out.node()->backward_fn) out.node()->saved = stats;
  return out;
}

// ---- batch_norm (lecture 4/6 BatchNorm1d, training mode) ---------------------------------------
// x: (N, C) or (N, L, C), seen as R rows of C; gamma, beta: (C) -> x's shape.
// Per column: μ = mean, v = Σ (x - μ)² / (R - 1) (Bessel, as x.var(0) in the lecture), σ = sqrt(v + eps),
// xhat = (x - μ) / σ, out = gamma * xhat + beta.   Backward (lecture 5, "fast BN backward"):
// dxhat = dout * gamma;  dx += (dxhat - mean(dxhat) - xhat * Σ(dxhat * xhat) / (R - 1)) / σ;
// dgamma += Σ_rows dout * xhat;  dbeta += Σ_rows dout.       node: saved = (μ, σ) per column.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, BatchStats* stats) {
  if (x.ndim() != 2 && x.ndim() != 3)
    throw std::invalid_argument("batch_norm: expected (N, C) or (N, L, C), got " + x.shape().str());
  const int64_t C = x.size(-1), R = C ? x.numel() / C : 0;
  if (gamma.numel() != C || beta.numel() != C)
    throw std::invalid_argument("batch_norm: gamma " + gamma.shape().str() + " / beta " + beta.shape().str() +
                                " must have C = " + std::to_string(C) + " elements");
  if (R < 2) throw std::invalid_argument("batch_norm: the unbiased variance needs at least 2 rows, got " + x.shape().str());
  Tensor out = make_result(x.shape(), "batch_norm", {x, gamma, beta}, [](Node& o) {
    const Tensor &x = o.inputs[0], &gm = o.inputs[1], &bt = o.inputs[2];
    const int64_t C = x.size(-1), R = x.numel() / C;
    const float *xv = x.data(), *g = o.grad.data(), *gv = gm.data();
    const float *mu = o.saved.data(), *sd = o.saved.data() + C;
    std::vector<float> sum_d(static_cast<size_t>(C), 0.0f), sum_dx(static_cast<size_t>(C), 0.0f);
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < C; ++j) {
        const float xhat = (xv[i * C + j] - mu[j]) / sd[j];
        sum_d[static_cast<size_t>(j)] += g[i * C + j];
        sum_dx[static_cast<size_t>(j)] += g[i * C + j] * xhat;
      }
    if (gm.requires_grad()) {
      float* dg = gm.node()->grad_data();
      for (int64_t j = 0; j < C; ++j) dg[j] += sum_dx[static_cast<size_t>(j)];
    }
    if (bt.requires_grad()) {
      float* db = bt.node()->grad_data();
      for (int64_t j = 0; j < C; ++j) db[j] += sum_d[static_cast<size_t>(j)];
    }
    if (!x.requires_grad()) return;
    float* dx = x.node()->grad_data();
    const float n = static_cast<float>(R);
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < C; ++j) {
        const size_t u = static_cast<size_t>(j);
        const float xhat = (xv[i * C + j] - mu[j]) / sd[j];
        dx[i * C + j] += gv[j] / sd[j] *
                         (g[i * C + j] - sum_d[u] / n - xhat * sum_dx[u] / (n - 1.0f));
      }
  });
  std::vector<double> s(static_cast<size_t>(C), 0.0), ss(static_cast<size_t>(C), 0.0);
  const float* xv = x.data();
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < C; ++j) s[static_cast<size_t>(j)] += xv[i * C + j];
  Tensor st = empty(Shape{2, C});  // row 0: mean, row 1: sqrt(var + eps)
  std::vector<float> var(static_cast<size_t>(C));
  for (int64_t j = 0; j < C; ++j) st.data()[j] = static_cast<float>(s[static_cast<size_t>(j)] / static_cast<double>(R));
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < C; ++j) {
      const double d = static_cast<double>(xv[i * C + j]) - s[static_cast<size_t>(j)] / static_cast<double>(R);
      ss[static_cast<size_t>(j)] += d * d;
    }
  for (int64_t j = 0; j < C; ++j) {
    var[static_cast<size_t>(j)] = static_cast<float>(ss[static_cast<size_t>(j)] / static_cast<double>(R - 1));
    st.data()[C + j] = std::sqrt(var[static_cast<size_t>(j)] + eps);
  }
  const float *gv = gamma.data(), *bv = beta.data(), *mu = st.data(), *sd = st.data() + C;
  float* y = out.data();
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < C; ++j) y[i * C + j] = gv[j] * ((xv[i * C + j] - mu[j]) / sd[j]) + bv[j];
  if (out.node()->backward_fn) out.node()->saved = st;
  if (stats) {
    stats->mean = tensor(std::vector<float>(mu, mu + C), Shape{C});
    stats->var = tensor(std::move(var), Shape{C});
  }
  return out;
}

// ---- dropout -------------------------------------------------------------------------------
// As PyTorch's CPU dropout: noise = bernoulli(1 - p) / (1 - p); out = x * noise.  dx += dout * noise
Tensor dropout(const Tensor& x, float p, bool training, Generator& g) {
  if (p < 0.0f || p > 1.0f) throw std::invalid_argument("dropout: p must be in [0, 1], got " + std::to_string(p));
  if (!training || p == 0.0f) return x;
  Tensor noise = empty(x.shape());
  if (p == 1.0f) {
    std::fill_n(noise.data(), noise.numel(), 0.0f);
  } else {
    bernoulli_(noise.data(), static_cast<size_t>(noise.numel()), 1.0 - static_cast<double>(p), g);
    flat(noise) = flat(noise) / (1.0f - p);
  }
  Tensor out = make_result(x.shape(), "dropout", {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (x.requires_grad()) flat(x.node()->grad_data(), x.numel()) += flat(o.grad) * flat(o.saved);
  });
  flat(out) = flat(x) * flat(noise);
  if (out.node()->backward_fn) out.node()->saved = noise;
  return out;
}

Tensor dropout(const Tensor& x, float p, bool training) { return dropout(x, p, training, default_generator()); }

}  // namespace z2h
