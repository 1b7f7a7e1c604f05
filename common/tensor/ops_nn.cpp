// common/tensor/ops_nn.cpp — the row functions of neural nets: softmax, log_softmax, cross_entropy,
// layer_norm, batch_norm, dropout. softmax, log_softmax and cross_entropy compute their numbers with
// kernels (kernels/kernels.hpp: xtensor expressions, or PyTorch's own kernels in an exact build);
// layer_norm and batch_norm are loops over rows and columns.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common/rng/generator.hpp"
#include "common/tensor/kernels/kernels.hpp"
#include "common/tensor/ops_internal.hpp"
#include "common/tensor/parallel.hpp"

namespace z2h {
using namespace detail;


namespace {

void check_last_dim(const Tensor& x, int64_t dim, const char* op) {
  if (x.ndim() < 1 || wrap_dim(dim, x.ndim()) != x.ndim() - 1)
    throw std::invalid_argument(std::string(op) + ": only the last dimension is supported (got dim " +
                                std::to_string(dim) + " for shape " + x.shape().str() + ")");
}

// The backward rules, each defined right below its op.
void softmax_backward(Node& o);
void log_softmax_backward(Node& o);
void cross_entropy_backward(Node& o);
void layer_norm_backward(Node& o);
void batch_norm_backward(Node& o);
void dropout_backward(Node& o);

// x: (..., C) seen as rows × C
struct Rows {
  int64_t rows = 0, cols = 0;
  explicit Rows(const Shape& s) {
    cols = s[s.ndim() - 1];
    rows = cols ? s.numel() / cols : 0;
  }
};

}  // namespace

// ---- softmax over the last dimension ------------------------------------------------------------
// x: (..., C) -> (..., C), y = exp(x - max) / Σ exp(x - max)
Tensor softmax(const Tensor& x, int64_t dim) {
  check_last_dim(x, dim, "softmax");
  Tensor out = make_result(x.shape(), "softmax", {x}, softmax_backward);
  const Rows r(x.shape());
  kernels::softmax(x.data(), out.data(), r.rows, r.cols);
  save_for_backward(out, {out});
  return out;
}
namespace {
// dx += y * (dout - Σ_j dout_j y_j)   (row by row; the contribution formed whole, then added)
void softmax_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  const Rows r(o.shape);
  bool first;
  float* dx = x.node()->grad_data(&first);
  if (first) return kernels::softmax_backward(o.grad.data(), o.data(), dx, r.rows, r.cols);
  std::vector<float> t(static_cast<size_t>(r.rows * r.cols));
  kernels::softmax_backward(o.grad.data(), o.data(), t.data(), r.rows, r.cols);
  for (size_t i = 0; i < t.size(); ++i) dx[i] += t[i];
}
}  // namespace

// ---- log_softmax over the last dimension -----------------------------------------------------
// x: (..., C) -> (..., C), y = x - max - log Σ exp(x - max)
Tensor log_softmax(const Tensor& x, int64_t dim) {
  check_last_dim(x, dim, "log_softmax");
  Tensor out = make_result(x.shape(), "log_softmax", {x}, log_softmax_backward);
  const Rows r(x.shape());
  kernels::log_softmax(x.data(), out.data(), r.rows, r.cols);
  save_for_backward(out, {out});
  return out;
}
namespace {
// dx += dout - exp(y) * Σ_j dout_j   (row by row)
void log_softmax_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  const Rows r(o.shape);
  bool first;
  float* dx = x.node()->grad_data(&first);
  kernels::log_softmax_backward(o.grad.data(), o.data(), dx, r.rows, r.cols, first);
}
}  // namespace

// ---- cross_entropy: log_softmax, then the negative log-likelihood ---------------------------
// logits: (N, C), targets: (N) -> 0-D mean over the counted rows of  -log softmax(logits)[target].
// Rows whose target is ignore_index count for nothing. Stable: exp(x - max) never overflows.
// As F.cross_entropy in PyTorch 1.13 it is nll_loss(log_softmax(logits)).
namespace {
struct CrossEntropySaved {
  Tensor logp;         // log_softmax(logits), (N, C)
  LongTensor targets;  // (N)
  int64_t ignore_index;
  float count;  // the rows that count
};
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
  Tensor out = make_result(Shape{}, "cross_entropy", {logits}, cross_entropy_backward);
  Tensor logp = empty(Shape{N, C});
  kernels::log_softmax(logits.data(), logp.data(), N, C);
  out.data()[0] = kernels::nll_sum(logp.data(), targets.data.data(), N, C, ignore_index) / static_cast<float>(count);
  save_for_backward(out, CrossEntropySaved{logp, targets, ignore_index, static_cast<float>(count)});
  return out;
}
namespace {
// dlogits += (dout / count) · (softmax(logits) - onehot(targets))   (0 for ignored rows)
void cross_entropy_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  bool first;
  float* dx = x.node()->grad_data(&first);
  const CrossEntropySaved& s = saved<CrossEntropySaved>(o);
  kernels::nll_log_softmax_backward(s.logp.data(), s.targets.data.data(), o.grad.data()[0] / s.count, dx,
                                    x.size(0), x.size(1), s.ignore_index, first);
}
}  // namespace

// ---- layer_norm over the last dimension ----------------------------------------------------------
// x: (..., C), weight, bias: (C) -> (..., C).   For each row: mean μ, biased variance σ²,
// rstd = 1 / sqrt(σ² + eps), out = (x - μ) · rstd · weight + bias.
namespace {
struct NormSaved {
  Tensor stats;  // layer_norm: (2, rows), each row's μ then each row's rstd; batch_norm: (2, C), μ then σ
  float eps = 0;
};
void layer_norm_recompute(Node& o);
}  // namespace
// A LayerNorm output of at least this many elements (8 MB: gpt.py's (64, 256, 384) activations, and
// the (32, 256, 384) of each of its 2 replicas (07-gpt --replicas) or ranks) is
// not kept for the next op's backward but recomputed when that backward reads it (Node::recompute in
// autograd.hpp): one more LayerNorm forward per backward, one activation less in memory.
constexpr int64_t kRecomputeLayerNormFrom = int64_t{1} << 21;

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  const int64_t C = x.size(-1), R = C ? x.numel() / C : 0;
  if (weight.numel() != C || bias.numel() != C)
    throw std::invalid_argument("layer_norm: weight " + weight.shape().str() + " and bias " +
                                bias.shape().str() + " must have the size of the last dim of " + x.shape().str());
  Tensor out = make_result(x.shape(), "layer_norm", {x, weight, bias}, layer_norm_backward);
  Tensor stats = empty(Shape{2, R});  // means, then rstds
  kernels::layer_norm(x.data(), weight.data(), bias.data(), R, C, eps, out.data(), stats.data(), stats.data() + R);
  save_for_backward(out, NormSaved{stats, eps});
  if (out.node()->backward_fn && out.numel() >= kRecomputeLayerNormFrom) {
    out.node()->recompute = layer_norm_recompute;
    save_for_backward(out, {x, weight, bias});
  } else {
    save_for_backward(out, {x, weight});
  }
  return out;
}
namespace {
// The output again, from the input and the parameters this node saved: the forward's kernel, so the
// same bits (its statistics, the same too, go to a scratch buffer).
void layer_norm_recompute(Node& o) {
  const Tensor &x = o.inputs[0], &w = o.inputs[1], &b = o.inputs[2];
  const int64_t C = x.size(-1), R = C ? x.numel() / C : 0;
  thread_local std::vector<float> stats;
  stats.resize(static_cast<size_t>(2 * R));
  o.allocate_numbers();
  kernels::layer_norm(x.data(), w.data(), b.data(), R, C, saved<NormSaved>(o).eps, o.storage->data, stats.data(),
                      stats.data() + R);
}
// dx = rstd · (dout·weight − mean(dout·weight) − x̂ · mean(dout·weight·x̂)), dweight = Σ_rows dout · x̂,
// dbias = Σ_rows dout; each gradient computed whole, then added to the input's, as autograd does.
void layer_norm_backward(Node& o) {
  const Tensor &x = o.inputs[0], &w = o.inputs[1], &b = o.inputs[2];
  const int64_t C = x.size(-1), R = C ? x.numel() / C : 0;
  const float* st = saved<NormSaved>(o).stats.data();
  const bool want_dx = x.requires_grad(), want_dw = w.requires_grad(), want_db = b.requires_grad();
  thread_local std::vector<float> tmp;
  tmp.resize(static_cast<size_t>((want_dx ? R * C : 0) + 2 * C));
  float *tdx = want_dx ? tmp.data() : nullptr, *tdw = tmp.data() + (want_dx ? R * C : 0), *tdb = tdw + C;
  kernels::layer_norm_backward(o.grad.data(), x.data(), st, st + R, w.data(), R, C, tdx, want_dw ? tdw : nullptr,
                               want_db ? tdb : nullptr);
  auto add_into = [](const Tensor& t, const float* v, int64_t n) {
    bool first;
    float* g = t.node()->grad_data(&first);
    if (first) std::copy_n(v, n, g);
    else for (int64_t i = 0; i < n; ++i) g[i] += v[i];
  };
  if (want_dx) add_into(x, tdx, R * C);
  if (want_dw) add_into(w, tdw, C);
  if (want_db) add_into(b, tdb, C);
}
}  // namespace

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
  Tensor out = make_result(x.shape(), "batch_norm", {x, gamma, beta}, batch_norm_backward);
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
  save_for_backward(out, NormSaved{st, eps});
  save_for_backward(out, {x, gamma});
  if (stats) {
    stats->mean = tensor(std::vector<float>(mu, mu + C), Shape{C});
    stats->var = tensor(std::move(var), Shape{C});
  }
  return out;
}
namespace {
void batch_norm_backward(Node& o) {
  const Tensor &x = o.inputs[0], &gm = o.inputs[1], &bt = o.inputs[2];
  const int64_t C = x.size(-1), R = x.numel() / C;
  const float *xv = x.data(), *g = o.grad.data(), *gv = gm.data();
  const float *mu = saved<NormSaved>(o).stats.data(), *sd = mu + C;
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
}
}  // namespace

// ---- dropout -------------------------------------------------------------------------------
// As PyTorch's CPU dropout: noise = bernoulli(1 - p) / (1 - p); out = x * noise.  dx += dout * noise
// p is a double, as nn.Dropout's Python float: bernoulli_ compares its draws with 1 - p in double
// (1 - 0.2 is 0.8, where 1 - 0.2f is 0.79999999702, which keeps one draw in 3·10^8 less). The
// noise takes two values, 0 and the float 1 / (1 - p), so the graph keeps which elements were
// kept, one bit each (bernoulli_bits writes them 64 at a time) — a 32nd of the float tensor PyTorch
// keeps — and each element is multiplied by the same float as with the tensor: the same bits,
// forward and backward. The mask is drawn on the calling thread (one random stream); applying it
// is shared among the threads, in whole 64-bit words.
namespace {
struct DropoutSaved {
  std::vector<uint64_t> kept;  // bit i: element i of x was kept
  float scale;                 // 1 / (1 - p): a kept element's noise
  float noise(int64_t i) const { return bit_at(kept.data(), i) ? scale : 0.0f; }
};
}  // namespace
Tensor dropout(const Tensor& x, double p, bool training, Generator& g) {
  if (!(p >= 0.0 && p <= 1.0)) throw std::invalid_argument("dropout: p must be in [0, 1], got " + std::to_string(p));
  if (!training || p == 0.0) return x;
  const int64_t n = x.numel();
  DropoutSaved mask{std::vector<uint64_t>(static_cast<size_t>((n + 63) / 64), 0), p == 1.0 ? 0.0f : 1.0f / static_cast<float>(1.0 - p)};
  if (p < 1.0)  // p == 1 draws nothing and keeps nothing
    bernoulli_bits(mask.kept.data(), 0, static_cast<size_t>(n), 1.0 - p, g);
  Tensor out = make_result(x.shape(), "dropout", {x}, dropout_backward);
  const float* xv = x.data();
  float* y = out.data();
  parallel::for_shares(n, parallel::kMinElements, 64, [&](long begin, long end) {
    for (long i = begin; i < end; ++i) y[i] = xv[i] * mask.noise(i);
  });
  save_for_backward(out, std::move(mask));
  return out;
}
namespace {
void dropout_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  const DropoutSaved& mask = saved<DropoutSaved>(o);
  float* dx = x.node()->grad_data();
  const float* g = o.grad.data();
  parallel::for_shares(x.numel(), parallel::kMinElements, 64, [&](long begin, long end) {
    for (long i = begin; i < end; ++i) dx[i] += g[i] * mask.noise(i);
  });
}
}  // namespace

Tensor dropout(const Tensor& x, double p, bool training) { return dropout(x, p, training, default_generator()); }

}  // namespace z2h
