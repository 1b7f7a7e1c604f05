#pragma once
// 06-wavenet: the model of lecture 6 (makemore_part5_cnn1.ipynb) — an MLP whose context of 8
// characters is fused two at a time, in a tree, as WaveNet's dilated causal convolutions do:
//
//   ........ --> y      Embedding          (B, 8, 24)     each character a 24-vector
//                       FlattenConsecutive (B, 4, 48)     pairs of neighbours side by side
//                       Linear+BN+Tanh     (B, 4, 128)    one small MLP applied to each pair
//                       FlattenConsecutive (B, 2, 256)    pairs of pairs
//                       Linear+BN+Tanh     (B, 2, 128)
//                       FlattenConsecutive (B, 256)       the two halves (the middle dim of 1 dropped)
//                       Linear+BN+Tanh     (B, 128)
//                       Linear             (B, 27)        logits of the next character
//
// The layers are common/nn/nn.hpp's (Embedding, FlattenConsecutive, Linear, Tanh, Sequential). The
// BatchNorm1d is the notebook's own class, op by op (below); in training those lines run as one op,
// batch_norm1d_train, that computes the same numbers in fewer passes.
#include <string>
#include <vector>

#include "common/data/names_dataset.hpp"
#include "common/nn/nn.hpp"
#include "common/nn/optim.hpp"
#include "common/tensor/tensor.hpp"
#include "common/data/text_data.hpp"

namespace stage06 {

// ---- the model's configuration (cell 9) ---------------------------------------------------------
struct ModelConfig {
  int vocab_size = 27;
  int block_size = 8;
  int n_embd = 24;    // the dimensionality of the character embedding vectors
  int n_hidden = 128;  // the number of neurons in each hidden layer
  bool hierarchical = true;  // FlattenConsecutive(2) three times, or FlattenConsecutive(block_size) once
  bool fixed_bn = true;      // BatchNorm1d over dims (0, 1) for 3-D input (false: the video's bug)
};

// ---- the road of the notebook's "performance log" ----------------------------------------------
struct Variant {
  std::string name;
  ModelConfig model;
  std::string log_line;      // the notebook's words for this row
  std::string lecture_params;
  double lecture_train, lecture_val;
};
const std::vector<Variant>& variants();  // original, context8, hierarchical, bnfix, scaled
const Variant& find_variant(const std::string& name);

// ---- lecture 6's BatchNorm1d, as the notebook writes it ------------------------------------------
// x: (N, C) or (N, T, C). Training: xmean = x.mean(dim), xvar = x.var(dim) (unbiased) over dim = 0
// for 2-D input and dims (0, 1) for 3-D input; then
//   xhat = (x - xmean) / sqrt(xvar + eps);  out = gamma * xhat + beta
// and, without gradients, running = (1 - momentum) * running + momentum * batch statistic.
// Eval: the running buffers replace xmean and xvar.
//
// Written op by op (mean, var, -, +, sqrt, /, *, +), not with common's fused batch_norm, because
// autograd then rounds every intermediate as PyTorch's does for the notebook's lines: over 200000
// steps the losses stay PyTorch's. `fixed = false` is the video's first version: x.mean(0) and
// x.var(0) whatever the rank, so a (N, T, C) input keeps T separate statistics per channel and the
// running buffers become (1, T, C) — `positions` is that T (1 for 2-D input).
struct BatchNorm1d : z2h::nn::Module {
  BatchNorm1d(int64_t dim, bool fixed = true, int64_t positions = 1, float eps = 1e-5f, float momentum = 0.1f);
  z2h::Tensor forward(const z2h::Tensor& x) override;
  z2h::nn::NamedTensors named_parameters() const override { return {{"gamma", gamma}, {"beta", beta}}; }
  z2h::nn::NamedTensors named_buffers() const override;
  std::string name() const override { return "BatchNorm1d"; }
  bool fixed;
  // Training normalises through batch_norm1d_train (below): the same numbers in fewer passes. False:
  // the lines above, op by op (the tests compare the two).
  bool fused = true;
  float eps, momentum;
  z2h::Tensor gamma, beta;               // (C)
  z2h::Tensor running_mean, running_var;  // (C); the buggy version: (T, C)

 private:
  void update_running(const z2h::Tensor& xmean, const z2h::Tensor& xvar);
};

// ---- BatchNorm1d's training forward as one op -----------------------------------------------------
// The same numbers as BatchNorm1d's op-by-op lines in training mode, for x: (N, C) or (N, T, C)
// normalised over every dimension but the last — the statistics, y, and in backward every
// gradient (x, gamma, beta) to the bit — in a few passes instead of eight ops' worth. The backward
// replays, element for element, the rules autograd runs for the op-by-op graph and the order in
// which it runs them (tests/test_wavenet.cpp compares the two on random inputs). mean and var
// receive the batch statistics (C) for the running buffers.
z2h::Tensor batch_norm1d_train(const z2h::Tensor& x, const z2h::Tensor& gamma, const z2h::Tensor& beta, float eps,
                               z2h::Tensor& mean, z2h::Tensor& var);

// q[i] = a[i] / b[i] for i < n, to the bit: batch_norm1d_train's division (with FMAs, not the
// divider, where that is exact; wavenet.cpp), for the tests.
void divide(const float* a, const float* b, float* q, int64_t n);

// ---- the model (cell 9) ----------------------------------------------------------------------

// Sequential([Embedding, (FlattenConsecutive, Linear(bias=False), BatchNorm1d, Tanh) x levels,
// Linear]) with the last weight scaled by 0.1 ("make less confident"). Draws from the global
// generator (torch.manual_seed), in the notebook's order. Throws UserError for a hierarchical
// model whose block_size is not a power of two.
z2h::nn::Sequential make_model(const ModelConfig& cfg);
int64_t num_parameters(const z2h::nn::Sequential& model);

// ---- data ----------------------------------------------------------------------------------------
// names.txt split 80/10/10, each split's examples as tensors X (n, block_size), Y (n) (common/data)
using Split = z2h::NamesSplit;
using Data = z2h::NamesData;
using z2h::load_names;

// ---- training, evaluation, sampling ---------------------------------------------------------------
// One step of cell 10: ix = randint(0, n, (batch,)) from the global generator, forward, cross-entropy,
// p.grad = None, backward, SGD. Returns loss.item().
float train_step(z2h::nn::Sequential& model, const Split& train, int batch_size, z2h::optim::SGD& sgd);
// Cell 13's split_loss: the whole split in one forward pass, no gradients, in the model's current mode.
float split_loss(z2h::nn::Sequential& model, const Split& split);
// Cell 15: names drawn with multinomial from the global generator; the model must be in eval mode.
std::vector<std::string> sample(z2h::nn::Sequential& model, const Data& data, int count);

// "Convolution is a for loop" (cells 17-19): forward `count` consecutive examples from `first` one by
// one (eval mode) and all at once; returns the largest |difference| between the two sets of logits.
struct ForLoopCheck {
  z2h::Shape single_shape;  // model(Xtr[[first]]).shape: (1, 27)
  z2h::Shape loop_shape;    // the stacked for-loop logits: (count, 27)
  double max_abs_diff = 0;
};
ForLoopCheck convolution_check(z2h::nn::Sequential& model, const Split& train, int64_t first, int64_t count);

// The context of example i as characters: "...yuhen" (cell 6's printout).
std::string context_string(const Split& s, const z2h::Vocab& vocab, int64_t i);

}  // namespace stage06
