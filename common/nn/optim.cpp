// common/nn/optim.cpp — SGD and AdamW (see optim.hpp for the update rules).
#include "common/nn/optim.hpp"

#include <cmath>
#include <stdexcept>

#include "common/tensor/parallel.hpp"

namespace z2h::optim {

namespace {
void check_params(const std::vector<Tensor>& params, const char* who) {
  for (const Tensor& p : params)
    if (!p.defined() || !p.requires_grad())
      throw std::invalid_argument(std::string(who) + ": every parameter must be a tensor with requires_grad_()");
}
}  // namespace

// ---- SGD -----------------------------------------------------------------------------------
SGD::SGD(std::vector<Tensor> ps, double learning_rate) : params(std::move(ps)), lr(learning_rate) {
  check_params(params, "SGD");
}
SGD::SGD(std::vector<Tensor> ps, Schedule s) : params(std::move(ps)), schedule(std::move(s)) {
  check_params(params, "SGD");
}
double SGD::current_lr() const { return schedule ? schedule(step_count) : lr; }

void SGD::step() {
  const float neg_lr = static_cast<float>(-current_lr());
  for (Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    float* w = p.data();
    const float* d = g.data();
    for (int64_t i = 0, n = p.numel(); i < n; ++i) w[i] += neg_lr * d[i];
  }
  ++step_count;
}
void SGD::zero_grad() {
  for (Tensor& p : params) p.zero_grad();
}

// ---- AdamW ---------------------------------------------------------------------------------
AdamW::AdamW(std::vector<Tensor> ps, double lr_, double b1, double b2, double eps_, double wd)
    : params(std::move(ps)), lr(lr_), beta1(b1), beta2(b2), eps(eps_), weight_decay(wd) {
  check_params(params, "AdamW");
  for (const Tensor& p : params) {
    exp_avg.push_back(zeros(p.shape()));
    exp_avg_sq.push_back(zeros(p.shape()));
  }
}

void AdamW::step() {
  ++step_count;
  const double t = static_cast<double>(step_count);
  // The scalars are computed in double, as Python computes them, then used as floats.
  const float decay = static_cast<float>(1.0 - lr * weight_decay);
  const float b1 = static_cast<float>(beta1), b2 = static_cast<float>(beta2);
  const float one_minus_b1 = static_cast<float>(1.0 - beta1), one_minus_b2 = static_cast<float>(1.0 - beta2);
  const double bias_correction1 = 1.0 - std::pow(beta1, t);
  const float bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(beta2, t)));
  const float step_size = static_cast<float>(lr / bias_correction1);
  const float epsf = static_cast<float>(eps);
  for (size_t k = 0; k < params.size(); ++k) {
    Tensor g = params[k].grad();
    if (!g.defined()) continue;
    float *p = params[k].data(), *m = exp_avg[k].data(), *v = exp_avg_sq[k].data();
    const float* d = g.data();
    // element by element, so a large parameter is shared among the threads (the same bits)
    parallel::for_shares(params[k].numel(), parallel::kMinElements, 16, [&](long begin, long end) {
      for (long i = begin; i < end; ++i) {
        p[i] *= decay;
        // exp_avg.mul_(beta1).add_(grad, alpha=1-beta1); exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1-beta2):
        // PyTorch's add-with-alpha is vec::fmadd and GCC fuses addcmul's self + value * t1 * t2, so both are FMAs
        m[i] = std::fma(d[i], one_minus_b1, m[i] * b1);
        v[i] = std::fma(one_minus_b2 * d[i], d[i], v[i] * b2);
        const float denom = std::sqrt(v[i]) / bias_correction2_sqrt + epsf;
        p[i] += -step_size * m[i] / denom;
      }
    });
  }
}
void AdamW::zero_grad() {
  for (Tensor& p : params) p.zero_grad();
}

}  // namespace z2h::optim
