#pragma once
// common/nn/optim.hpp — optimisers: the lectures' plain SGD and torch.optim.AdamW.
//
// Both update parameters in place, outside the graph (Python's `with torch.no_grad()` / `p.data`),
// and skip parameters that received no gradient.
#include <cstdint>
#include <functional>
#include <vector>

#include "common/tensor/tensor.hpp"

namespace z2h::optim {

// The learning rate as a function of the step number (0, 1, 2, ...), e.g. lecture 3's
//   [](int64_t i) { return i < 100000 ? 0.1 : 0.01; }
using Schedule = std::function<double(int64_t step)>;

// Lectures 2-6:  for p in parameters: p.data += -lr * p.grad   (in float: p + float(-lr) * grad)
struct SGD {
  SGD(std::vector<Tensor> params, double lr);
  SGD(std::vector<Tensor> params, Schedule schedule);
  void step();            // uses schedule(step_count) (or the fixed lr), then step_count += 1
  void zero_grad();       // p.grad = None for every parameter
  double current_lr() const;  // the lr the next step() will use

  std::vector<Tensor> params;
  double lr = 0.0;
  Schedule schedule;  // empty: the fixed lr
  int64_t step_count = 0;
};

// torch.optim.AdamW (torch 1.13 single-tensor algorithm), defaults betas (0.9, 0.999), eps 1e-8,
// weight_decay 0.01. Per parameter, at step t = 1, 2, ...:
//   p *= 1 - lr * weight_decay
//   m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g²
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
struct AdamW {
  explicit AdamW(std::vector<Tensor> params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
                 double eps = 1e-8, double weight_decay = 0.01);
  void step();
  void zero_grad();

  std::vector<Tensor> params;
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step_count = 0;
  std::vector<Tensor> exp_avg, exp_avg_sq;  // m and v, one per parameter
};

}  // namespace z2h::optim
