#include "wavenet.hpp"

#include <algorithm>
#include <cmath>

#include "common/app/error.hpp"
#include "common/rng/generator.hpp"
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
  if (training) {  // with torch.no_grad(): running = (1 - momentum) * running + momentum * batch
    const float keep = 1.0f - momentum;
    float *rm = running_mean.data(), *rv = running_var.data();
    const float *bm = xmean.data(), *bv = xvar.data();
    for (int64_t j = 0; j < stats; ++j) {
      rm[j] = keep * rm[j] + momentum * bm[j];
      rv[j] = keep * rv[j] + momentum * bv[j];
    }
  }
  return y;
}

nn::NamedTensors BatchNorm1d::named_buffers() const {
  return {{"running_mean", running_mean}, {"running_var", running_var}};
}

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
