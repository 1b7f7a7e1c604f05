// 03-mlp/model.cpp — the lecture's model, training step, evaluation and sampling on common/'s tensors.
#include "03-mlp/model.hpp"

#include <algorithm>
#include <climits>
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
// The parameters' names and shapes, in the lecture's order (V: the data's vocabulary, 27 for
// names.txt); make_model makes each with make(shape), and a checkpoint's tensors are checked
// against them before anything is loaded.
std::vector<std::pair<std::string, std::vector<int64_t>>> parameter_shapes(const ModelConfig& cfg) {
  const int64_t n_in = int64_t{cfg.block_size} * cfg.emb, V = cfg.vocab_size;
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes = {
      {"C", {V, cfg.emb}}, {"W1", {n_in, cfg.hidden}}, {"b1", {cfg.hidden}}, {"W2", {cfg.hidden, V}}, {"b2", {V}}};
  if (cfg.direct) shapes.push_back({"W3", {n_in, V}});
  return shapes;
}

template <class Make>
Model make_model(const ModelConfig& cfg, Make make) {
  Model m;
  m.cfg = cfg;
  Tensor* slot[] = {&m.C, &m.W1, &m.b1, &m.W2, &m.b2, &m.W3};
  size_t i = 0;
  for (const auto& [name, shape] : parameter_shapes(cfg)) *slot[i++] = make(Shape(shape));
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
  // One forward pass over the whole split, as reference.py's F.cross_entropy(forward(X), Y): the
  // products see all 182625 rows at once, and so the loss is PyTorch's to the bit. (In chunks of
  // rows it would not be on every machine: OpenBLAS's Haswell kernels round a row's last bits
  // differently depending on where the row falls in the product's blocking.)
  if (X.size(0) == 0) return 0.0;
  return z2h::cross_entropy(model.forward(X), Y).item();
}

// ---- sampling --------------------------------------------------------------------------------
std::vector<std::string> sample(const Model& model, const z2h::Vocab& vocab, int n, uint64_t seed) {
  z2h::Generator g(seed);
  return z2h::sample_names([&](const LongTensor& context) { return model.forward(context); },  // (1, V)
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
  throw z2h::UserError(bad + "metadata '" + key + "' is " + z2h::quote(v) + ", not a non-negative integer");
}

}  // namespace

CheckpointConfig checkpoint_config(const z2h::SafetensorsFile& f) {
  const std::string where = "checkpoint " + z2h::quote_path(f.path);
  auto stage = f.metadata.find("stage");
  if (stage == f.metadata.end() || stage->second != "03-mlp")
    throw z2h::UserError(where + " was not written by 03-mlp" +
                         (stage == f.metadata.end() ? "" : " (stage " + z2h::quote(stage->second) + ")"));
  ModelConfig c;
  auto dim = [&](const std::string& key) {
    uint64_t v = meta_int(f, key);
    if (v < 1 || v > 1000000)
      throw z2h::UserError(where + ": metadata '" + key + "' = " + std::to_string(v) + " is out of range [1, 1000000]");
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
  if (vocab_it == f.metadata.end())
    throw z2h::UserError(where + ": its metadata has no vocabulary (not a 03-mlp checkpoint?)");
  z2h::Vocab vocab = [&] {
    try {
      return z2h::Vocab::for_names(vocab_it->second);  // '.' first, printable characters, no repeats
    } catch (const z2h::UserError& e) {
      throw z2h::UserError(where + ": " + e.what());
    }
  }();
  c.vocab_size = vocab.size();

  // Every tensor the configuration implies must be in the file with that shape BEFORE anything
  // is allocated: then the model can be no larger than the file (a corrupt block_size of 1000000
  // is rejected here, not after allocating gigabytes).
  for (const auto& [name, shape] : parameter_shapes(c)) {
    z2h::require_finite(f.get(name, shape), f.path);  // UserError: missing, another shape, NaN or inf
  }
  return {.config = c, .vocab = std::move(vocab), .seed = meta_int(f, "seed"),
          .steps = static_cast<int64_t>(std::min<uint64_t>(meta_int(f, "steps"), INT64_MAX))};
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  const z2h::SafetensorsFile f = z2h::load_safetensors(path);
  const CheckpointConfig cc = checkpoint_config(f);
  const ModelConfig& c = cc.config;
  Model m = make_model(c, [](Shape s) { return z2h::zeros(s).requires_grad_(); });
  for (const auto& [name, t] : m.named_parameters()) {
    const z2h::NamedArray& a = f.get(name, t.shape().vec());
    std::copy(a.data.begin(), a.data.end(), t.data());
  }
  return Checkpoint{.model = m, .vocab = cc.vocab, .seed = cc.seed, .steps = cc.steps};
}

void check_vocab(const Checkpoint& ck, const z2h::Vocab& data_vocab) {
  if (ck.vocab.chars() != data_vocab.chars())
    throw z2h::UserError("the checkpoint was trained on the characters " + z2h::quote(ck.vocab.chars()) +
                         " but the data has " + z2h::quote(data_vocab.chars()) +
                         " (train on the same names file, or start without --load)");
}

}  // namespace mlp
