#pragma once
// 03-mlp/model.hpp — the model of Bengio et al. 2003 as lecture 3 builds it, and what is done with it:
// one SGD step on a minibatch, the loss over a whole split, sampling names.
//
//   C   (27, emb)                   a learned emb-dimensional vector for each character
//   W1  (block_size*emb, hidden)    the hidden layer, tanh
//   b1  (hidden)
//   W2  (hidden, 27)                the output layer: logits over the next character
//   b2  (27)
//   W3  (block_size*emb, 27)        only with --direct: the paper's direct input->output weights (E03)
//
// (27 is the vocabulary of names.txt, '.' and a..z; another names file brings its own size.)
//
// With the defaults (block_size 3, emb 10, hidden 200) that is 270 + 6000 + 200 + 5400 + 27 = 11897
// parameters, the lecture's count.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/nn/optim.hpp"
#include "common/tensor/tensor.hpp"
#include "common/data/text_data.hpp"
#include "common/io/safetensors.hpp"

namespace mlp {

using z2h::LongTensor;
using z2h::Tensor;

inline constexpr int kVocab = 27;  // '.' and a..z: names.txt's vocabulary

// How the parameters start (both draw the same numbers from the generator, in the same order).
//   lecture: unscaled randn, as the notebook did (step-0 loss ~28 instead of ~3.3: exercise E02)
//   tuned:   the same numbers scaled: W1 *= (5/3)/sqrt(fan_in), b1 *= 0.01, W2 *= 0.01, b2 = 0
//            (W3 *= 0.01): the logits start near zero, so the predictions start near uniform.
enum class Init { lecture, tuned };

struct ModelConfig {
  int block_size = 3;  // how many characters of context predict the next one
  int emb = 10;        // embedding dimensions per character
  int hidden = 200;    // neurons in the tanh layer
  bool direct = false; // Bengio et al.'s direct connections from the embeddings to the logits
  Init init = Init::lecture;
  int vocab_size = kVocab;  // characters, '.' included: the data's (Vocab::from_words)
};

struct Model {
  ModelConfig cfg;
  Tensor C, W1, b1, W2, b2, W3;  // W3 is undefined unless cfg.direct

  // Draws C, W1, b1, W2, b2 (then W3) with randn(..., generator=g), the lecture's order.
  static Model init(const ModelConfig& cfg, z2h::Generator& g);

  // The parameters with their names, in the order they were drawn (also the checkpoint's names).
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;
  int64_t num_params() const;

  // X: (B, block_size) character indices -> logits (B, vocab_size)
  Tensor forward(const LongTensor& X) const;
};

// One step of the lecture's loop on the minibatch (Xb, Yb): forward, cross-entropy, p.grad = None,
// backward, and the SGD update p.data += -lr * p.grad (lr from the optimiser's schedule).
// Returns the minibatch loss, computed before the update.
float train_step(Model& model, z2h::optim::SGD& sgd, const LongTensor& Xb, const LongTensor& Yb);

// The mean cross-entropy over a whole split (no gradients; evaluated in chunks to bound memory).
double split_loss(const Model& model, const LongTensor& X, const LongTensor& Y);

// Samples `n` names from a generator seeded `seed`, one character at a time with
// multinomial(probs, 1) — lecture 3's sampling loop. Each name ends with its '.'.
std::vector<std::string> sample(const Model& model, const z2h::Vocab& vocab, int n, uint64_t seed);

// ---- checkpoints (safetensors: C, W1, b1, W2, b2[, W3] + the configuration as metadata) --------
struct Checkpoint {
  Model model;
  z2h::Vocab vocab;
  uint64_t seed = 0;   // the --seed of the run that saved it (sampling uses seed + 10)
  int64_t steps = 0;   // how many steps it was trained
};

// Writes atomically; PyTorch reads it with safetensors.torch.load_file(path).
void save_checkpoint(const std::filesystem::path& path, const Model& model, const z2h::Vocab& vocab,
                     uint64_t seed, int64_t steps);
// Throws z2h::UserError naming the file for a missing, corrupt or truncated file, one written by
// another stage, or parameters whose shapes do not match the stored configuration. The stored
// configuration is checked against the file's tensor shapes before the model is allocated, so a
// corrupt size in the metadata cannot ask for more memory than the file holds.
Checkpoint load_checkpoint(const std::filesystem::path& path);

// What load_checkpoint checks before it allocates anything: the metadata (stage, sizes within
// [1, 1000000], a names vocabulary, seed, steps) and that every parameter that configuration
// implies is in the file with its shape and finite values. Throws z2h::UserError naming the file.
struct CheckpointConfig {
  ModelConfig config;
  z2h::Vocab vocab;
  uint64_t seed = 0;
  int64_t steps = 0;
};
CheckpointConfig checkpoint_config(const z2h::SafetensorsFile& file);

// Throws z2h::UserError when the data's vocabulary is not the checkpoint's (another names file):
// the model's rows would mean other characters.
void check_vocab(const Checkpoint& ck, const z2h::Vocab& data_vocab);

}  // namespace mlp
