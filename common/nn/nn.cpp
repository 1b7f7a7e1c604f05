// common/nn/nn.cpp — the layers of common/nn/nn.hpp.
#include "common/nn/nn.hpp"

#include <cmath>
#include <stdexcept>

#include "common/rng/generator.hpp"

namespace z2h::nn {

// ---- Module --------------------------------------------------------------------------------
Tensor Module::forward(const LongTensor&) {
  throw std::invalid_argument(name() + " takes a float tensor, not indices (put an Embedding first)");
}
Tensor Module::operator()(const Tensor& x) {
  out = forward(x);
  return out;
}
Tensor Module::operator()(const LongTensor& idx) {
  out = forward(idx);
  return out;
}
std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> ps;
  for (auto& [name, t] : named_parameters()) ps.push_back(t);
  return ps;
}
int64_t count_parameters(const std::vector<Tensor>& params) {
  int64_t n = 0;
  for (const Tensor& p : params) n += p.numel();
  return n;
}

// ---- Linear (lecture 4) ------------------------------------------------------------------------
// self.weight = torch.randn((fan_in, fan_out), generator=g) / fan_in**0.5
// self.bias = torch.zeros(fan_out) if bias else None
Linear::Linear(int64_t fan_in, int64_t fan_out, bool with_bias, Generator& g) {
  weight = randn({fan_in, fan_out}, g) / static_cast<float>(std::sqrt(static_cast<double>(fan_in)));
  weight.requires_grad_();
  if (with_bias) bias = zeros({fan_out}).requires_grad_();
}
Tensor Linear::forward(const Tensor& x) {
  Tensor y = matmul(x, weight);
  return bias.defined() ? y + bias : y;
}
NamedTensors Linear::named_parameters() const {
  if (bias.defined()) return {{"weight", weight}, {"bias", bias}};
  return {{"weight", weight}};
}

// ---- BatchNorm1d (lecture 4, 3-D input as lecture 6) ---------------------------------------------
BatchNorm1d::BatchNorm1d(int64_t dim, float eps, float momentum) : eps(eps), momentum(momentum) {
  gamma = ones({dim}).requires_grad_();
  beta = zeros({dim}).requires_grad_();
  running_mean = zeros({dim});
  running_var = ones({dim});
}

Tensor BatchNorm1d::forward(const Tensor& x) {
  if (x.ndim() != 2 && x.ndim() != 3)
    throw std::invalid_argument("BatchNorm1d: expected (N, C) or (N, L, C) input, got " + x.shape().str());
  if (!training) {  // xhat = (x - running_mean) / sqrt(running_var + eps)
    return gamma * ((x - running_mean) / sqrt(running_var + eps)) + beta;
  }
  BatchStats stats;
  Tensor y = batch_norm(x, gamma, beta, eps, &stats);
  // with torch.no_grad(): running = (1 - momentum) * running + momentum * batch   (the unbiased var)
  const float keep = 1.0f - momentum;
  float *rm = running_mean.data(), *rv = running_var.data();
  const float *bm = stats.mean.data(), *bv = stats.var.data();
  for (int64_t j = 0; j < running_mean.numel(); ++j) {
    rm[j] = keep * rm[j] + momentum * bm[j];
    rv[j] = keep * rv[j] + momentum * bv[j];
  }
  return y;
}
NamedTensors BatchNorm1d::named_parameters() const { return {{"gamma", gamma}, {"beta", beta}}; }
NamedTensors BatchNorm1d::named_buffers() const {
  return {{"running_mean", running_mean}, {"running_var", running_var}};
}

// ---- Embedding ---------------------------------------------------------------------------------
// lecture 6: self.weight = torch.randn((num_embeddings, embedding_dim)); nn.Embedding: normal_(0, 1)
Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator& g) {
  weight = randn({num_embeddings, embedding_dim}, g).requires_grad_();
}
Tensor Embedding::forward(const Tensor&) {
  throw std::invalid_argument("Embedding takes indices (a LongTensor), not a float tensor");
}

// ---- FlattenConsecutive (lecture 6) -------------------------------------------------------------
Tensor FlattenConsecutive::forward(const Tensor& x) {
  if (x.ndim() != 3 || x.size(1) % n != 0)
    throw std::invalid_argument("FlattenConsecutive(" + std::to_string(n) + "): expected (B, T, C) with T divisible by " +
                                std::to_string(n) + ", got " + x.shape().str());
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2);
  if (T / n == 1) return x.view({B, C * n});
  return x.view({B, T / n, C * n});
}

// ---- Sequential ---------------------------------------------------------------------------------
Sequential::Sequential(std::initializer_list<Layer> ls) {
  for (const Layer& l : ls) layers.push_back(l.ptr);
}
Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& layer : layers) h = (*layer)(h);
  return h;
}
Tensor Sequential::forward(const LongTensor& idx) {
  if (layers.empty()) throw std::invalid_argument("Sequential: no layers");
  Tensor h = (*layers[0])(idx);
  for (size_t i = 1; i < layers.size(); ++i) h = (*layers[i])(h);
  return h;
}
NamedTensors Sequential::named_parameters() const {
  NamedTensors all;
  for (size_t i = 0; i < layers.size(); ++i)
    for (auto& [name, t] : layers[i]->named_parameters()) all.emplace_back(std::to_string(i) + "." + name, t);
  return all;
}
NamedTensors Sequential::named_buffers() const {
  NamedTensors all;
  for (size_t i = 0; i < layers.size(); ++i)
    for (auto& [name, t] : layers[i]->named_buffers()) all.emplace_back(std::to_string(i) + "." + name, t);
  return all;
}
void Sequential::train(bool on) {
  training = on;
  for (auto& layer : layers) layer->train(on);
}

// ---- torch.nn.Linear ----------------------------------------------------------------------------
TorchLinear::TorchLinear(int64_t in_features, int64_t out_features, bool with_bias, Generator& g) {
  weight = empty({out_features, in_features});
  if (with_bias) bias = empty({out_features});
  linear_init_(weight.data(), with_bias ? bias.data() : nullptr, in_features, out_features, g);
  weight.requires_grad_();
  if (with_bias) bias.requires_grad_();
}
NamedTensors TorchLinear::named_parameters() const {
  if (bias.defined()) return {{"weight", weight}, {"bias", bias}};
  return {{"weight", weight}};
}

// ---- torch.nn.LayerNorm ---------------------------------------------------------------------------
LayerNorm::LayerNorm(int64_t dim, float eps) : eps(eps) {
  weight = ones({dim}).requires_grad_();
  bias = zeros({dim}).requires_grad_();
}

}  // namespace z2h::nn
