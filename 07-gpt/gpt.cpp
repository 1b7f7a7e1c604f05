// 07-gpt/gpt.cpp — the transformer of gpt.py, module by module (see gpt.hpp).
#include "gpt.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

#include "common/app/error.hpp"
#include "common/tensor/parallel.hpp"

namespace stage07 {

namespace nn = z2h::nn;

// ================================================================================================
// data
// ================================================================================================
Split split_data(const std::vector<int>& ids) {
  const int64_t n = static_cast<int64_t>(0.9 * static_cast<double>(ids.size()));  // int(0.9*len(data))
  std::vector<int64_t> all(ids.begin(), ids.end());
  Split s;
  s.train = LongTensor(std::vector<int64_t>(all.begin(), all.begin() + n));
  s.val = LongTensor(std::vector<int64_t>(all.begin() + n, all.end()));
  return s;
}

Batch get_batch(const LongTensor& data, int64_t batch, int64_t block, Generator& g) {
  const int64_t n = data.numel();
  if (n <= block)
    throw z2h::UserError("the data has " + std::to_string(n) + " tokens, fewer than block_size + 1 = " +
                         std::to_string(block + 1) + " (use a smaller --block-size)");
  const LongTensor ix = z2h::randint(0, n - block, {batch}, g);  // torch.randint(len(data) - block_size, (B,))
  std::vector<int64_t> x(static_cast<size_t>(batch * block)), y(x.size());
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t i = ix.data[static_cast<size_t>(b)];
    std::copy_n(data.data.begin() + i, block, x.begin() + b * block);
    std::copy_n(data.data.begin() + i + 1, block, y.begin() + b * block);
  }
  return {LongTensor(std::move(x), {batch, block}), LongTensor(std::move(y), {batch, block})};
}

// ================================================================================================
// the modules
//
// Outside Head (whose forward the chapter quotes), the layers are called as `ln1.forward(x)`, not
// `ln1(x)`: the call would also keep the result in the module's `out` (lecture 4's statistics)
// until the next step, and this model never reads it — with gpt.py's sizes that is 0.9 GB of
// activations no backward needs (PyTorch's nn.Module keeps nothing).
// ================================================================================================
namespace {
// The causal mask: 1 above the diagonal, where `tril[:T, :T] == 0` (T, T).
Tensor above_diagonal(int64_t T) {
  Tensor m = z2h::zeros({T, T});
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = i + 1; j < T; ++j) m.data()[i * T + j] = 1.0f;
  return m;
}
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}  // namespace

Head::Head(const Config& cfg, int64_t head_size, Generator& g)
    : key(cfg.n_embd, head_size, false, g),
      query(cfg.n_embd, head_size, false, g),
      value(cfg.n_embd, head_size, false, g),
      scale(cfg.scale),
      dropout(cfg.dropout) {}

// `C**-0.5` (a Python double, then a float32 multiply) with C = n_embd, or head_size**-0.5
float Head::scale_of(int64_t C) const {
  const int64_t n = scale == Scale::NEmbd ? C : key.weight.size(0);
  return static_cast<float>(std::pow(static_cast<double>(n), -0.5));
}

Tensor Head::forward(const Tensor& x, const Mode& m) {
  const int64_t T = x.size(1), C = x.size(2);
  Tensor k = key(x);                                                    // (B, T, hs)
  Tensor q = query(x);                                                  // (B, T, hs)
  Tensor w = z2h::matmul(q, z2h::transpose(k, -2, -1)) * scale_of(C);  // (B, T, T)
  w = z2h::masked_fill(w, above_diagonal(T), kNegInf);
  w = z2h::softmax(w, -1);
  wei = keep_weights ? w.detach() : Tensor();
  w = z2h::dropout(w, dropout, m.training, *m.gen);
  Tensor v = value(x);                                                  // (B, T, hs)
  return z2h::matmul(w, v);                                             // (B, T, hs)
}

MultiHeadAttention::MultiHeadAttention(const Config& cfg, Generator& g)
    : heads([&] {
        std::vector<Head> hs;
        for (int64_t h = 0; h < cfg.n_head; ++h) hs.emplace_back(cfg, cfg.head_size(), g);
        return hs;
      }()),
      proj(cfg.head_size() * cfg.n_head, cfg.n_embd, true, g),
      dropout(cfg.dropout),
      attention(cfg.attention) {}

Tensor MultiHeadAttention::forward(const Tensor& x, const Mode& m) {
  Tensor out;
  if (attention == Attention::PerHead) {
    std::vector<Tensor> outs;
    for (Head& h : heads) {
      h.keep_weights = keep_weights;
      outs.push_back(h.forward(x, m));
    }
    out = z2h::cat(outs, -1);  // (B, T, NH * hs)
  } else {
    // Exercise 1: the heads as a batch dimension. One op runs every Head module's three linears on
    // the modules' own weights (so each weight gets its gradient) into one (B, T, 3 * NH * hs),
    // laid out [q of each head | k of each head | v of each head]; the fused kernel attends per
    // (batch, head) and writes the heads side by side, as torch.cat did.
    std::vector<Tensor> w;
    for (Head& h : heads) w.push_back(h.query.weight);
    for (Head& h : heads) w.push_back(h.key.weight);
    for (Head& h : heads) w.push_back(h.value.weight);
    Tensor qkv = qkv_projection(x, w);
    out = causal_attention(qkv, static_cast<int64_t>(heads.size()), heads[0].scale_of(x.size(2)), dropout, m,
                           keep_weights ? &wei : nullptr);
    if (!keep_weights) wei = Tensor();
  }
  return z2h::dropout(proj.forward(out), dropout, m.training, *m.gen);
}

FeedForward::FeedForward(const Config& cfg, Generator& g)
    : fc(cfg.n_embd, 4 * cfg.n_embd, true, g), proj(4 * cfg.n_embd, cfg.n_embd, true, g), dropout(cfg.dropout), gelu(cfg.gelu) {}

Tensor FeedForward::forward(const Tensor& x, const Mode& m) {
  Tensor h = fc.forward(x);
  h = gelu ? z2h::gelu(h) : z2h::relu(h);  // (fc's output is freed here: relu's backward reads its own)
  return z2h::dropout(proj.forward(h), dropout, m.training, *m.gen);
}

Block::Block(const Config& cfg, Generator& g) : sa(cfg, g), ffwd(cfg, g), ln1(cfg.n_embd), ln2(cfg.n_embd) {}

Tensor Block::forward(const Tensor& x0, const Mode& m) {
  Tensor x = x0 + sa.forward(ln1.forward(x0), m);  // communication
  return x + ffwd.forward(ln2.forward(x), m);      // computation
}

// ================================================================================================
// the language model
// ================================================================================================
namespace {
std::vector<Block> make_blocks(const Config& cfg, Generator& g) {
  std::vector<Block> b;
  for (int64_t i = 0; i < cfg.n_layer; ++i) b.emplace_back(cfg, g);
  return b;
}
void check_config(const Config& c) {
  if (c.n_embd == 0) return;
  if (c.n_head < 1 || c.n_embd % c.n_head != 0)
    throw z2h::UserError("n_embd (" + std::to_string(c.n_embd) + ") must be a multiple of n_head (" +
                         std::to_string(c.n_head) + ")");
}
}  // namespace

Gpt::Gpt(const Config& c, Generator& g)
    : cfg((check_config(c), c)),
      token_embedding_table(c.vocab_size, c.n_embd > 0 ? c.n_embd : c.vocab_size, g),
      position_embedding_table(c.n_embd > 0 ? std::make_unique<nn::Embedding>(c.block_size, c.n_embd, g) : nullptr),
      blocks(c.n_embd > 0 ? make_blocks(c, g) : std::vector<Block>{}),
      ln_f(c.n_embd > 0 ? std::make_unique<nn::LayerNorm>(c.n_embd) : nullptr),
      lm_head(c.n_embd > 0 ? std::make_unique<nn::TorchLinear>(c.n_embd, c.vocab_size, true, g) : nullptr) {
  if (cfg.n_embd > 0 && cfg.init == Init::Gpt) {
    // gpt.py's self.apply(self._init_weights): children before parents, in registration order —
    // which for this model is the order of named_parameters(), LayerNorms skipped.
    for (auto& [name, p] : named_parameters()) {
      if (name.find("ln") != std::string::npos) continue;
      if (name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0) p.fill_(0.0f);
      else z2h::normal_(p.data(), static_cast<size_t>(p.numel()), 0.0, 0.02, g);
    }
  }
}

Gpt::Output Gpt::forward(const LongTensor& idx, const LongTensor* targets, const Mode& m) {
  const int64_t B = idx.size(0), T = idx.size(1);
  if (T > cfg.block_size && cfg.n_embd > 0)
    throw std::invalid_argument("Gpt: context of " + std::to_string(T) + " tokens is longer than block_size " +
                                std::to_string(cfg.block_size));
  Tensor logits;
  if (cfg.n_embd == 0) {
    logits = token_embedding_table.forward(idx);                        // (B, T, V)
  } else {
    Tensor tok_emb = token_embedding_table.forward(idx);                        // (B, T, C)
    Tensor pos_emb = position_embedding_table->forward(z2h::arange_long(T));  // (T, C)
    Tensor x = tok_emb + pos_emb;                                       // (B, T, C)
    for (Block& b : blocks) x = b.forward(x, m);
    x = ln_f->forward(x);
    logits = lm_head->forward(x);                                       // (B, T, V)
  }
  Output out{logits, Tensor()};
  if (targets) {
    const int64_t V = logits.size(-1);
    out.loss = z2h::cross_entropy(logits.view({B * T, V}), targets->view({B * T}), cfg.ignore_index);
  }
  return out;
}

LongTensor Gpt::generate(LongTensor idx, int64_t max_new_tokens, Generator& g, float temperature, int64_t top_k) {
  z2h::NoGradGuard no_grad;
  const Mode m{true, &g};  // as the script: generate() runs after model.train(), so dropout stays on
  for (int64_t i = 0; i < max_new_tokens; ++i) {
    const int64_t T = idx.size(1);
    const LongTensor cond = cfg.n_embd == 0 ? idx : idx.slice(1, std::max<int64_t>(0, T - cfg.block_size), T);
    Tensor logits = z2h::select(forward(cond, nullptr, m).logits, 1, -1);  // (B, V)
    if (temperature != 1.0f) logits = logits / temperature;
    if (top_k > 0 && top_k < logits.size(-1)) {
      const int64_t V = logits.size(-1);
      for (int64_t r = 0; r < logits.size(0); ++r) {
        float* row = logits.data() + r * V;
        std::vector<float> sorted(row, row + V);
        std::nth_element(sorted.begin(), sorted.begin() + (top_k - 1), sorted.end(), std::greater<float>());
        const float kth = sorted[static_cast<size_t>(top_k - 1)];
        for (int64_t j = 0; j < V; ++j)
          if (row[j] < kth) row[j] = kNegInf;
      }
    }
    Tensor probs = z2h::softmax(logits, -1);
    LongTensor next = z2h::multinomial(probs, 1, false, g);  // (B, 1)
    idx = z2h::cat({idx, next}, 1);
  }
  return idx;
}

nn::NamedTensors Gpt::named_parameters() const {
  nn::NamedTensors ps{{"token_embedding_table.weight", token_embedding_table.weight}};
  if (cfg.n_embd == 0) return ps;
  ps.emplace_back("position_embedding_table.weight", position_embedding_table->weight);
  for (size_t i = 0; i < blocks.size(); ++i) {
    const Block& b = blocks[i];
    const std::string p = "blocks." + std::to_string(i) + ".";
    for (size_t h = 0; h < b.sa.heads.size(); ++h) {
      const std::string hp = p + "sa.heads." + std::to_string(h) + ".";
      ps.emplace_back(hp + "key.weight", b.sa.heads[h].key.weight);
      ps.emplace_back(hp + "query.weight", b.sa.heads[h].query.weight);
      ps.emplace_back(hp + "value.weight", b.sa.heads[h].value.weight);
    }
    ps.emplace_back(p + "sa.proj.weight", b.sa.proj.weight);
    ps.emplace_back(p + "sa.proj.bias", b.sa.proj.bias);
    ps.emplace_back(p + "ffwd.net.0.weight", b.ffwd.fc.weight);
    ps.emplace_back(p + "ffwd.net.0.bias", b.ffwd.fc.bias);
    ps.emplace_back(p + "ffwd.net.2.weight", b.ffwd.proj.weight);
    ps.emplace_back(p + "ffwd.net.2.bias", b.ffwd.proj.bias);
    ps.emplace_back(p + "ln1.weight", b.ln1.weight);
    ps.emplace_back(p + "ln1.bias", b.ln1.bias);
    ps.emplace_back(p + "ln2.weight", b.ln2.weight);
    ps.emplace_back(p + "ln2.bias", b.ln2.bias);
  }
  ps.emplace_back("ln_f.weight", ln_f->weight);
  ps.emplace_back("ln_f.bias", ln_f->bias);
  ps.emplace_back("lm_head.weight", lm_head->weight);
  ps.emplace_back("lm_head.bias", lm_head->bias);
  return ps;
}

std::vector<Tensor> Gpt::parameters() const {
  std::vector<Tensor> ps;
  for (auto& [n, p] : named_parameters()) ps.push_back(p);
  return ps;
}

int64_t Gpt::num_parameters() const { return nn::count_parameters(parameters()); }

Evaluation estimate_loss(Gpt& model, const Split& data, int64_t batch, int64_t eval_iters, Generator& g) {
  return estimate_loss(model, eval_iters, g, [&](bool train) {
    return get_batch(train ? data.train : data.val, batch, model.cfg.block_size, g);
  });
}

namespace {
// Whether a forward of `rows` rows has a product large enough to be shared among the threads: the
// largest, the feed-forward's (rows, C) x (C, 4C).
bool products_shared(const Config& c, int64_t rows) { return rows * c.n_embd * 4 * c.n_embd >= z2h::parallel::kMinProductMacs; }
}  // namespace

Evaluation estimate_loss(Gpt& model, int64_t eval_iters, Generator& g, const std::function<Batch(bool train)>& get) {
  z2h::NoGradGuard no_grad;
  const Mode m{false, &g};  // model.eval()
  Evaluation e;
  // With several threads and a model too small to share its products (the Colab's, 512 rows), the
  // evaluation shares its forwards instead: the batches are drawn first, in the loop's order, then
  // each thread computes its share of the losses on a copy of the weights of its own (a Tensor
  // handle's count is a plain int: threads must not share handles), with the same kernels — so the
  // same losses as one forward after another.
  const int threads = std::min<int>(z2h::parallel::threads(), static_cast<int>(eval_iters));
  std::vector<std::unique_ptr<Gpt>> copies;
  for (int split = 0; split < 2; ++split) {
    Tensor losses = z2h::zeros({eval_iters});
    std::vector<Batch> batches;
    for (int64_t k = 0; k < eval_iters; ++k) batches.push_back(get(split == 0));
    const bool share = threads > 1 && !products_shared(model.cfg, batches[0].x.numel());
    if (share && copies.empty()) {
      Generator scratch(0);  // the copies' initial weights are overwritten at once
      for (int t = 1; t < threads; ++t) {
        copies.push_back(std::make_unique<Gpt>(model.cfg, scratch));
        const std::vector<Tensor> from = model.parameters(), to = copies.back()->parameters();
        for (size_t i = 0; i < from.size(); ++i) std::copy_n(from[i].data(), from[i].numel(), to[i].data());
      }
    }
    float* out = losses.data();
    z2h::parallel::run(share ? threads : 1, [&](int part) {
      z2h::NoGradGuard no_grad_here;  // (grad mode is per thread)
      Gpt& mine = part == 0 ? model : *copies[static_cast<size_t>(part - 1)];
      long begin, end;
      z2h::parallel::share(eval_iters, share ? threads : 1, part, 1, begin, end);
      for (long k = begin; k < end; ++k) {
        const Batch& b = batches[static_cast<size_t>(k)];
        out[k] = mine.forward(b.x, &b.y, m).loss.item();
      }
    });
    (split == 0 ? e.train : e.val) = z2h::mean(losses).item();  // losses.mean(), in torch's order
  }
  return e;
}

}  // namespace stage07
