#pragma once
// 07-gpt/gpt.hpp — the lecture's transformer, one small struct per concept, as gpt.py writes them:
//
//   gpt.py / the Colab           here
//   Head                         Head               one head of masked self-attention
//   MultiHeadAttention           MultiHeadAttention the heads side by side, concatenated, projected
//   FeedFoward                   FeedForward        Linear(C, 4C), ReLU, Linear(4C, C), Dropout
//   Block                        Block              x + sa(ln1(x)), then x + ffwd(ln2(x)) (pre-LN)
//   GPTLanguageModel             Gpt                embeddings, blocks, ln_f, lm_head; generate()
//   BigramLanguageModel          Bigram             bigram.py's (V, V) table of next-token logits
//   get_batch, estimate_loss     get_batch, estimate_loss
//
// Every random draw — the modules' inits in construction order, the batches, dropout's masks and
// generate()'s multinomial — comes from one Generator, as Python's code draws them all from the
// global torch generator after torch.manual_seed(1337).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/rng/generator.hpp"
#include "common/nn/nn.hpp"
#include "common/tensor/ops.hpp"

namespace stage07 {

using z2h::Generator;
using z2h::LongTensor;
using z2h::Tensor;

// How the attention scores are scaled: the Colab's and the video's `C**-0.5` with C = n_embd, or
// gpt.py's HEAD `k.shape[-1]**-0.5` (head size, commit 988848a).
enum class Scale { NEmbd, HeadSize };
// PyTorch's default inits (the Colab, the video) or gpt.py's HEAD `_init_weights` (N(0, 0.02)).
enum class Init { Torch, Gpt };
// How the heads run: as gpt.py's separate Head modules, or all at once as one batched attention
// (exercise 1; the same numbers, one fused kernel).
enum class Attention { PerHead, Batched };

// The model's shape and kind, the Colab's finished model by default (07-gpt's flags set each field).
struct Config {
  int64_t vocab_size = 65;
  int64_t block_size = 32;  // the longest context
  int64_t n_embd = 64;      // 0: bigram.py's table instead of a transformer
  int64_t n_head = 4;
  int64_t n_layer = 4;
  double dropout = 0.0;
  Scale scale = Scale::NEmbd;
  Init init = Init::Torch;
  Attention attention = Attention::Batched;
  bool gelu = false;  // exercise 4: GPT-2's GELU in the feed-forward instead of ReLU
  int64_t ignore_index = -100;  // targets equal to it add no loss (exercise 2 marks its prompts -1)
  int64_t head_size() const { return n_embd / n_head; }
};

// ---- the data: the text as token ids, split 90/10 ------------------------------------------------
struct Split {
  LongTensor train, val;  // (N) token ids
};
Split split_data(const std::vector<int>& ids);  // n = int(0.9 * len(data))

// ix = torch.randint(len(data) - block, (batch,)); x = data[i:i+block], y = data[i+1:i+block+1]
struct Batch {
  LongTensor x, y;  // (B, T)
};
Batch get_batch(const LongTensor& data, int64_t batch, int64_t block, Generator& g);

// ---- the modules ---------------------------------------------------------------------------------
// Training mode and the generator dropout draws from travel with each forward call.
struct Mode {
  bool training = true;
  Generator* gen = nullptr;
};

// x (B, T, C) -> (B, T, hs). wei = softmax(masked(q kᵀ · scale)); out = dropout(wei) @ v
struct Head {
  Head(const Config& cfg, int64_t head_size, Generator& g);
  Tensor forward(const Tensor& x, const Mode& m);
  z2h::nn::TorchLinear key, query, value;
  float scale_of(int64_t C) const;
  Scale scale;
  double dropout;  // nn.Dropout's p, a double as in Python
  bool keep_weights = false;  // keep the next forward's weights in `wei` (for the heatmaps)
  Tensor wei;                 // the attention weights (B, T, T) of the last forward with keep_weights
};

struct MultiHeadAttention {
  MultiHeadAttention(const Config& cfg, Generator& g);
  Tensor forward(const Tensor& x, const Mode& m);
  std::vector<Head> heads;
  z2h::nn::TorchLinear proj;
  double dropout;  // nn.Dropout's p, a double as in Python
  Attention attention;
  bool keep_weights = false;  // keep the next forward's weights (attention_maps reads them)
  Tensor wei;                 // batched attention: the weights (NH, B, T, T) of that forward
};

struct FeedForward {
  FeedForward(const Config& cfg, Generator& g);
  Tensor forward(const Tensor& x, const Mode& m);
  z2h::nn::TorchLinear fc, proj;
  double dropout;  // nn.Dropout's p, a double as in Python
  bool gelu;
};

struct Block {
  Block(const Config& cfg, Generator& g);
  Tensor forward(const Tensor& x, const Mode& m);
  MultiHeadAttention sa;
  FeedForward ffwd;
  z2h::nn::LayerNorm ln1, ln2;
};

// The language model: the transformer (cfg.n_embd > 0) or bigram.py's table (cfg.n_embd == 0).
struct Gpt {
  Gpt(const Config& cfg, Generator& g);
  // idx (B, T) -> logits (B, T, V); with targets also the mean cross-entropy.
  struct Output {
    Tensor logits, loss;
  };
  Output forward(const LongTensor& idx, const LongTensor* targets, const Mode& m);
  // Appends max_new_tokens samples to each row of idx (B, T): crop to the last block_size tokens,
  // softmax of the last step's logits (/ temperature, top_k kept), multinomial(probs, 1).
  LongTensor generate(LongTensor idx, int64_t max_new_tokens, Generator& g, float temperature = 1.0f,
                      int64_t top_k = 0);
  // parameters in gpt.py's named_parameters() order and names
  z2h::nn::NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  int64_t num_parameters() const;

  Config cfg;
  z2h::nn::Embedding token_embedding_table;
  std::unique_ptr<z2h::nn::Embedding> position_embedding_table;  // absent in the bigram
  std::vector<Block> blocks;
  std::unique_ptr<z2h::nn::LayerNorm> ln_f;
  std::unique_ptr<z2h::nn::TorchLinear> lm_head;
};

// estimate_loss(): the mean of eval_iters batch losses per split, in eval mode and without grad.
struct Evaluation {
  float train = 0, val = 0;
};
Evaluation estimate_loss(Gpt& model, const Split& data, int64_t batch, int64_t eval_iters, Generator& g);
// The same over any source of batches: get(true) draws a training batch, get(false) a validation one.
Evaluation estimate_loss(Gpt& model, int64_t eval_iters, Generator& g, const std::function<Batch(bool train)>& get);

// ---- the attention kernel (exercise 1) ---------------------------------------------------------
// Masked scaled dot-product attention of all heads at once, one op with its own backward:
// qkv (B, T, 3C) laid out [q of head 0..NH-1 | k of each head | v of each head], C = NH * hs
// -> (B, T, C), the heads' outputs side by side (torch.cat of the Head modules' outputs).
// Per (batch, head) it makes the Head module's products in its order: S = q kᵀ, S * scale, the
// causal mask, softmax, dropout (masks drawn head by head, as the modules draw them), S @ v.
// It keeps for its backward only q, k, v (its input) and dropout's mask as bits: the backward
// recomputes the weights. *wei, if given, receives the attention weights before dropout, (NH, B, T, T).
Tensor causal_attention(const Tensor& qkv, int64_t n_head, float scale, double dropout, const Mode& m,
                        Tensor* wei = nullptr);

// x (..., C) -> (..., 3C): x @ wᵀ for w = every head's query weights, then every head's key
// weights, then the values' (3·NH weights (hs, C), NH · hs = C), as one op: each q, k, v is its Head
// module's linear (the same product, so the same bits on every OpenBLAS kernel) written straight
// into its columns, each weight gets its own gradient, and the gradient into x adds the 3·NH
// modules' products in PyTorch's autograd order.
Tensor qkv_projection(const Tensor& x, const std::vector<Tensor>& w);

// The attention weights of every head of a block for batch row b, NH tensors (T, T), from the last
// forward run with sa.keep_weights set.
std::vector<Tensor> attention_maps(const MultiHeadAttention& sa, int64_t b = 0);

}  // namespace stage07
