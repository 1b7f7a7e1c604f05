#include "ninja.hpp"

#include "common/tensor/ops.hpp"
#include "common/tensor/kernels/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace stage05 {

using z2h::LongTensor;
using z2h::Shape;
using z2h::Tensor;

// ================================================================================================
// embedding
// ================================================================================================
void embedding_forward(float* out, const int64_t* X, const float* C, int64_t B, int T, int E) {
  for (int64_t b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) std::memcpy(out + (b * T + t) * E, C + X[b * T + t] * E, sizeof(float) * E);
}

void embedding_backward(float* dC, const float* dout, const int64_t* X, int64_t B, int T, int E, int V) {
  std::fill_n(dC, static_cast<int64_t>(V) * E, 0.0f);  // dC = torch.zeros_like(C)
  for (int64_t k = 0; k < B; ++k)
    for (int j = 0; j < T; ++j) {  // dC[Xb[k, j]] += demb[k, j]
      float* row = dC + X[k * T + j] * E;
      const float* d = dout + (k * T + j) * E;
      for (int e = 0; e < E; ++e) row[e] += d[e];
    }
}

// ================================================================================================
// linear
// ================================================================================================
// The products are the ones ATen makes for `inp @ weight`, `dout @ weight.T` and `inp.T @ dout`
// (transposes are flags, never copies), through common/'s product kernel: OpenBLAS's sgemm or the
// same sums in sgemm's own order, as z2h::matmul gets them; the bias is a separate add, as `@` then `+`.
void linear_forward(float* out, const float* inp, const float* weight, const float* bias, int64_t B, int C, int OC) {
  z2h::kernels::gemm(false, false, B, OC, C, inp, weight, false, out);  // (B, C) @ (C, OC)
  for (int64_t b = 0; b < B; ++b)
    for (int o = 0; o < OC; ++o) out[b * OC + o] += bias[o];
}

void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, int64_t B, int C, int OC) {
  z2h::kernels::gemm(false, true, B, C, OC, dout, weight, false, dinp);       // (B, OC) @ (OC, C)
  z2h::kernels::gemm(true, false, C, OC, B, inp, dout, false, dweight);       // (C, B) @ (B, OC)
  z2h::kernels::sum_to(dout, {B, OC}, dbias, {1, OC});                        // the bias was broadcast over B
}

// ================================================================================================
// batch norm (training mode)
// ================================================================================================
void batchnorm_forward(float* out, float* bnraw, float* bnvar_inv, const float* inp, const float* gain,
                       const float* bias, int64_t B, int H) {
  // bnmean = inp.mean(0): torch.sum's float sum, then divided by B (ATen's mean on the CPU)
  std::vector<float> bnmean(static_cast<size_t>(H));
  z2h::kernels::sum_to(inp, {B, H}, bnmean.data(), {1, H});
  for (float& v : bnmean) v /= static_cast<float>(B);
  // bnvar = inp.var(0, unbiased=True), accumulated in double like torch.var, then
  // bnvar_inv = (bnvar + 1e-5)**-0.5 (ATen's rsqrt: 1 / sqrt)
  std::vector<double> mean(static_cast<size_t>(H), 0.0), ss(static_cast<size_t>(H), 0.0);
  for (int64_t i = 0; i < B; ++i)
    for (int j = 0; j < H; ++j) mean[static_cast<size_t>(j)] += inp[i * H + j];
  for (double& v : mean) v /= static_cast<double>(B);
  for (int64_t i = 0; i < B; ++i)
    for (int j = 0; j < H; ++j) {
      const double d = inp[i * H + j] - mean[static_cast<size_t>(j)];
      ss[static_cast<size_t>(j)] += d * d;
    }
  for (int j = 0; j < H; ++j) {
    const float bnvar = static_cast<float>(ss[static_cast<size_t>(j)] / static_cast<double>(B - 1));
    bnvar_inv[j] = 1.0f / std::sqrt(bnvar + 1e-5f);
  }
  // bnraw = (inp - bnmean) * bnvar_inv;  out = bngain * bnraw + bnbias
  for (int64_t i = 0; i < B; ++i)
    for (int j = 0; j < H; ++j) {
      const int64_t k = i * H + j;
      bnraw[k] = (inp[k] - bnmean[static_cast<size_t>(j)]) * bnvar_inv[j];
      out[k] = gain[j] * bnraw[k] + bias[j];
    }
}

void batchnorm_backward(float* dinp, float* dgain, float* dbias, const float* dout, const float* bnraw,
                        const float* bnvar_inv, const float* gain, int64_t B, int H) {
  // dgain = (bnraw * dout).sum(0), dbias = dout.sum(0): gain and bias were broadcast over B.
  // dinp holds the products for a moment.
  for (int64_t i = 0; i < B * H; ++i) dinp[i] = bnraw[i] * dout[i];
  z2h::kernels::sum_to(dinp, {B, H}, dgain, {1, H});
  z2h::kernels::sum_to(dout, {B, H}, dbias, {1, H});
  // dinp = gain*bnvar_inv/n * (n*dout - dout.sum(0) - n/(n-1)*bnraw*(dout*bnraw).sum(0)), in this
  // order of float operations (the sums are dbias and dgain).
  const float n = static_cast<float>(B);
  const float bessel = static_cast<float>(static_cast<double>(B) / static_cast<double>(B - 1));
  for (int64_t i = 0; i < B; ++i)
    for (int j = 0; j < H; ++j) {
      const int64_t k = i * H + j;
      dinp[k] = (gain[j] * bnvar_inv[j] / n) * ((n * dout[k] - dbias[j]) - (bessel * bnraw[k]) * dgain[j]);
    }
}

// ================================================================================================
// tanh
// ================================================================================================
void tanh_forward(float* out, const float* inp, int64_t N) { z2h::kernels::tanh(inp, out, N); }  // as torch.tanh

void tanh_backward(float* dinp, const float* dout, const float* out, int64_t N) {
  for (int64_t i = 0; i < N; ++i) dinp[i] = (1.0f - out[i] * out[i]) * dout[i];
}

// ================================================================================================
// cross-entropy
// ================================================================================================
void crossentropy_softmax_backward(float* dlogits, const float* logits, const int64_t* Y, int64_t B, int V) {
  const float n = static_cast<float>(B);
  for (int64_t b = 0; b < B; ++b) {
    const float* x = logits + b * V;
    float* d = dlogits + b * V;
    z2h::kernels::softmax(x, d, 1, V);        // dlogits = F.softmax(logits, 1)
    d[Y[b]] -= 1.0f;                          // dlogits[range(n), Yb] -= 1
    for (int v = 0; v < V; ++v) d[v] /= n;    // dlogits /= n
  }
}

void sgd_update(float* p, const float* dp, int64_t n, double lr) {
  const float step = static_cast<float>(-lr);
  for (int64_t i = 0; i < n; ++i) p[i] += step * dp[i];
}

// ================================================================================================
// the model
// ================================================================================================
Ninja make_ninja(const NinjaConfig& cfg, z2h::Generator& g) {
  Ninja m;
  m.cfg = cfg;
  const Params p = init_params(g, cfg.n_hidden, cfg.n_embd, cfg.block_size, cfg.vocab_size);
  m.p = {p.C.detach(), p.W1.detach(), p.b1.detach(), p.W2.detach(), p.b2.detach(), p.bngain.detach(),
         p.bnbias.detach()};  // the same numbers, no requires_grad: exercise 4 records no graph
  const int64_t B = cfg.batch_size, T = cfg.block_size, E = cfg.n_embd, H = cfg.n_hidden, V = cfg.vocab_size;
  m.dC = z2h::empty(m.p.C.shape()), m.dW1 = z2h::empty(m.p.W1.shape()), m.db1 = z2h::empty(m.p.b1.shape());
  m.dW2 = z2h::empty(m.p.W2.shape()), m.db2 = z2h::empty(m.p.b2.shape());
  m.dbngain = z2h::empty(m.p.bngain.shape()), m.dbnbias = z2h::empty(m.p.bnbias.shape());
  m.Xb.resize(static_cast<size_t>(B * T));
  m.Yb.resize(static_cast<size_t>(B));
  m.emb = z2h::empty(Shape{B, T * E}), m.demb = z2h::empty(Shape{B, T * E});
  for (Tensor* t : {&m.hprebn, &m.bnraw, &m.hpreact, &m.h, &m.dh, &m.dhpreact, &m.dhprebn}) *t = z2h::empty(Shape{B, H});
  m.bnvar_inv = z2h::empty(Shape{1, H});
  m.logits = z2h::empty(Shape{B, V}), m.dlogits = z2h::empty(Shape{B, V});
  return m;
}

float forward(Ninja& m, const LongTensor& X, const LongTensor& Y) {
  const NinjaConfig& c = m.cfg;
  const int64_t B = c.batch_size;
  if (X.numel() != B * c.block_size || Y.numel() != B)
    throw std::invalid_argument("forward: expected a minibatch of " + std::to_string(B) + " rows");
  std::copy(X.data.begin(), X.data.end(), m.Xb.begin());
  std::copy(Y.data.begin(), Y.data.end(), m.Yb.begin());
  const int TE = c.block_size * c.n_embd, H = c.n_hidden, V = c.vocab_size;
  embedding_forward(m.emb.data(), m.Xb.data(), m.p.C.data(), B, c.block_size, c.n_embd);
  linear_forward(m.hprebn.data(), m.emb.data(), m.p.W1.data(), m.p.b1.data(), B, TE, H);
  batchnorm_forward(m.hpreact.data(), m.bnraw.data(), m.bnvar_inv.data(), m.hprebn.data(), m.p.bngain.data(),
                    m.p.bnbias.data(), B, H);
  tanh_forward(m.h.data(), m.hpreact.data(), B * H);
  linear_forward(m.logits.data(), m.h.data(), m.p.W2.data(), m.p.b2.data(), B, H, V);
  z2h::NoGradGuard no_grad;
  return z2h::cross_entropy(m.logits, Y).item();  // loss = F.cross_entropy(logits, Yb): the number we print
}

void backward(Ninja& m) {
  const NinjaConfig& c = m.cfg;
  const int64_t B = c.batch_size;
  const int TE = c.block_size * c.n_embd, H = c.n_hidden, V = c.vocab_size;
  crossentropy_softmax_backward(m.dlogits.data(), m.logits.data(), m.Yb.data(), B, V);
  linear_backward(m.dh.data(), m.dW2.data(), m.db2.data(), m.dlogits.data(), m.h.data(), m.p.W2.data(), B, H, V);
  tanh_backward(m.dhpreact.data(), m.dh.data(), m.h.data(), B * H);
  batchnorm_backward(m.dhprebn.data(), m.dbngain.data(), m.dbnbias.data(), m.dhpreact.data(), m.bnraw.data(),
                     m.bnvar_inv.data(), m.p.bngain.data(), B, H);
  linear_backward(m.demb.data(), m.dW1.data(), m.db1.data(), m.dhprebn.data(), m.emb.data(), m.p.W1.data(), B, TE, H);
  embedding_backward(m.dC.data(), m.demb.data(), m.Xb.data(), B, c.block_size, c.n_embd, V);
}

void update(Ninja& m, double lr) {
  const std::vector<Tensor> params = m.p.list(), grads = m.grads();
  for (size_t i = 0; i < params.size(); ++i) sgd_update(params[i].data(), grads[i].data(), params[i].numel(), lr);
}

std::vector<double> autograd_check(const Ninja& m, const LongTensor& X, const LongTensor& Y) {
  using namespace z2h;
  // The notebook's exercise-4 forward on common/'s autograd, from leaves that share m's numbers.
  std::vector<Tensor> leaves;
  for (const Tensor& t : m.p.list()) leaves.push_back(t.detach().requires_grad_());
  const Tensor &C = leaves[0], &W1 = leaves[1], &b1 = leaves[2], &W2 = leaves[3], &b2 = leaves[4],
               &bngain = leaves[5], &bnbias = leaves[6];
  const int64_t B = X.size(0);
  Tensor embcat = C[X].view(Shape{B, -1});
  Tensor hprebn = matmul(embcat, W1) + b1;
  Tensor bnmean = mean(hprebn, {0}, true);
  Tensor bnvar = var(hprebn, {0}, true, /*unbiased=*/true);
  Tensor bnvar_inv = pow(bnvar + 1e-5f, -0.5f);
  Tensor bnraw = (hprebn - bnmean) * bnvar_inv;
  Tensor hpreact = bngain * bnraw + bnbias;
  Tensor h = tanh(hpreact);
  Tensor logits = matmul(h, W2) + b2;
  cross_entropy(logits, Y).backward();
  std::vector<double> maxdiff;
  const std::vector<Tensor> grads = m.grads();
  for (size_t i = 0; i < grads.size(); ++i) {
    double worst = 0;
    const float *a = grads[i].data(), *b = leaves[i].grad().data();
    for (int64_t k = 0; k < grads[i].numel(); ++k) worst = std::max(worst, static_cast<double>(std::fabs(a[k] - b[k])));
    maxdiff.push_back(worst);
  }
  return maxdiff;
}

// ================================================================================================
// after training: calibration, evaluation
// ================================================================================================
namespace {
// hpreact = embcat @ W1 + b1 for every row of X: (N, H)
std::vector<float> hidden_preact(const Ninja& m, const LongTensor& X) {
  const NinjaConfig& c = m.cfg;
  const int64_t N = X.size(0);
  const int TE = c.block_size * c.n_embd;
  std::vector<float> emb(static_cast<size_t>(N * TE)), hpreact(static_cast<size_t>(N * c.n_hidden));
  embedding_forward(emb.data(), X.data.data(), m.p.C.data(), N, c.block_size, c.n_embd);
  linear_forward(hpreact.data(), emb.data(), m.p.W1.data(), m.p.b1.data(), N, TE, c.n_hidden);
  return hpreact;
}
}  // namespace

void calibrate(Ninja& m, const LongTensor& Xtr) {
  const int64_t N = Xtr.size(0);
  const int H = m.cfg.n_hidden;
  const std::vector<float> hpreact = hidden_preact(m, Xtr);
  // bnmean = hpreact.mean(0, keepdim=True); bnvar = hpreact.var(0, keepdim=True, unbiased=True)
  m.bnmean = z2h::empty(Shape{1, H});
  m.bnvar = z2h::empty(Shape{1, H});
  z2h::kernels::sum_to(hpreact.data(), {N, H}, m.bnmean.data(), {1, H});
  for (int j = 0; j < H; ++j) m.bnmean.data()[j] /= static_cast<float>(N);
  std::vector<double> mean(static_cast<size_t>(H), 0.0), ss(static_cast<size_t>(H), 0.0);
  for (int64_t i = 0; i < N; ++i)
    for (int j = 0; j < H; ++j) mean[static_cast<size_t>(j)] += hpreact[static_cast<size_t>(i * H + j)];
  for (double& v : mean) v /= static_cast<double>(N);
  for (int64_t i = 0; i < N; ++i)
    for (int j = 0; j < H; ++j) {
      const double d = hpreact[static_cast<size_t>(i * H + j)] - mean[static_cast<size_t>(j)];
      ss[static_cast<size_t>(j)] += d * d;
    }
  for (int j = 0; j < H; ++j) m.bnvar.data()[j] = static_cast<float>(ss[static_cast<size_t>(j)] / static_cast<double>(N - 1));
}

Tensor logits_eval(const Ninja& m, const LongTensor& X) {
  if (!m.bnmean.defined()) throw std::logic_error("logits_eval: calibrate() the batch norm first");
  const NinjaConfig& c = m.cfg;
  const int64_t N = X.size(0);
  const int H = c.n_hidden;
  std::vector<float> hpreact = hidden_preact(m, X);
  // hpreact = bngain * (hpreact - bnmean) * (bnvar + 1e-5)**-0.5 + bnbias, in this order
  std::vector<float> inv(static_cast<size_t>(H));
  for (int j = 0; j < H; ++j) inv[static_cast<size_t>(j)] = 1.0f / std::sqrt(m.bnvar.data()[j] + 1e-5f);
  const float *gain = m.p.bngain.data(), *bias = m.p.bnbias.data(), *mu = m.bnmean.data();
  for (int64_t i = 0; i < N; ++i)
    for (int j = 0; j < H; ++j) {
      float& x = hpreact[static_cast<size_t>(i * H + j)];
      x = gain[j] * (x - mu[j]) * inv[static_cast<size_t>(j)] + bias[j];
    }
  tanh_forward(hpreact.data(), hpreact.data(), N * H);  // h
  Tensor logits = z2h::empty(Shape{N, c.vocab_size});
  linear_forward(logits.data(), hpreact.data(), m.p.W2.data(), m.p.b2.data(), N, H, c.vocab_size);
  return logits;
}

float split_loss(const Ninja& m, const LongTensor& X, const LongTensor& Y) {
  z2h::NoGradGuard no_grad;
  return z2h::cross_entropy(logits_eval(m, X), Y).item();
}

}  // namespace stage05
