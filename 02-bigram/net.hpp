#pragma once
// 02-bigram/net.hpp — the second half of lecture 2: the same model as a one-layer neural net,
// built on common/'s tensors and autograd.
//
//   xenc = F.one_hot(xs, num_classes=27).float()    # (n, 27): row i is all zeros but a 1 at xs[i]
//   logits = xenc @ W                              # (n, 27) @ (27, 27): "log-counts"
//   counts = logits.exp()                          # (n, 27): positive, like N
//   probs = counts / counts.sum(1, keepdims=True)  # (n, 27): rows sum to 1 (these two lines: softmax)
//   loss = -probs[torch.arange(n), ys].log().mean() + 0.01*(W**2).mean()
//
// W plays the role of log N: after training, exp(W) row-normalised is (close to) the count model's
// P, and the regulariser 0.01*(W**2).mean() pulls W towards 0 — uniform rows — as smoothing does.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "02-bigram/counts.hpp"
#include "common/rng/generator.hpp"
#include "common/tensor/ops.hpp"
#include "common/tensor/tensor.hpp"

namespace bigram {

// How the forward pass is written. All three compute the same loss:
//   onehot: the lecture's one_hot(xs) @ W, exp, row-normalise, pick, log, mean
//   index:  exercise E04: W[xs] instead of one_hot(xs) @ W (a one-hot row times W IS a row of W)
//   fused:  exercise E05: F.cross_entropy(W[xs], ys), softmax and NLL in one numerically safe op
enum class Forward { onehot, index, fused };
const char* forward_name(Forward f);

// The loss of the net: NLL of ys given xs, plus reg * (W**2).mean(). W: (rows, 27); xs, ys: (n).
z2h::Tensor loss_fn(const z2h::Tensor& W, const z2h::LongTensor& xs, const z2h::LongTensor& ys, float reg, Forward f);

// softmax(one_hot(xs) @ W) as the lecture writes it: exp, then divide by the row sums. (n, 27)
z2h::Tensor probs_of(const z2h::Tensor& W, const z2h::LongTensor& xs);

// The untrained net on the first examples (the lecture's five bigrams of "emma"): the
// probabilities it gives every character, the one it gives the right one, its NLL, and their mean
// (nlls = torch.zeros(5); nlls[i] = -torch.log(probs[i, ys[i]]); nlls.mean()).
struct Breakdown {
  z2h::Tensor probs;               // (n, 27)
  std::vector<float> p, nll;       // per example
  float loss;                      // nlls.mean(): 3.7693049907684326 for "emma" and the lecture's seed
};
Breakdown breakdown(const z2h::Tensor& W, const std::vector<int64_t>& xs, const std::vector<int64_t>& ys);

// The lecture's gradient descent: for each step, the forward pass, W.grad = None, loss.backward(),
// W.data += -lr * W.grad. Returns the loss of every step, computed BEFORE that step's update.
// `on_step(k, loss)` is called after each step (progress lines, the progress bar).
std::vector<double> train(z2h::Tensor& W, const z2h::LongTensor& xs, const z2h::LongTensor& ys, int64_t steps,
                          float lr, float reg, Forward f,
                          const std::function<void(int64_t, double)>& on_step = nullptr);

// train() with the lecture's progress lines (every `every` steps and the last) above a progress
// bar labelled `label` (the bar only on a terminal, none with quiet; see common/app/progress.hpp).
std::vector<double> train_logged(z2h::Tensor& W, const z2h::LongTensor& xs, const z2h::LongTensor& ys, int64_t steps,
                                 float lr, float reg, Forward f, const std::string& label, bool quiet,
                                 int64_t every = 10);

// Names from the net: the counts model's loop with P[ix] replaced by the net's softmax for input
// ix (one_hot(tensor([ix]), rows) @ W, exp, normalise). context: 1 bigram, 2 trigram (see counts.hpp).
std::vector<std::string> sample_net(const z2h::Tensor& W, int n, int context, z2h::Generator& g,
                                    const z2h::Vocab& vocab);

// The mean NLL of (xs, ys) under W, without the regulariser and without building a graph: the
// number to compare with the counts model and across splits.
double nll(const z2h::Tensor& W, const z2h::LongTensor& xs, const z2h::LongTensor& ys);

z2h::LongTensor as_long(const std::vector<int64_t>& v);

}  // namespace bigram
