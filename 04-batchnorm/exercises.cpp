#include "exercises.hpp"

#include "common/rng/generator.hpp"
#include "common/tensor/ops.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace stage04 {

using z2h::Shape;
using z2h::Tensor;

// ================================================================================================
// bonus cells
// ================================================================================================
BonusStats bonus_statistics() {
  BonusStats s;
  auto stdv = [](const Tensor& t) { return static_cast<double>(z2h::std(t).item()); };
  {
    z2h::Generator g(2147483647);
    Tensor a = z2h::randn(Shape{1000, 1}, g).requires_grad_();     // a.grad = b.T @ c.grad
    Tensor b = z2h::randn(Shape{1000, 1000}, g).requires_grad_();  // b.grad = c.grad @ a.T
    Tensor c = z2h::matmul(b, a);                                   // (1000, 1)
    Tensor loss = z2h::matmul(z2h::randn(Shape{1, 1000}, g), c);    // randn(1000) @ c, as (1, 1)
    c.retain_grad();
    loss.backward();
    s.linear = {{"a std", stdv(a)},          {"b std", stdv(b)},          {"c std", stdv(c)},
                {"c grad std", stdv(c.grad())}, {"a grad std", stdv(a.grad())}, {"b grad std", stdv(b.grad())}};
  }
  {
    z2h::Generator g(2147483647);
    const int64_t n = 1000;
    Tensor inp = z2h::randn(Shape{n, 1}, g).requires_grad_();  // randn(n): the same numbers as a column
    Tensor w = z2h::randn(Shape{n, n}, g).requires_grad_();
    Tensor x = z2h::matmul(w, inp);                             // (n, 1)
    Tensor xmean = z2h::mean(x);
    Tensor xvar = z2h::var(x);
    Tensor out = (x - xmean) / z2h::sqrt(xvar + 1e-5f);
    Tensor loss = z2h::matmul(z2h::randn(Shape{1, n}, g), out);  // out @ randn(n)
    x.retain_grad();
    out.retain_grad();
    loss.backward();
    s.linear_bn = {{"inp std", stdv(inp)},           {"w std", stdv(w)},
                   {"x std", stdv(x)},               {"out std", stdv(out)},
                   {"out grad std", stdv(out.grad())}, {"x grad std", stdv(x.grad())},
                   {"w grad std", stdv(w.grad())},   {"inp grad std", stdv(inp.grad())}};
  }
  z2h::Generator g(2147483647ull + 1);  // normshow(x0): x = torch.randn(5, generator=g) * 5
  s.normshow_x = (z2h::randn(Shape{5}, g) * 5.0f).tolist();
  return s;
}

// ================================================================================================
// E01: all-zero init
// ================================================================================================
ZeroInitResult train_zero_init(const Data& data, uint64_t seed, int64_t steps, int batch_size,
                               const z2h::optim::Schedule& lr_at,
                               const std::function<void(int64_t, float)>& on_step) {
  z2h::Generator g(seed);
  // The tanh MLP with b1 (the video's architecture before batch norm): with batch norm, the
  // lecture's std without eps would divide 0 by 0 at the first step.
  Mlp m = make_mlp({.variant = Variant::original}, g);
  for (Tensor& p : m.parameters()) {
    float* d = p.data();
    for (int64_t i = 0; i < p.numel(); ++i) d[i] = 0.0f;
  }
  ZeroInitResult r;
  r.names = m.parameter_names();
  r.max_abs_grad.resize(r.names.size());
  z2h::optim::SGD sgd(m.parameters(), lr_at);
  for (int64_t i = 0; i < steps; ++i) {
    const float loss = train_step(m, data.train, g, batch_size, sgd);
    if (i == 0) r.h0 = m.h.detach();
    r.losses.push_back(loss);
    const auto params = m.parameters();
    for (size_t k = 0; k < params.size(); ++k) {  // the grads of this step are still there after the update
      const float* gr = params[k].grad().data();
      double mx = 0;
      for (int64_t j = 0; j < params[k].numel(); ++j) mx = std::max(mx, std::fabs(static_cast<double>(gr[j])));
      r.max_abs_grad[k].push_back(mx);
    }
    on_step(i, loss);
  }
  for (const Tensor& p : m.parameters()) {
    int64_t nz = 0;
    for (int64_t j = 0; j < p.numel(); ++j) nz += p.data()[j] != 0.0f;
    r.nonzero.push_back(nz);
  }
  {
    z2h::NoGradGuard no_grad;
    for (float p : z2h::softmax(m.b2.view(Shape{1, -1}), 1).tolist()) r.b2_probs.push_back(p);
  }
  std::vector<double> counts(static_cast<size_t>(m.cfg.vocab_size), 0.0);
  for (int64_t y : data.train.Y.data) counts[static_cast<size_t>(y)] += 1;
  for (double c : counts) {
    const double p = c / static_cast<double>(data.train.size());
    r.unigram.push_back(p);
    if (p > 0) r.unigram_entropy -= p * std::log(p);
  }
  r.train = split_loss(m, data.train);
  r.val = split_loss(m, data.val);
  return r;
}

}  // namespace stage04

// ================================================================================================
// E02: fold BatchNorm into the preceding Linear
// ================================================================================================
namespace stage04 {

namespace nn = z2h::nn;

DeepNet fold_batchnorm(const DeepNet& net) {
  DeepNet folded;
  folded.cfg = net.cfg;
  folded.C = net.C;
  z2h::Generator scratch;  // nn::Linear draws an init of its own; the folded weights replace it
  const auto& layers = net.layers.layers;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto* lin = dynamic_cast<const nn::Linear*>(layers[i].get());
    const auto* bn = i + 1 < layers.size() ? dynamic_cast<const nn::BatchNorm1d*>(layers[i + 1].get()) : nullptr;
    if (lin && bn) {
      const int64_t fan_in = lin->weight.size(0), fan_out = lin->weight.size(1);
      nn::Linear merged(fan_in, fan_out, /*bias=*/true, scratch);
      const float *W = lin->weight.data(), *g = bn->gamma.data(), *beta = bn->beta.data();
      const float *mu = bn->running_mean.data(), *var = bn->running_var.data();
      for (int64_t j = 0; j < fan_out; ++j) {
        const float s = g[j] / std::sqrt(var[j] + bn->eps);  // BatchNorm's per-column scale in eval mode
        for (int64_t r = 0; r < fan_in; ++r) merged.weight.data()[r * fan_out + j] = W[r * fan_out + j] * s;
        const float b = lin->bias.defined() ? lin->bias.data()[j] : 0.0f;
        merged.bias.data()[j] = (b - mu[j]) * s + beta[j];
      }
      folded.layers.add(std::move(merged));
      ++i;  // the BatchNorm1d is gone
    } else if (dynamic_cast<const nn::Tanh*>(layers[i].get())) {
      folded.layers.add(nn::Tanh());
    } else {
      throw std::invalid_argument("fold_batchnorm: unexpected layer " + layers[i]->name());
    }
  }
  set_training(folded, false);
  return folded;
}

FoldResult fold_and_compare(DeepNet& net, const Split& split) {
  z2h::NoGradGuard no_grad;
  set_training(net, false);
  DeepNet folded = fold_batchnorm(net);
  const Tensor a = forward(net, split.X), b = forward(folded, split.X);  // (N, vocab_size) logits
  FoldResult r;
  r.params_bn = num_parameters(net);
  r.params_folded = num_parameters(folded);
  for (int64_t i = 0; i < a.numel(); ++i)
    r.max_abs_diff = std::max(r.max_abs_diff, std::fabs(static_cast<double>(a.data()[i]) - b.data()[i]));
  r.val_bn = z2h::cross_entropy(a, split.Y).item();
  r.val_folded = z2h::cross_entropy(b, split.Y).item();
  return r;
}

}  // namespace stage04
