#include "mlp.hpp"

#include "common/app/error.hpp"
#include "common/rng/generator.hpp"
#include "common/data/names_dataset.hpp"
#include "common/tensor/ops.hpp"

#include <algorithm>
#include <cmath>

namespace stage04 {

using z2h::LongTensor;
using z2h::Shape;
using z2h::Tensor;

const std::vector<std::string>& variant_names() {
  static const std::vector<std::string> names = {"original", "softmax", "tanh", "kaiming", "batchnorm"};
  return names;
}

Variant parse_variant(const std::string& name) {
  const auto& names = variant_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<Variant>(i);
  throw z2h::UserError("unknown --variant '" + name + "' (choose original, softmax, tanh, kaiming or batchnorm)");
}

std::string to_string(Variant v) { return variant_names()[static_cast<size_t>(v)]; }

std::vector<Tensor> Mlp::parameters() const {
  if (cfg.variant == Variant::batchnorm) return {C, W1, W2, b2, bngain, bnbias};
  return {C, W1, b1, W2, b2};
}

std::vector<std::string> Mlp::parameter_names() const {
  if (cfg.variant == Variant::batchnorm) return {"C", "W1", "W2", "b2", "bngain", "bnbias"};
  return {"C", "W1", "b1", "W2", "b2"};
}

int64_t Mlp::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

// Multiplies a freshly drawn tensor by s in place, as `torch.randn(...) * s` does.
static void scale(Tensor& t, float s) {
  float* d = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) d[i] *= s;
}

Mlp make_mlp(const MlpConfig& cfg, z2h::Generator& g) {
  Mlp m;
  m.cfg = cfg;
  const int fan_in = cfg.n_embd * cfg.block_size;
  const bool bn = cfg.variant == Variant::batchnorm;
  m.C = z2h::randn(Shape{cfg.vocab_size, cfg.n_embd}, g);
  m.W1 = z2h::randn(Shape{fan_in, cfg.n_hidden}, g);
  if (!bn) m.b1 = z2h::randn(Shape{cfg.n_hidden}, g);  // batch norm's mean subtraction would cancel b1
  m.W2 = z2h::randn(Shape{cfg.n_hidden, cfg.vocab_size}, g);
  m.b2 = z2h::randn(Shape{cfg.vocab_size}, g);
  switch (cfg.variant) {
    case Variant::original:
      break;
    case Variant::softmax:  // logits ~ 0: every character equally likely at init, loss ~ -ln(1/27)
      scale(m.W2, 0.01f), scale(m.b2, 0.0f);
      break;
    case Variant::tanh:  // pre-activations small enough that tanh is not saturated
      scale(m.W1, 0.2f), scale(m.b1, 0.01f), scale(m.W2, 0.01f), scale(m.b2, 0.0f);
      break;
    case Variant::kaiming:  // torch.nn.init.kaiming_normal_ with tanh's gain 5/3
      scale(m.W1, static_cast<float>((5.0 / 3.0) / std::sqrt(static_cast<double>(fan_in))));
      scale(m.b1, 0.01f), scale(m.W2, 0.01f), scale(m.b2, 0.0f);
      break;
    case Variant::batchnorm:
      scale(m.W1, static_cast<float>((5.0 / 3.0) / std::sqrt(static_cast<double>(fan_in))));
      scale(m.W2, 0.01f), scale(m.b2, 0.0f);
      m.bngain = z2h::ones(Shape{1, cfg.n_hidden});
      m.bnbias = z2h::zeros(Shape{1, cfg.n_hidden});
      m.bnmean_running = z2h::zeros(Shape{1, cfg.n_hidden});
      m.bnstd_running = z2h::ones(Shape{1, cfg.n_hidden});
      break;
  }
  for (Tensor& p : m.parameters()) p.requires_grad_();
  return m;
}

Tensor forward(Mlp& m, const LongTensor& X, bool training) {
  Tensor emb = m.C[X];                                      // (B, block_size, n_embd)
  Tensor embcat = emb.view(Shape{X.size(0), -1});           // (B, block_size * n_embd)
  Tensor hpreact = z2h::matmul(embcat, m.W1);               // (B, n_hidden)
  if (m.cfg.variant != Variant::batchnorm) hpreact = hpreact + m.b1;
  m.hpreact = hpreact;
  if (m.cfg.variant == Variant::batchnorm) {
    if (training) {
      // The notebook's lines, computed by one op (common's batch_norm, with the lecture's eps = 0):
      //   bnmeani = hpreact.mean(0, keepdim=True)
      //   bnstdi = hpreact.std(0, keepdim=True)            # unbiased, no eps
      //   hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
      z2h::BatchStats batch;  // batch.mean = bnmeani, batch.var = bnstdi**2
      hpreact = z2h::batch_norm(hpreact, m.bngain, m.bnbias, /*eps=*/0.0f, &batch);
      // with torch.no_grad(): bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani (and the std)
      const float k = m.cfg.bn_momentum, keep = 1.0f - k;
      float *rm = m.bnmean_running.data(), *rs = m.bnstd_running.data();
      const float *bm = batch.mean.data(), *bv = batch.var.data();
      for (int64_t j = 0; j < m.bnmean_running.numel(); ++j) {
        rm[j] = keep * rm[j] + k * bm[j];
        rs[j] = keep * rs[j] + k * std::sqrt(bv[j]);
      }
    } else {
      hpreact = m.bngain * (hpreact - m.bnmean_running) / m.bnstd_running + m.bnbias;
    }
  }
  m.h = z2h::tanh(hpreact);                                 // (B, n_hidden)
  return z2h::matmul(m.h, m.W2) + m.b2;                     // (B, vocab_size)
}

float train_step(Mlp& m, const Split& train, z2h::Generator& g, int batch_size, z2h::optim::SGD& sgd) {
  LongTensor ix = z2h::randint(0, train.size(), Shape{batch_size}, g);  // minibatch construct
  Tensor logits = forward(m, train.X[ix], /*training=*/true);
  Tensor loss = z2h::cross_entropy(logits, train.Y[ix]);
  sgd.zero_grad();  // for p in parameters: p.grad = None
  loss.backward();
  sgd.step();       // for p in parameters: p.data += -lr * p.grad
  return loss.item();
}

float split_loss(Mlp& m, const Split& split) {
  return mean_cross_entropy(split, [&](const LongTensor& X) { return forward(m, X, /*training=*/false); });
}

float mean_cross_entropy(const Split& split, const std::function<Tensor(const LongTensor&)>& logits_of) {
  z2h::NoGradGuard no_grad;
  constexpr int64_t kChunk = 8192;
  double total = 0;
  for (int64_t start = 0; start < split.size(); start += kChunk) {
    const int64_t end = std::min(split.size(), start + kChunk);
    const Tensor loss = z2h::cross_entropy(logits_of(split.X.slice(0, start, end)), split.Y.slice(0, start, end));
    total += static_cast<double>(loss.item()) * static_cast<double>(end - start);
  }
  return static_cast<float>(total / static_cast<double>(split.size()));
}

z2h::nn::NamedTensors state(const Mlp& m) {
  z2h::nn::NamedTensors s;
  const auto names = m.parameter_names();
  const auto params = m.parameters();
  for (size_t i = 0; i < params.size(); ++i) s.push_back({names[i], params[i]});
  if (m.cfg.variant == Variant::batchnorm) {
    s.push_back({"bnmean_running", m.bnmean_running});
    s.push_back({"bnstd_running", m.bnstd_running});
  }
  return s;
}

}  // namespace stage04
