// 03-mlp/model.cpp — the lecture's model, training step, evaluation and sampling on common/'s tensors.
#include "03-mlp/model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/nn/checkpoint.hpp"
#include "common/app/error.hpp"
#include "common/rng/generator.hpp"
#include "common/tensor/ops.hpp"
#include "common/io/safetensors.hpp"
#include "common/data/sample_names.hpp"

namespace mlp {

using z2h::Shape;

// ---- the parameters --------------------------------------------------------------------------
namespace {
// The parameters of a configuration, each made by make(shape), in the lecture's order.
template <class Make>
Model make_model(const ModelConfig& cfg, Make make) {
  const int64_t n_in = int64_t{cfg.block_size} * cfg.emb;
  Model m;
  m.cfg = cfg;
  m.C = make(Shape{kVocab, cfg.emb});
  m.W1 = make(Shape{n_in, cfg.hidden});
  m.b1 = make(Shape{cfg.hidden});
  m.W2 = make(Shape{cfg.hidden, kVocab});
  m.b2 = make(Shape{kVocab});
  if (cfg.direct) m.W3 = make(Shape{n_in, kVocab});
  return m;
}
}  // namespace

Model Model::init(const ModelConfig& cfg, z2h::Generator& g) {
  const int64_t n_in = int64_t{cfg.block_size} * cfg.emb;
  // g = torch.Generator().manual_seed(2147483647); C = torch.randn((27, 10), generator=g); W1 = ...
  Model m = make_model(cfg, [&](Shape s) { return z2h::randn(s, g); });
  if (cfg.init == Init::tuned) {
    // Scale in place, like `W1 *= s` under torch.no_grad(): s is rounded to float once.
    auto scale = [](const Tensor& t, double s) {
      const float f = static_cast<float>(s);
      float* d = t.data();
      for (int64_t i = 0; i < t.numel(); ++i) d[i] *= f;
    };
    scale(m.W1, (5.0 / 3.0) / std::sqrt(static_cast<double>(n_in)));  // tanh's Kaiming gain
    scale(m.b1, 0.01);
    scale(m.W2, 0.01);  // logits near 0: the first predictions are nearly uniform
    scale(m.b2, 0.0);
    if (cfg.direct) scale(m.W3, 0.01);
  }
  for (auto& [name, p] : m.named_parameters()) p.requires_grad_();
  return m;
}

std::vector<std::pair<std::string, Tensor>> Model::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> ps = {{"C", C}, {"W1", W1}, {"b1", b1}, {"W2", W2}, {"b2", b2}};
  if (W3.defined()) ps.emplace_back("W3", W3);
  return ps;
}

std::vector<Tensor> Model::parameters() const {
  std::vector<Tensor> ps;
  for (const auto& [name, p] : named_parameters()) ps.push_back(p);
  return ps;
}

int64_t Model::num_params() const {
  int64_t n = 0;
  for (const auto& [name, p] : named_parameters()) n += p.numel();
  return n;
}

// ---- forward ---------------------------------------------------------------------------------
Tensor Model::forward(const LongTensor& X) const {
  const int64_t n_in = int64_t{cfg.block_size} * cfg.emb;
  Tensor emb = C[X];                           // (B, block_size, emb): one row of C per character
  Tensor x = emb.view({-1, n_in});             // (B, block_size*emb): the embeddings side by side
  Tensor h = z2h::tanh(z2h::matmul(x, W1) + b1);  // (B, hidden)
  Tensor logits = z2h::matmul(h, W2) + b2;     // (B, 27)
  if (W3.defined()) logits = logits + z2h::matmul(x, W3);  // direct connections (E03)
  return logits;
}

// ---- training --------------------------------------------------------------------------------
float train_step(Model& model, z2h::optim::SGD& sgd, const LongTensor& Xb, const LongTensor& Yb) {
  // forward pass
  Tensor loss = z2h::cross_entropy(model.forward(Xb), Yb);
  // backward pass
  sgd.zero_grad();  // for p in parameters: p.grad = None
  loss.backward();
  // update
  sgd.step();       // for p in parameters: p.data += -lr * p.grad
  return loss.item();
}

// ---- evaluation ------------------------------------------------------------------------------
double split_loss(const Model& model, const LongTensor& X, const LongTensor& Y) {
  z2h::NoGradGuard no_grad;
  // The forward pass runs in chunks of rows: (8192, 200) hidden floats instead of (182625, 200).
  // Every row's logits are the same either way, and cross_entropy then sees all of them at once,
  // as F.cross_entropy(logits, Y) does, so the mean is summed in PyTorch's order and the loss is
  // reference.py's to the bit.
  constexpr int64_t kChunk = 8192;
  const int64_t n = X.size(0);
  if (n == 0) return 0.0;
  std::vector<Tensor> logits;
  for (int64_t start = 0; start < n; start += kChunk)
    logits.push_back(model.forward(X.slice(0, start, std::min(n, start + kChunk))));  // (chunk, 27)
  return z2h::cross_entropy(z2h::cat(logits, 0), Y).item();
}

// ---- sampling --------------------------------------------------------------------------------
std::vector<std::string> sample(const Model& model, const z2h::Vocab& vocab, int n, uint64_t seed) {
  z2h::Generator g(seed);
  return z2h::sample_names([&](const LongTensor& context) { return model.forward(context); },  // (1, 27)
                           model.cfg.block_size, vocab, n, g);
}

// ---- checkpoints ---------------------------------------------------------------------------
void save_checkpoint(const std::filesystem::path& path, const Model& model, const z2h::Vocab& vocab,
                     uint64_t seed, int64_t steps) {
  const ModelConfig& c = model.cfg;
  z2h::save_checkpoint(path, model.named_parameters(),
                        {{"stage", "03-mlp"},
                         {"block_size", std::to_string(c.block_size)},
                         {"emb", std::to_string(c.emb)},
                         {"hidden", std::to_string(c.hidden)},
                         {"direct", c.direct ? "true" : "false"},
                         {"init", c.init == Init::tuned ? "tuned" : "lecture"},
                         {"vocab", vocab.chars()},
                         {"seed", std::to_string(seed)},
                         {"steps", std::to_string(steps)}});
}

namespace {
// A metadata entry of checkpoint `f`, as a non-negative integer.
uint64_t meta_int(const z2h::SafetensorsFile& f, const std::string& key) {
  auto it = f.metadata.find(key);
  const std::string bad = "checkpoint '" + f.path + "': ";
  if (it == f.metadata.end()) throw z2h::UserError(bad + "no '" + key + "' in its metadata (not a 03-mlp checkpoint?)");
  const std::string& v = it->second;
  try {
    if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos) return std::stoull(v);
  } catch (const std::out_of_range&) {
  }
  throw z2h::UserError(bad + "metadata '" + key + "' is '" + v + "', not a non-negative integer");
}

}  // namespace

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  const z2h::SafetensorsFile f = z2h::load_safetensors(path);
  auto stage = f.metadata.find("stage");
  if (stage == f.metadata.end() || stage->second != "03-mlp")
    throw z2h::UserError("checkpoint '" + f.path + "' was not written by 03-mlp" +
                         (stage == f.metadata.end() ? "" : " (stage '" + stage->second + "')"));
  ModelConfig c;
  auto dim = [&](const std::string& key) {
    uint64_t v = meta_int(f, key);
    if (v < 1 || v > 1000000)
      throw z2h::UserError("checkpoint '" + f.path + "': metadata '" + key + "' = " + std::to_string(v) + " is out of range");
    return static_cast<int>(v);
  };
  c.block_size = dim("block_size");
  c.emb = dim("emb");
  c.hidden = dim("hidden");
  auto flag = [&](const std::string& key) {
    auto it = f.metadata.find(key);
    return it != f.metadata.end() ? it->second : std::string();
  };
  c.direct = flag("direct") == "true";
  c.init = flag("init") == "tuned" ? Init::tuned : Init::lecture;
  auto vocab_it = f.metadata.find("vocab");
  if (vocab_it == f.metadata.end() || vocab_it->second.size() != kVocab)
    throw z2h::UserError("checkpoint '" + f.path + "': its metadata has no 27-character vocabulary");

  // A model of the stored shape, filled from the file.
  Model m = make_model(c, [](Shape s) { return z2h::zeros(s).requires_grad_(); });
  Checkpoint ck{.model = m, .vocab = z2h::Vocab(vocab_it->second), .seed = 0, .steps = 0};
  z2h::load_checkpoint(path, ck.model.named_parameters());  // UserError: a missing tensor or another shape
  ck.seed = meta_int(f, "seed");
  ck.steps = static_cast<int64_t>(meta_int(f, "steps"));
  return ck;
}

}  // namespace mlp
