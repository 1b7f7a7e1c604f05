#pragma once
// The lecture's second half: the "PyTorch-ified" network (cells 13-20) built from common/nn/nn.hpp's
// Linear, BatchNorm1d and Tanh, trained for 1001 steps while we watch its statistics.
//
//   C = randn(27, 10)                                        (drawn first, then each Linear in order)
//   Linear(30, 100, bias=False), BatchNorm1d(100), Tanh()
//   4 x [Linear(100, 100, bias=False), BatchNorm1d(100), Tanh()]
//   Linear(100, 27, bias=False), BatchNorm1d(27)             gamma *= 0.1: less confident at init
//
// 270 + 3000 + 4*10000 + 2700 weights + 2*(5*100 + 27) gammas and betas = 47024 parameters.
#include "mlp.hpp"

#include "common/nn/nn.hpp"
#include "common/nn/optim.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace stage04 {

struct DeepConfig {
  int vocab_size = 27;
  int block_size = 3;
  int n_embd = 10;
  int n_hidden = 100;
  int n_linear = 6;          // Linear layers: n_linear - 1 blocks [Linear, BatchNorm1d, Tanh], then [Linear, BatchNorm1d]
  bool bias = false;         // the lecture's Linear layers have none: the BatchNorm after each cancels it
  float last_gamma = 0.1f;   // layers[-1].gamma *= 0.1 (without BatchNorm: layers[-1].weight *= 0.1)
  double gain = 1.0;         // every other Linear weight *= gain, as a float (the video tries 5/3; with BatchNorm it hardly matters)
  bool batchnorm = true;     // a BatchNorm1d after each Linear (the video first trains the net without)
  bool tanh = true;          // a Tanh after each hidden block (without: a linear sandwich, one linear map)
};

struct DeepNet {
  DeepConfig cfg;
  z2h::Tensor C;               // (vocab_size, n_embd)
  z2h::nn::Sequential layers;  // each layer keeps its last output in layer.out, as the lecture's classes

  std::vector<z2h::Tensor> parameters() const;       // [C] + [p for layer in layers for p in layer.parameters()]
  std::vector<std::string> parameter_names() const;  // "C", "0.weight", "1.gamma", "1.beta", ...
};

DeepNet make_deep_net(const DeepConfig& cfg, z2h::Generator& g);
int64_t num_parameters(const DeepNet& net);
std::vector<std::string> parameter_names(const DeepNet& net);
std::string layer_kind(const DeepNet& net, int i);  // "Linear", "BatchNorm1d", "Tanh"
const z2h::Tensor& layer_out(const DeepNet& net, int i);
void set_training(DeepNet& net, bool training);

// x = C[X].view(B, -1); for layer in layers: x = layer(x). Logits (B, vocab_size).
z2h::Tensor forward(DeepNet& net, const z2h::LongTensor& X);

// One step of the lecture's loop: minibatch, forward, layer.out.retain_grad() for every layer,
// backward, SGD update; then the update:data ratio of every parameter,
// log10(std(lr * grad) / std(data)), measured after the update as the notebook does.
struct DeepStep {
  float loss = 0;
  std::vector<double> update_ratios;  // one per parameter, in parameters() order
};
DeepStep train_step(DeepNet& net, const Split& train, z2h::Generator& g, int batch_size, z2h::optim::SGD& sgd);

// The notebook's split_loss: the whole split through the net as it is (call set_training first).
float split_loss(DeepNet& net, const Split& split);

// The diagnostics of the last training step's forward and backward pass (cells 15-18).
// The layers watched: each hidden block's output (the output layer excluded) — its Tanh, or, in a
// net without tanh, its BatchNorm1d or (without either) its Linear.
struct ActivationStats {
  int layer = 0;
  double mean = 0, std = 0, saturated = 0;  // saturated: % of |t| > 0.97 (meant for a tanh)
};
struct GradientStats {  // the gradient reaching each watched output
  int layer = 0;
  double mean = 0, std = 0;
};
struct WeightStats {  // each 2-D parameter's gradient
  int param = 0;
  std::string shape;   // "(30, 100)"
  double mean = 0, std = 0, grad_data = 0;  // grad_data: std(grad) / std(data)
};
struct Diagnostics {
  std::vector<ActivationStats> activations;
  std::vector<GradientStats> gradients;
  std::vector<WeightStats> weights;
};
Diagnostics diagnose(const DeepNet& net, double saturation = 0.97);
nlohmann::json to_json(const Diagnostics& d);

// Every parameter and buffer by name, for checkpoints.
z2h::nn::NamedTensors state(const DeepNet& net);

}  // namespace stage04
