// 02-bigram/net.cpp — the one-layer net: forward (three ways), gradient descent, sampling.
#include "02-bigram/net.hpp"

#include <cmath>

#include "02-bigram/report.hpp"
#include "common/app/progress.hpp"
#include "common/app/run_report.hpp"

namespace bigram {

using z2h::LongTensor;
using z2h::Shape;
using z2h::Tensor;

LongTensor as_long(const std::vector<int64_t>& v) { return LongTensor(v); }

const char* forward_name(Forward f) {
  switch (f) {
    case Forward::onehot: return "one-hot @ W";
    case Forward::index: return "W[xs]";
    case Forward::fused: return "cross_entropy";
  }
  return "?";
}

Tensor probs_of(const Tensor& W, const LongTensor& xs) {
  Tensor xenc = z2h::one_hot(xs, W.size(0));                 // (n, rows): input to the network
  Tensor logits = z2h::matmul(xenc, W);                      // (n, 27): predict log-counts
  Tensor counts = z2h::exp(logits);                          // (n, 27): counts, equivalent to N
  return counts / z2h::sum(counts, {1}, /*keepdim=*/true);   // (n, 27) / (n, 1): probabilities
}

Tensor loss_fn(const Tensor& W, const LongTensor& xs, const LongTensor& ys, float reg, Forward f) {
  const Tensor regulariser = reg * z2h::mean(z2h::pow(W, 2.0f));  // 0.01*(W**2).mean()
  if (f == Forward::fused) return z2h::cross_entropy(W[xs], ys) + regulariser;

  Tensor probs;
  if (f == Forward::onehot) {
    probs = probs_of(W, xs);
  } else {
    Tensor counts = z2h::exp(W[xs]);  // W[xs]: row xs[i] of W for every example, (n, 27)
    probs = counts / z2h::sum(counts, {1}, /*keepdim=*/true);
  }
  // probs[torch.arange(n), ys]: in row i, the probability of the character that really came next.
  // gather picks, in each row, the column named by the index: (n, 27), (n, 1) -> (n, 1).
  Tensor p = z2h::gather(probs, ys.view(Shape{-1, 1}));
  return -z2h::mean(z2h::log(p)) + regulariser;
}

Breakdown breakdown(const Tensor& W, const std::vector<int64_t>& xs, const std::vector<int64_t>& ys) {
  z2h::NoGradGuard no_grad;
  Breakdown b{probs_of(W, as_long(xs)), {}, {}, 0.0f};
  Tensor nlls = z2h::zeros(Shape{static_cast<int64_t>(xs.size())});
  for (size_t i = 0; i < xs.size(); ++i) {
    const float p = b.probs.at({static_cast<int64_t>(i), ys[i]});  // probs[i, y]
    b.p.push_back(p);
    b.nll.push_back(-std::log(p));  // nll = -torch.log(p)
    nlls.data()[i] = b.nll.back();
  }
  b.loss = z2h::mean(nlls).item();
  return b;
}

std::vector<double> train(Tensor& W, const LongTensor& xs, const LongTensor& ys, int64_t steps, float lr, float reg,
                          Forward f, const std::function<void(int64_t, double)>& on_step) {
  std::vector<double> losses;
  losses.reserve(static_cast<size_t>(steps));
  for (int64_t k = 0; k < steps; ++k) {
    Tensor loss = loss_fn(W, xs, ys, reg, f);  // forward pass
    losses.push_back(loss.item());
    W.zero_grad();    // W.grad = None: set to zero the gradient
    loss.backward();  // backward pass: d loss / d W into W.grad
    float* w = W.data();  // update: W.data += -lr * W.grad
    const float* dw = W.grad().data();
    for (int64_t i = 0; i < W.numel(); ++i) w[i] += -lr * dw[i];
    if (on_step) on_step(k, losses.back());
  }
  return losses;
}

std::vector<double> train_logged(Tensor& W, const LongTensor& xs, const LongTensor& ys, int64_t steps, float lr,
                                 float reg, Forward f, const std::string& label, bool quiet, int64_t every) {
  z2h::Progress bar(steps, label, quiet);
  auto losses = train(W, xs, ys, steps, lr, reg, f, [&](int64_t k, double loss) {
    if (k % every == 0 || k == steps - 1) bar.println(z2h::lecture_line_repr(k, steps, loss));
    bar.update(k + 1, loss);
  });
  bar.finish();
  return losses;
}

std::vector<std::string> sample_net(const Tensor& W, int n, int context, z2h::Generator& g, const z2h::Vocab& vocab) {
  z2h::NoGradGuard no_grad;
  Tensor p;  // the probabilities of the current row, kept alive while multinomial reads them
  auto next_probs = [&](int64_t row) {
    p = probs_of(W, LongTensor({row}));  // one_hot(torch.tensor([ix]), num_classes) @ W, softmax: (1, 27)
    return static_cast<const float*>(p.data());
  };
  return sample_names(n, context, next_probs, g, vocab);
}

double nll(const Tensor& W, const LongTensor& xs, const LongTensor& ys) {
  z2h::NoGradGuard no_grad;
  return z2h::cross_entropy(W[xs], ys).item();
}

}  // namespace bigram
