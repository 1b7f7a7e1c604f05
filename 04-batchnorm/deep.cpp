#include "deep.hpp"

#include "common/app/format.hpp"
#include "common/rng/generator.hpp"

#include <cmath>
#include <cstdio>

namespace stage04 {

namespace nn = z2h::nn;
using z2h::LongTensor;
using z2h::Shape;
using z2h::Tensor;

std::vector<Tensor> DeepNet::parameters() const {
  std::vector<Tensor> ps = {C};
  for (const Tensor& p : layers.parameters()) ps.push_back(p);
  return ps;
}

std::vector<std::string> DeepNet::parameter_names() const {
  std::vector<std::string> names = {"C"};
  for (const auto& [name, p] : layers.named_parameters()) names.push_back(name);
  return names;
}

DeepNet make_deep_net(const DeepConfig& cfg, z2h::Generator& g) {
  DeepNet net;
  net.cfg = cfg;
  net.C = z2h::randn(Shape{cfg.vocab_size, cfg.n_embd}, g);
  int64_t fan_in = static_cast<int64_t>(cfg.n_embd) * cfg.block_size;
  for (int k = 0; k < cfg.n_linear; ++k) {  // each Linear draws its weight when it is made: program order
    const bool last = k == cfg.n_linear - 1;
    const int64_t fan_out = last ? cfg.vocab_size : cfg.n_hidden;
    net.layers.add(nn::Linear(fan_in, fan_out, cfg.bias, g));
    if (cfg.batchnorm) net.layers.add(nn::BatchNorm1d(fan_out));
    if (!last && cfg.tanh) net.layers.add(nn::Tanh());
    fan_in = fan_out;
  }
  {
    z2h::NoGradGuard no_grad;
    // last layer: make less confident
    Tensor& last = cfg.batchnorm ? net.layers.at<nn::BatchNorm1d>(-1).gamma : net.layers.at<nn::Linear>(-1).weight;
    for (int64_t j = 0; j < last.numel(); ++j) last.data()[j] *= cfg.last_gamma;
    for (size_t i = 0; i + 1 < net.layers.layers.size(); ++i)  // all other layers: apply gain
      if (auto* lin = dynamic_cast<nn::Linear*>(net.layers.layers[i].get()))
        for (int64_t j = 0; j < lin->weight.numel(); ++j) lin->weight.data()[j] *= static_cast<float>(cfg.gain);
  }
  net.C.requires_grad_();  // the layers' parameters already require grad
  return net;
}

int64_t num_parameters(const DeepNet& net) { return nn::count_parameters(net.parameters()); }
std::vector<std::string> parameter_names(const DeepNet& net) { return net.parameter_names(); }
std::string layer_kind(const DeepNet& net, int i) { return net.layers.layers[static_cast<size_t>(i)]->name(); }
const Tensor& layer_out(const DeepNet& net, int i) { return net.layers.layers[static_cast<size_t>(i)]->out; }
void set_training(DeepNet& net, bool training) { net.layers.train(training); }

Tensor forward(DeepNet& net, const LongTensor& X) {
  Tensor x = net.C[X].view(Shape{X.size(0), -1});  // (B, block_size * n_embd): concatenate the vectors
  for (auto& layer : net.layers.layers) x = (*layer)(x);
  return x;
}

// std of the float values v (Bessel-corrected, as torch's t.std()), accumulated in double.
static double stdev(const float* v, int64_t n, float scale = 1.0f) {
  double s = 0, ss = 0;
  for (int64_t i = 0; i < n; ++i) s += scale * v[i];
  const double mean = s / static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(scale * v[i]) - mean;  // scale * v: the float tensor lr * p.grad
    ss += d * d;
  }
  return std::sqrt(ss / static_cast<double>(n - 1));
}

static double mean(const float* v, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += v[i];
  return s / static_cast<double>(n);
}

DeepStep train_step(DeepNet& net, const Split& train, z2h::Generator& g, int batch_size, z2h::optim::SGD& sgd) {
  LongTensor ix = z2h::randint(0, train.size(), Shape{batch_size}, g);
  Tensor logits = forward(net, train.X[ix]);
  Tensor loss = z2h::cross_entropy(logits, train.Y[ix]);
  for (auto& layer : net.layers.layers) layer->out.retain_grad();  // for the gradient statistics
  sgd.zero_grad();
  loss.backward();
  const float lr = static_cast<float>(sgd.current_lr());
  sgd.step();
  DeepStep step{loss.item(), {}};
  for (const Tensor& p : net.parameters())  // ((lr*p.grad).std() / p.data.std()).log10()
    step.update_ratios.push_back(std::log10(stdev(p.grad().data(), p.numel(), lr) / stdev(p.data(), p.numel())));
  return step;
}

float split_loss(DeepNet& net, const Split& split) {
  return mean_cross_entropy(split, [&](const LongTensor& X) { return forward(net, X); });
}

Diagnostics diagnose(const DeepNet& net, double saturation) {
  Diagnostics d;
  const int n_layers = static_cast<int>(net.layers.layers.size());
  const std::string watched = net.cfg.tanh ? "Tanh" : net.cfg.batchnorm ? "BatchNorm1d" : "Linear";
  for (int i = 0; i + 1 < n_layers; ++i) {  // exclude the output layer
    if (layer_kind(net, i) != watched) continue;
    const Tensor& t = layer_out(net, i);
    int64_t sat = 0;
    for (int64_t j = 0; j < t.numel(); ++j) sat += std::fabs(t.data()[j]) > saturation;
    d.activations.push_back({i, mean(t.data(), t.numel()), stdev(t.data(), t.numel()),
                             100.0 * static_cast<double>(sat) / static_cast<double>(t.numel())});
    const Tensor gr = t.grad();
    d.gradients.push_back({i, mean(gr.data(), gr.numel()), stdev(gr.data(), gr.numel())});
  }
  const auto params = net.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    if (p.ndim() != 2) continue;
    const Tensor gr = p.grad();
    const double sd = stdev(gr.data(), gr.numel());
    d.weights.push_back({static_cast<int>(i), z2h::py_tuple(p.shape().vec()), mean(gr.data(), gr.numel()), sd,
                         sd / stdev(p.data(), p.numel())});
  }
  return d;
}

nlohmann::json to_json(const Diagnostics& d) {
  nlohmann::json j;
  for (const auto& a : d.activations)
    j["activations"].push_back({{"layer", a.layer}, {"mean", a.mean}, {"std", a.std}, {"saturated", a.saturated}});
  for (const auto& gs : d.gradients) j["gradients"].push_back({{"layer", gs.layer}, {"mean", gs.mean}, {"std", gs.std}});
  for (const auto& w : d.weights)
    j["weights"].push_back(
        {{"param", w.param}, {"shape", w.shape}, {"mean", w.mean}, {"std", w.std}, {"grad_data", w.grad_data}});
  return j;
}

nn::NamedTensors state(const DeepNet& net) {
  nn::NamedTensors s = {{"C", net.C}};
  for (const auto& nt : net.layers.named_parameters()) s.push_back(nt);
  for (const auto& nt : net.layers.named_buffers()) s.push_back(nt);
  return s;
}

}  // namespace stage04
