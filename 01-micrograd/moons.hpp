#pragma once
// The moons demo of micrograd's demo.ipynb: a 2-16-16-1 ReLU net learns to separate two interleaved
// half-moons with an SVM "max-margin" loss, full batch, plain SGD.
//
//   MoonsConfig cfg;                          // the notebook's hyper-parameters
//   MoonsRun run = setup_moons(cfg, 1337);    // the data set and the untrained model
//   train_moons(run, cfg, [](const MoonsStep& s) { ... });
//   // run.steps[0].loss == 0.8958441028683222, run.steps[99].loss == 0.010978370135492717
#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "nn.hpp"

namespace micrograd {

struct MoonsConfig {
  int n_samples = 100;           // make_moons(n_samples=100, noise=0.1)
  double noise = 0.1;
  std::vector<int> hidden = {16, 16};  // MLP(2, [16, 16, 1])
  double alpha = 1e-4;           // L2 regularisation strength
  int64_t steps = 100;           // full-batch SGD steps
  double lr_start = 1.0;         // learning_rate = lr_start - lr_decay * k / steps
  double lr_decay = 0.9;         //   (1.0 - 0.9*k/100 in the notebook)
};

// One optimisation step, as the notebook prints it: the loss and accuracy computed at step k,
// before that step's update.
struct MoonsStep {
  int64_t step;
  double loss;
  double accuracy;  // fraction of points on the right side, 0..1
  double learning_rate;
};

struct MoonsRun {
  std::vector<std::array<double, 2>> X;  // the data set, y = -1 or +1
  std::vector<int> y;
  MLP model;                             // trained
  std::vector<MoonsStep> steps;
};

// The data set and the untrained model, seeded as the notebook seeds them: numpy's
// np.random.seed(seed) for make_moons and Python's random.seed(seed) for the weights.
MoonsRun setup_moons(const MoonsConfig& cfg, uint32_t seed);

// cfg.steps steps of full-batch SGD on run.model, appended to run.steps; `on_step` (optional) sees
// every step as it finishes.
void train_moons(MoonsRun& run, const MoonsConfig& cfg, const std::function<void(const MoonsStep&)>& on_step = {});

// The model's score for one point (the decision boundary is score = 0).
double score(const MLP& model, double x0, double x1);

}  // namespace micrograd
