#pragma once
// The MLP of the lecture's first half (makemore_part3_bn.ipynb, cells 6-10), and the four states
// the video walks through before it (the notebook's "loss log"):
//
//   variant     init (all randn from one generator, in the order C, W1, b1, W2, b2)   step-0 loss
//   original    unscaled, lecture 3's init                                              27.8817
//   softmax     W2 * 0.01, b2 * 0      "fix softmax confidently wrong"                   3.3221
//   tanh        ... and W1 * 0.2, b1 * 0.01   "fix tanh layer too saturated at init"      3.3135
//   kaiming     ... W1 * (5/3)/sqrt(fan_in) instead of 0.2   "semi-principled"          3.3179
//   batchnorm   no b1; batch norm between W1 and tanh (the default)                     3.3239
//
//   emb = C[X]                      (B, 3, 10)
//   hpreact = emb.view(B, 30) @ W1  (B, 200)    (+ b1 without batch norm)
//   hpreact = bngain * (hpreact - mean_batch) / std_batch + bnbias     (batch norm, training)
//   h = tanh(hpreact)               (B, 200)
//   logits = h @ W2 + b2            (B, 27)
#include "common/nn/nn.hpp"
#include "common/nn/optim.hpp"
#include "common/tensor/tensor.hpp"
#include "common/data/names_dataset.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace stage04 {

enum class Variant { original, softmax, tanh, kaiming, batchnorm };
const std::vector<std::string>& variant_names();  // {"original", ..., "batchnorm"}: --variant's choices
Variant parse_variant(const std::string& name);   // throws z2h::UserError for an unknown name
std::string to_string(Variant v);

struct MlpConfig {
  Variant variant = Variant::batchnorm;
  int vocab_size = 27;
  int block_size = 3;
  int n_embd = 10;     // the dimensionality of the character embedding vectors
  int n_hidden = 200;  // the number of neurons in the hidden layer
  float bn_momentum = 0.001f;  // bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani
};

struct Mlp {
  MlpConfig cfg;
  z2h::Tensor C, W1, b1, W2, b2;              // b1 is undefined in the batch-norm net
  z2h::Tensor bngain, bnbias;                 // (1, n_hidden); batch-norm net only
  z2h::Tensor bnmean_running, bnstd_running;  // (1, n_hidden) buffers, not trained by backprop
  z2h::Tensor hpreact, h;                     // the last forward's pre-activation (before batch norm) and tanh output

  std::vector<z2h::Tensor> parameters() const;       // C, W1, (b1), W2, b2, (bngain, bnbias): the notebook's order
  std::vector<std::string> parameter_names() const;  // "C", "W1", ...
  int64_t num_parameters() const;                    // 12097 for the default
};

// Draws the parameters from `g` in the notebook's order and scales them as the variant says.
Mlp make_mlp(const MlpConfig& cfg, z2h::Generator& g);

// Logits (B, vocab_size) for contexts X (B, block_size). training: batch statistics, and the
// running statistics are updated; otherwise the running statistics are used (the notebook's
// split_loss and sampling).
z2h::Tensor forward(Mlp& m, const z2h::LongTensor& X, bool training);

// The training data as tensors, and names.txt split 80/10/10 into them (common/data/names_dataset.hpp).
using Split = z2h::NamesSplit;
using Data = z2h::NamesData;
using z2h::load_names;

// One step of the notebook's loop: a minibatch from randint(0, n, (batch,), g), forward,
// cross-entropy, backward, and sgd.step(): p.data += -lr * p.grad with the step's lr.
// Returns the minibatch loss (before the update).
float train_step(Mlp& m, const Split& train, z2h::Generator& g, int batch_size, z2h::optim::SGD& sgd);

// The notebook's split_loss: cross-entropy of the whole split in evaluation mode.
float split_loss(Mlp& m, const Split& split);

// The mean cross-entropy of logits_of(X) over a whole split, computed 8192 rows at a time (the
// chunks' sums added in double), so the 182625 training examples need ~40 MB instead of ~1 GB.
float mean_cross_entropy(const Split& split, const std::function<z2h::Tensor(const z2h::LongTensor&)>& logits_of);

// The checkpoint: every parameter and buffer by its notebook name.
z2h::nn::NamedTensors state(const Mlp& m);

}  // namespace stage04
