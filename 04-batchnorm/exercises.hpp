#pragma once
// The notebook's bonus cells and the video's two exercises.
#include "deep.hpp"
#include "mlp.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace stage04 {

// ---- bonus: "Linear: activation statistics of forward and backward pass", and the same with a
// BatchNorm after the Linear (the notebook's last two cells, not covered in the video) -----------
//   a (1000,1), b (1000,1000) ~ randn;  c = b @ a;  loss = randn(1000) @ c
// c's values have std ~ sqrt(1000) ~ 31: a Linear without 1/sqrt(fan_in) blows the activations up,
// and the gradient flowing back into a by the same factor. With batch norm after it, out has std 1
// and the gradient reaching x is divided by x's std: the layer's scale no longer matters.
struct BonusStats {
  std::vector<std::pair<std::string, double>> linear;     // "a std", "b std", "c std", "c grad std", ...
  std::vector<std::pair<std::string, double>> linear_bn;  // "inp std", "w std", "x std", "out std", ...
  std::vector<float> normshow_x;                          // the BatchNorm widget's 5 inputs: randn(5) * 5
};
BonusStats bonus_statistics();

// ---- E01: initialise every weight and bias to zero, then train --------------------------------
// tanh(0) = 0, so h is 0 and dW2 = hᵀ·dlogits = 0; and dh = dlogits·W2ᵀ = 0 because W2 is 0, so
// nothing before the output layer ever receives a gradient. Only b2 trains: the net becomes a
// unigram model, and its loss falls to the entropy of the next-character distribution.
struct ZeroInitResult {
  std::vector<float> losses;                       // one per step
  std::vector<std::string> names;                  // parameter names: C, W1, b1, W2, b2
  std::vector<std::vector<double>> max_abs_grad;   // [parameter][step]
  std::vector<int64_t> nonzero;                    // nonzero entries of each parameter after training
  std::vector<double> b2_probs;                    // softmax(b2) after training
  std::vector<double> unigram;                     // the training set's next-character frequencies
  double unigram_entropy = 0;                      // -Σ p ln p of those frequencies: the best a bias can do
  float train = 0, val = 0;
  z2h::Tensor h0;                                  // the step-0 tanh outputs (all zero)
};
// on_step(i, loss) is called after every step (progress lines, metrics).
ZeroInitResult train_zero_init(const Data& data, uint64_t seed, int64_t steps, int batch_size,
                               const z2h::optim::Schedule& lr_at,
                               const std::function<void(int64_t, float)>& on_step);

// ---- E02: fold each BatchNorm into the Linear before it ---------------------------------------
// In evaluation mode BatchNorm is a fixed per-column affine map, so with s = gamma / sqrt(var + eps)
//   W' = W * s (column j scaled by s_j),   b' = (b - running_mean) * s + beta
// gives the same outputs with one layer instead of two.
struct FoldResult {
  int64_t params_bn = 0, params_folded = 0;
  double max_abs_diff = 0;  // between the two nets' logits on the whole validation split
  float val_bn = 0, val_folded = 0;
};
// The trained net's eval-mode logits compared with its folded copy's on `split`.
FoldResult fold_and_compare(DeepNet& net, const Split& split);
// The folded copy: Linear layers with W' and b', no BatchNorm1d, the Tanh layers as they were.
DeepNet fold_batchnorm(const DeepNet& net);

}  // namespace stage04
