#include "wavenet.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "common/app/error.hpp"
#include "common/rng/generator.hpp"
#include "common/tensor/autograd.hpp"
#include "common/tensor/kernels/kernels.hpp"
#include "common/tensor/ops.hpp"
#include "common/data/sample_names.hpp"

namespace stage06 {

namespace nn = z2h::nn;
using z2h::LongTensor;
using z2h::Shape;
using z2h::Tensor;

// ================================================================================================
// the performance log
// ================================================================================================
const std::vector<Variant>& variants() {
  static const std::vector<Variant> v = {
      {"original", {27, 3, 10, 200, false, true}, "original (3 character context + 200 hidden neurons, 12K params)", "12K",
       2.058, 2.105},
      {"context8", {27, 8, 10, 200, false, true}, "context: 3 -> 8 (22K params)", "22K", 1.918, 2.027},
      {"hierarchical", {27, 8, 10, 68, true, false}, "flat -> hierarchical (22K params)", "22K", 1.941, 2.029},
      {"bnfix", {27, 8, 10, 68, true, true}, "fix bug in batchnorm", "22K", 1.912, 2.022},
      {"scaled", {27, 8, 24, 128, true, true}, "scale up the network: n_embd 24, n_hidden 128 (76K params)", "76K", 1.769,
       1.993},
  };
  return v;
}

const Variant& find_variant(const std::string& name) {
  for (const Variant& v : variants())
    if (v.name == name) return v;
  throw z2h::UserError("unknown --variant '" + name + "' (choose original, context8, hierarchical, bnfix or scaled)");
}

// ================================================================================================
// BatchNorm1d (cell 7)
// ================================================================================================
BatchNorm1d::BatchNorm1d(int64_t dim, bool fixed, int64_t positions, float eps, float momentum)
    : fixed(fixed), eps(eps), momentum(momentum) {
  gamma = z2h::ones({dim}).requires_grad_();
  beta = z2h::zeros({dim}).requires_grad_();
  // The notebook starts them as (dim) and lets broadcasting grow them; zeros/ones of the grown
  // shape hold the same numbers.
  const Shape s = fixed || positions == 1 ? Shape{dim} : Shape{positions, dim};
  running_mean = z2h::zeros(s);
  running_var = z2h::ones(s);
}

Tensor BatchNorm1d::forward(const Tensor& x) {
  if (x.ndim() != 2 && x.ndim() != 3)
    throw std::invalid_argument("BatchNorm1d: expected (N, C) or (N, T, C) input, got " + x.shape().str());
  const int64_t C = x.size(-1);
  const int64_t stats = (fixed || x.ndim() == 2) ? C : x.size(1) * C;
  if (stats != running_mean.numel())
    throw std::invalid_argument("BatchNorm1d: input " + x.shape().str() + " does not fit running statistics of shape " +
                                running_mean.shape().str());
  Tensor xmean, xvar;
  if (training && fused && (fixed || x.ndim() == 2)) {
    Tensor y = batch_norm1d_train(x, gamma, beta, eps, xmean, xvar);
    update_running(xmean, xvar);
    return y;
  }
  if (training) {
    const z2h::Dims dim = (x.ndim() == 3 && fixed) ? z2h::Dims{0, 1} : z2h::Dims{0};
    xmean = z2h::mean(x, dim, /*keepdim=*/true);  // batch mean
    xvar = z2h::var(x, dim, /*keepdim=*/true);    // batch variance (unbiased)
  } else {
    xmean = running_mean;
    xvar = running_var;
  }
  Tensor xhat = (x - xmean) / z2h::sqrt(xvar + eps);  // normalize to unit variance
  Tensor y = gamma * xhat + beta;
  if (training) update_running(xmean, xvar);
  return y;
}

// with torch.no_grad(): running = (1 - momentum) * running + momentum * batch
void BatchNorm1d::update_running(const Tensor& xmean, const Tensor& xvar) {
  const float keep = 1.0f - momentum;
  float *rm = running_mean.data(), *rv = running_var.data();
  const float *bm = xmean.data(), *bv = xvar.data();
  for (int64_t j = 0, stats = running_mean.numel(); j < stats; ++j) {
    rm[j] = keep * rm[j] + momentum * bm[j];
    rv[j] = keep * rv[j] + momentum * bv[j];
  }
}

nn::NamedTensors BatchNorm1d::named_buffers() const {
  return {{"running_mean", running_mean}, {"running_var", running_var}};
}

// ================================================================================================
// BatchNorm1d's training forward as one op
// ================================================================================================
// x is seen as (R, C): R = N (or N·T) rows of C channels. The op-by-op graph it replaces is
//   xmean = mean(x)  xvar = var(x)  t1 = xvar + eps  t2 = sqrt(t1)  t3 = x - xmean
//   xhat = t3 / t2   t4 = gamma * xhat   y = t4 + beta
// and every number below is computed by the expression, and every sum in the order, that op's
// forward or backward uses (common/tensor/ops_*.cpp, kernels/exact/*.cpp). -ffp-contract=off (the
// project's flags) keeps a * b + c two roundings, as there.
namespace {

struct BatchNormSaved {
  Tensor xhat;  // (R, C)
  Tensor mean;  // (C) xmean — also var's saved float mean: the same sum and division
  Tensor std;   // (C) t2 = sqrt(xvar + eps)
  float two_over_dof;       // var's backward factor, float(2 / (R - 1))
  float count;              // R, mean's divisor
};
void batch_norm1d_train_backward(z2h::Node& o);

// ---- a / t2, per channel, without the divider ------------------------------------------------------
// The divisions (three per element: xhat = t3 / t2 forward, dxhat / t2 and xhat / t2 backward) are
// most of this op's time: a vector division takes as long as a dozen multiplications. With FMA the
// correctly rounded quotient — the bits of a / b — comes from the reciprocal r = RN(1 / b), one per
// channel: q0 = RN(a·r), the exact remainder e = a - q0·b (one FMA), q = RN(q0 + e·r) — Markstein's
// theorem (the Handbook of Floating-Point Arithmetic, on division with an FMA). It holds while
// nothing under- or overflows, so it is used only where every |a| of the row and every b lies well
// inside the normal range (and a is not 0, whose sign the sequence would lose); elsewhere the row
// divides. The tests compare it with a / b on every float significand (tests/test_wavenet.cpp).
struct Divisors {
  const float* b;      // (C) the divisors
  std::vector<float> r;  // (C) RN(1 / b)
  bool fast;             // every b in [2^-30, 2^30] and the build has FMA
  Divisors(const float* b, int64_t C) : b(b), r(static_cast<size_t>(C)), fast(kFmaBuild) {
    for (int64_t c = 0; c < C; ++c) {
      r[static_cast<size_t>(c)] = 1.0f / b[c];
      fast = fast && std::fabs(b[c]) >= 0x1p-30f && std::fabs(b[c]) <= 0x1p30f;
    }
  }
  // q[c] = a[c] / b[c], c < C
  void divide(const float* __restrict a, float* __restrict q, int64_t C) const {
    if (fast && in_range(a, C)) {
      const float* __restrict rv = r.data();
      const float* __restrict bv = b;
      for (int64_t c = 0; c < C; ++c) {
        const float q0 = a[c] * rv[c];
        q[c] = std::fma(std::fma(-q0, bv[c], a[c]), rv[c], q0);
      }
    } else {
      for (int64_t c = 0; c < C; ++c) q[c] = a[c] / b[c];
    }
  }
  // Every |a| in [2^-60, 2^60] (no 0, inf or NaN): on the bits, |a| - 2^-60 <= 2^60 - 2^-60 unsigned.
  static bool in_range(const float* __restrict a, int64_t C) {
    constexpr uint32_t lo = (127u - 60u) << 23, hi = (127u + 60u) << 23;
    uint32_t out = 0;
    for (int64_t c = 0; c < C; ++c) {
      uint32_t u;
      std::memcpy(&u, a + c, sizeof u);
      out |= static_cast<uint32_t>(((u & 0x7fffffffu) - lo) > hi - lo);
    }
    return out == 0;
  }
#if defined(__FMA__)
  static constexpr bool kFmaBuild = true;
#else
  static constexpr bool kFmaBuild = false;  // std::fma would be a library call: divide
#endif
};

// The rows' loops, on pointers that do not alias (so they vectorise).
void add_row(const float* __restrict x, double* __restrict sum, int64_t C) {  // var's sums
  for (int64_t c = 0; c < C; ++c) sum[c] += x[c];
}
void add_squares_row(const float* __restrict x, const double* __restrict mean, double* __restrict ss, int64_t C) {
  for (int64_t c = 0; c < C; ++c) {
    const double d = x[c] - mean[c];
    ss[c] += d * d;
  }
}
void forward_row(const float* __restrict x, const float* __restrict mean, const Divisors& t2,
                 const float* __restrict gamma, const float* __restrict beta, float* __restrict t3,
                 float* __restrict xhat, float* __restrict y, int64_t C) {
  for (int64_t c = 0; c < C; ++c) t3[c] = x[c] - mean[c];  // t3 = x - xmean
  t2.divide(t3, xhat, C);                                   // xhat = t3 / t2
  for (int64_t c = 0; c < C; ++c) y[c] = gamma[c] * xhat[c] + beta[c];  // t4 = gamma * xhat, y = t4 + beta
}

// The keepdim shape of the statistics: (1, C) or (1, 1, C).
Shape stats_shape(const Shape& s) {
  Shape k = s;
  for (int i = 0; i + 1 < s.ndim(); ++i) k[i] = 1;
  return k;
}

}  // namespace

void divide(const float* a, const float* b, float* q, int64_t n) { Divisors(b, n).divide(a, q, n); }

Tensor batch_norm1d_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, Tensor& mean,
                          Tensor& var) {
  const int64_t C = x.size(-1), R = x.numel() / C;
  const Shape k = stats_shape(x.shape());
  Tensor out = z2h::make_result(x.shape(), "batch_norm1d", {x, gamma, beta}, batch_norm1d_train_backward);
  const float* xv = x.data();
  const float *gv = gamma.data(), *bv = beta.data();
  const auto c_ = static_cast<size_t>(C);
  // xmean: the float sum in ATen's order, then / R (mean)
  mean = z2h::empty({C});
  float* m = mean.data();
  z2h::kernels::sum_to(xv, x.shape(), m, k);
  const float count = static_cast<float>(R);
  for (int64_t c = 0; c < C; ++c) m[c] /= count;
  // xvar: in double, row after row — its own mean, then the squares (var)
  std::vector<double> sum(c_, 0.0), ss(c_, 0.0);
  for (int64_t r = 0; r < R; ++r) add_row(xv + r * C, sum.data(), C);
  for (double& v : sum) v /= static_cast<double>(R);
  for (int64_t r = 0; r < R; ++r) add_squares_row(xv + r * C, sum.data(), ss.data(), C);
  const double dof = static_cast<double>(R - 1);
  var = z2h::empty({C});
  float* vv = var.data();
  Tensor sd = z2h::empty({C});
  float* t2 = sd.data();
  for (int64_t c = 0; c < C; ++c) {
    vv[c] = static_cast<float>(ss[static_cast<size_t>(c)] / dof);
    t2[c] = std::sqrt(vv[c] + eps);  // t2 = sqrt(t1), t1 = xvar + eps
  }
  // xhat = (x - xmean) / t2, y = gamma * xhat + beta
  const bool keep = out.node()->backward_fn != nullptr;
  Tensor xhat = z2h::empty(keep ? x.shape() : Shape{C});
  std::vector<float> t3(c_);
  const Divisors by_t2(t2, C);
  float* y = out.data();
  for (int64_t r = 0; r < R; ++r)
    forward_row(xv + r * C, m, by_t2, gv, bv, t3.data(), xhat.data() + (keep ? r * C : 0), y + r * C, C);
  if (keep) {
    z2h::save_for_backward(out, {x, gamma});
    z2h::save_for_backward(out, BatchNormSaved{xhat, mean, sd, static_cast<float>(2.0 / dof), count});
  }
  return out;
}

namespace {
// The op-by-op graph's rules, in the order autograd runs them (the latest-made ready node first):
//   y = t4 + beta     dt4 = dy;            dbeta += Σ dy
//   t4 = gamma * xhat dgamma += Σ dy·xhat;  dxhat = dy·gamma
//   xhat = t3 / t2    dt3 = dxhat / t2;    dt2 = Σ -(dxhat·(xhat / t2))
//   t3 = x - xmean    dx (+)= dt3;         dxmean = Σ -dt3
//   t2 = sqrt(t1)     dt1 = dt2 / (2·t2)
//   t1 = xvar + eps   dxvar = dt1
//   xvar              dx += (float(2 / (R-1))·dxvar)·(x - xmean)
//   xmean             dx += dxmean / R
// Each Σ sums over the rows in ATen's order (kernels::sum_to) and is added to a zero-filled
// gradient (0 + Σ), as autograd accumulates it.
// One row of the element-wise part: dgam = dy·xhat (gamma's, to be summed), dt3 = dxhat / t2,
// dt2e = -(dxhat·(xhat / t2)) (t2's, to be summed).
void backward_row(const float* __restrict dy, const float* __restrict xh, const float* __restrict gamma,
                  const Divisors& t2, float* __restrict dgam, float* __restrict dt3, float* __restrict dt2e,
                  float* __restrict dxhat, float* __restrict q, int64_t C) {
  for (int64_t c = 0; c < C; ++c) {
    dgam[c] = dy[c] * xh[c];
    dxhat[c] = dy[c] * gamma[c];
  }
  t2.divide(dxhat, dt3, C);  // dxhat / t2
  t2.divide(xh, q, C);       // xhat / t2
  for (int64_t c = 0; c < C; ++c) dt2e[c] = -(dxhat[c] * q[c]);
}
// One row of dx: sub's dt3 (assigned, or added to what is there), then var's and mean's terms.
// first: dx holds dt3 already (dt3 == dx).
void input_grad_row(const float* dt3, const float* __restrict x, const float* __restrict mean,
                    const float* __restrict f, const float* __restrict g, float* dx, int64_t C, bool first) {
  if (first) {
    for (int64_t c = 0; c < C; ++c) dx[c] = (dx[c] + f[c] * (x[c] - mean[c])) + g[c];
  } else {
    for (int64_t c = 0; c < C; ++c) dx[c] = ((dx[c] + dt3[c]) + f[c] * (x[c] - mean[c])) + g[c];
  }
}

void batch_norm1d_train_backward(z2h::Node& o) {
  const Tensor &x = o.inputs[0], &gamma = o.inputs[1], &beta = o.inputs[2];
  const BatchNormSaved& s = z2h::saved<BatchNormSaved>(o);
  const Shape& ys = o.shape;
  const int64_t C = ys[ys.ndim() - 1], R = ys.numel() / C, n = R * C;
  const auto c_ = static_cast<size_t>(C);
  const float* dy = o.grad.data();
  const float* xh = s.xhat.data();
  std::vector<float> colsum(c_);
  if (beta.requires_grad()) {
    z2h::kernels::sum_to(dy, ys, colsum.data(), beta.shape());
    float* g = beta.node()->grad_data();
    for (int64_t c = 0; c < C; ++c) g[c] += colsum[static_cast<size_t>(c)];
  }
  // dt3 goes straight into x's gradient when it is the first contribution there (sub's rule
  // assigns it), else into a buffer of its own.
  bool first = false;
  float* dx = x.requires_grad() ? x.node()->grad_data(&first) : nullptr;
  thread_local std::vector<float> buf;
  buf.resize(static_cast<size_t>((first ? 2 : 3) * n));
  float *dgam = buf.data(), *dt2e = dgam + n, *dt3 = first ? dx : dt2e + n;
  const float* gv = gamma.data();
  const float* sd = s.std.data();
  const Divisors by_t2(sd, C);
  std::vector<float> dxhat(c_), q(c_);
  for (int64_t r = 0; r < R; ++r) {
    const int64_t i = r * C;
    backward_row(dy + i, xh + i, gv, by_t2, dgam + i, dt3 + i, dt2e + i, dxhat.data(), q.data(), C);
  }
  if (gamma.requires_grad()) {
    z2h::kernels::sum_to(dgam, ys, colsum.data(), gamma.shape());
    float* g = gamma.node()->grad_data();
    for (int64_t c = 0; c < C; ++c) g[c] += colsum[static_cast<size_t>(c)];
  }
  if (!dx) return;
  const Shape k = stats_shape(ys);
  std::vector<float> dstd(c_), dmean(c_), f(c_), g(c_);
  z2h::kernels::sum_to(dt2e, ys, dstd.data(), k);
  // sub's rule sums -dt3 into xmean's grad; the sum of the negated numbers is the negated sum to the
  // bit (rounding to nearest is symmetric, and a float sum that starts at +0 is never -0), so
  // 0 + Σ(-dt3) = 0 + -(Σ dt3): one buffer and one pass less.
  z2h::kernels::sum_to(dt3, ys, dmean.data(), k);
  for (size_t c = 0; c < c_; ++c) {
    const float dt2 = 0.0f + dstd[c];
    const float dt1 = 0.0f + dt2 / (2.0f * sd[c]);  // sqrt's rule into t1's zero-filled grad
    f[c] = s.two_over_dof * dt1;                    // dxvar = dt1 (add's rule: a copy)
    g[c] = (0.0f + -dmean[c]) / s.count;
  }
  const float* xv = x.data();
  const float* mv = s.mean.data();
  for (int64_t r = 0; r < R; ++r) {
    const int64_t i = r * C;
    input_grad_row(dt3 + i, xv + i, mv, f.data(), g.data(), dx + i, C, first);
  }
}

}  // namespace

// ================================================================================================
// the model (cell 9)
// ================================================================================================
nn::Sequential make_model(const ModelConfig& cfg) {
  nn::Sequential model;
  model.add(nn::Embedding(cfg.vocab_size, cfg.n_embd));
  if (cfg.hierarchical) {
    int levels = 0;
    while ((2 << levels) <= cfg.block_size) ++levels;
    if ((1 << levels) != cfg.block_size)
      throw z2h::UserError("a hierarchical model fuses pairs: block_size must be a power of two, got " +
                           std::to_string(cfg.block_size));
    int64_t fan_in = 2 * cfg.n_embd, positions = cfg.block_size / 2;
    for (int level = 0; level < levels; ++level) {
      model.add(nn::FlattenConsecutive(2));
      model.add(nn::Linear(fan_in, cfg.n_hidden, /*bias=*/false));
      model.add(BatchNorm1d(cfg.n_hidden, cfg.fixed_bn, positions));
      model.add(nn::Tanh());
      fan_in = 2 * cfg.n_hidden;
      positions /= 2;
    }
  } else {
    model.add(nn::FlattenConsecutive(cfg.block_size));
    model.add(nn::Linear(static_cast<int64_t>(cfg.n_embd) * cfg.block_size, cfg.n_hidden, /*bias=*/false));
    model.add(BatchNorm1d(cfg.n_hidden));
    model.add(nn::Tanh());
  }
  model.add(nn::Linear(cfg.n_hidden, cfg.vocab_size));
  model.at<nn::Linear>(-1).weight.mul_(0.1f);  // last layer make less confident
  return model;
}

int64_t num_parameters(const nn::Sequential& model) { return nn::count_parameters(model.parameters()); }

// ================================================================================================
// data (cells 2-5)
// ================================================================================================
std::string context_string(const Split& s, const z2h::Vocab& vocab, int64_t i) {
  std::string out;
  const int64_t T = s.X.size(1);
  for (int64_t t = 0; t < T; ++t) out += vocab.itos(static_cast<int>(s.X.data[static_cast<size_t>(i * T + t)]));
  return out;
}

// ================================================================================================
// training, evaluation, sampling (cells 10, 13, 15)
// ================================================================================================
float train_step(nn::Sequential& model, const Split& train, int batch_size, z2h::optim::SGD& sgd) {
  const LongTensor ix = z2h::randint(0, train.Y.size(0), Shape{batch_size});  // minibatch construct
  const Tensor logits = model(train.X[ix]);
  const Tensor loss = z2h::cross_entropy(logits, train.Y[ix]);
  sgd.zero_grad();  // for p in parameters: p.grad = None
  loss.backward();
  sgd.step();       // for p in parameters: p.data += -lr * p.grad
  return loss.item();
}

// The notebook forwards a whole split at once; here it goes in chunks (the (182625, 4, 128)
// activations of every layer at once would take gigabytes), each chunk's mean loss weighted by its
// size and summed in double. In eval mode every row is computed on its own, so only the order of
// the final sum differs from PyTorch's (a difference in the 7th significant digit).
float split_loss(nn::Sequential& model, const Split& split) {
  z2h::NoGradGuard no_grad;
  constexpr int64_t kChunk = 8192;
  const int64_t n = split.Y.size(0);
  double total = 0;
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t end = std::min(n, start + kChunk);
    const Tensor loss = z2h::cross_entropy(model(split.X.slice(0, start, end)), split.Y.slice(0, start, end));
    total += static_cast<double>(loss.item()) * static_cast<double>(end - start);
  }
  for (auto& layer : model.layers) layer->out = Tensor();  // drop the last chunk's activations
  return static_cast<float>(total / static_cast<double>(n));
}

std::vector<std::string> sample(nn::Sequential& model, const Data& data, int count) {
  const int block_size = static_cast<int>(data.train.X.size(1));
  return z2h::sample_names([&](const LongTensor& x) { return model(x); }, block_size, data.vocab, count,
                           z2h::default_generator());
}

ForLoopCheck convolution_check(nn::Sequential& model, const Split& train, int64_t first, int64_t count) {
  z2h::NoGradGuard no_grad;
  ForLoopCheck r;
  const Tensor batched = model(train.X.slice(0, first, first + count));  // (count, 27), all at once
  Tensor logits = z2h::zeros({count, batched.size(-1)});                  // logits = torch.zeros(8, 27)
  for (int64_t i = 0; i < count; ++i) {                                    // for i in range(8):
    const Tensor one = model(train.X[LongTensor({first + i})]);           //   model(Xtr[[7+i]])
    if (i == 0) r.single_shape = one.shape();
    std::copy_n(one.data(), one.numel(), logits.data() + i * one.numel());  // logits[i] = ...
  }
  r.loop_shape = logits.shape();
  for (int64_t k = 0; k < logits.numel(); ++k)
    r.max_abs_diff = std::max(r.max_abs_diff, static_cast<double>(std::fabs(logits.data()[k] - batched.data()[k])));
  return r;
}

}  // namespace stage06
