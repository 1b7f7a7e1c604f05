#pragma once
// common/nn/nn.hpp — layers as the lectures write them.
//
// Lectures 4 and 6 build their own small classes "like torch.nn" — Linear, BatchNorm1d, Tanh,
// Embedding, FlattenConsecutive, Sequential — and lecture 7 uses torch.nn itself (nn.Linear,
// nn.Embedding, nn.LayerNorm, nn.ReLU, nn.Dropout). Both families are here, with the same
// parameter shapes and the same random draws, in the same order, as the Python code:
//
//   lecture 4/6 class       here                    weight shape      init
//   Linear                  nn::Linear              (fan_in, fan_out) randn / sqrt(fan_in), bias zeros
//   torch.nn.Linear         nn::TorchLinear         (out, in)         kaiming-uniform, then bias uniform
//   Embedding / nn.Embedding nn::Embedding          (num, dim)        randn (= normal_(0, 1))
//
// Modules are constructed in program order, so their draws happen in program order: build a
// Sequential with braces, nn::Sequential model({nn::Embedding(27, 24), nn::Tanh(), ...}), whose
// elements C++ evaluates left to right (a parenthesised argument list has no guaranteed order).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/tensor/ops.hpp"

namespace z2h {
Generator& default_generator();  // common/rng/generator.hpp
}

namespace z2h::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// The base of every layer: module(x) runs forward and remembers the result in `out`
// (lecture 4 reads layer.out for its activation and gradient statistics).
struct Module {
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
  virtual Tensor forward(const LongTensor& idx);  // only layers that take indices (Embedding, Sequential)
  Tensor operator()(const Tensor& x);
  Tensor operator()(const LongTensor& idx);

  virtual NamedTensors named_parameters() const { return {}; }  // e.g. {"weight", W}, {"bias", b}
  virtual NamedTensors named_buffers() const { return {}; }     // e.g. running_mean (saved, not trained)
  std::vector<Tensor> parameters() const;
  virtual void train(bool on = true) { training = on; }
  void eval() { train(false); }
  virtual std::string name() const = 0;

  bool training = true;
  Tensor out;
};

// ---- lecture 4 / lecture 6 ---------------------------------------------------------------------
// x: (..., fan_in) -> (..., fan_out);  out = x @ weight + bias
struct Linear : Module {
  Linear(int64_t fan_in, int64_t fan_out, bool bias = true, Generator& g = default_generator());
  Tensor forward(const Tensor& x) override;
  NamedTensors named_parameters() const override;
  std::string name() const override { return "Linear"; }
  Tensor weight, bias;  // (fan_in, fan_out), (fan_out) or undefined
};

// x: (N, C) or (N, L, C). Training: normalise with the batch mean and (unbiased) variance over dim 0
// (dims 0 and 1 for 3-D input) and update the running buffers by momentum; eval: use the buffers.
struct BatchNorm1d : Module {
  explicit BatchNorm1d(int64_t dim, float eps = 1e-5f, float momentum = 0.1f);
  Tensor forward(const Tensor& x) override;
  NamedTensors named_parameters() const override;
  NamedTensors named_buffers() const override;
  std::string name() const override { return "BatchNorm1d"; }
  float eps, momentum;
  Tensor gamma, beta;                 // (C), trained
  Tensor running_mean, running_var;   // (C), updated without gradients
};

struct Tanh : Module {
  Tensor forward(const Tensor& x) override { return tanh(x); }
  std::string name() const override { return "Tanh"; }
};

// idx: any shape of ints -> idx.shape + (dim): rows of weight.
struct Embedding : Module {
  Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator& g = default_generator());
  Tensor forward(const Tensor& x) override;  // an error: Embedding takes indices
  Tensor forward(const LongTensor& idx) override { return weight[idx]; }
  NamedTensors named_parameters() const override { return {{"weight", weight}}; }
  std::string name() const override { return "Embedding"; }
  Tensor weight;  // (num_embeddings, embedding_dim)
};

// x: (B, T, C) -> (B, T/n, C*n); a middle dimension of 1 is dropped: (B, C*n).
struct FlattenConsecutive : Module {
  explicit FlattenConsecutive(int64_t n) : n(n) {}
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "FlattenConsecutive"; }
  int64_t n;
};

// One element of a Sequential's list: any module, moved into shared ownership.
struct Layer {
  template <class M, class = std::enable_if_t<std::is_base_of_v<Module, std::decay_t<M>>>>
  Layer(M&& m) : ptr(std::make_shared<std::decay_t<M>>(std::forward<M>(m))) {}  // NOLINT: implicit on purpose
  Layer(std::shared_ptr<Module> m) : ptr(std::move(m)) {}                       // NOLINT
  std::shared_ptr<Module> ptr;
};

// Layers applied in order. Parameters are named "<index>.<name>", as torch.nn.Sequential does.
struct Sequential : Module {
  Sequential() = default;
  Sequential(std::initializer_list<Layer> layers);
  void add(Layer layer) { layers.push_back(std::move(layer.ptr)); }
  Tensor forward(const Tensor& x) override;
  Tensor forward(const LongTensor& idx) override;
  NamedTensors named_parameters() const override;
  NamedTensors named_buffers() const override;
  void train(bool on = true) override;
  std::string name() const override { return "Sequential"; }
  // The i-th layer as its own type (negative i counts from the end): model.at<nn::Linear>(-1).weight
  template <class M>
  M& at(int64_t i) const;
  std::vector<std::shared_ptr<Module>> layers;
};

// ---- torch.nn defaults (lecture 7) -----------------------------------------------------------------
// torch.nn.Linear: x (..., in) -> (..., out); out = x @ weightᵀ + bias. weight (out, in) from
// kaiming_uniform_(a=√5) = U(-1/√in, 1/√in), then bias from the same range (drawn after the weight).
struct TorchLinear : Module {
  TorchLinear(int64_t in_features, int64_t out_features, bool bias = true, Generator& g = default_generator());
  Tensor forward(const Tensor& x) override { return linear(x, weight, bias); }
  NamedTensors named_parameters() const override;
  std::string name() const override { return "Linear"; }
  Tensor weight, bias;  // (out, in), (out) or undefined
};

// torch.nn.LayerNorm over the last dimension: weight ones, bias zeros, eps 1e-5.
struct LayerNorm : Module {
  explicit LayerNorm(int64_t dim, float eps = 1e-5f);
  Tensor forward(const Tensor& x) override { return layer_norm(x, weight, bias, eps); }
  NamedTensors named_parameters() const override { return {{"weight", weight}, {"bias", bias}}; }
  std::string name() const override { return "LayerNorm"; }
  float eps;
  Tensor weight, bias;
};

struct ReLU : Module {
  Tensor forward(const Tensor& x) override { return relu(x); }
  std::string name() const override { return "ReLU"; }
};

// torch.nn.Dropout(p): active only in training mode; draws its masks from g.
struct Dropout : Module {
  explicit Dropout(float p, Generator& g = default_generator()) : p(p), gen(&g) {}
  Tensor forward(const Tensor& x) override { return dropout(x, p, training, *gen); }
  std::string name() const override { return "Dropout"; }
  float p;
  Generator* gen;
};

// The number of trainable numbers: sum of numel over parameters() (lecture: 11897, 76579, ...).
int64_t count_parameters(const std::vector<Tensor>& params);

template <class M>
M& Sequential::at(int64_t i) const {
  const int64_t n = static_cast<int64_t>(layers.size());
  if (i < 0) i += n;
  if (i < 0 || i >= n) throw std::out_of_range("Sequential::at: layer " + std::to_string(i) + " of " + std::to_string(n));
  auto* m = dynamic_cast<M*>(layers[static_cast<size_t>(i)].get());
  if (!m) throw std::invalid_argument("Sequential::at: layer " + std::to_string(i) + " is a " +
                                      layers[static_cast<size_t>(i)]->name());
  return *m;
}

}  // namespace z2h::nn
