#include "chunked.hpp"

#include "common/tensor/ops.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace stage05 {

using z2h::LongTensor;
using z2h::Shape;
using z2h::Tensor;

int64_t Params::numel() const {
  int64_t n = 0;
  for (const Tensor& t : list()) n += t.numel();
  return n;
}

Params init_params(z2h::Generator& g, int n_hidden, int n_embd, int block_size, int vocab_size) {
  const int fan_in = n_embd * block_size;
  Params p;
  // Python evaluates `randn(...) * (5/3) / (fan_in**0.5)` left to right: two float roundings, kept.
  p.C = z2h::randn(Shape{vocab_size, n_embd}, g);
  p.W1 = z2h::randn(Shape{fan_in, n_hidden}, g) * static_cast<float>(5.0 / 3.0) /
         static_cast<float>(std::sqrt(static_cast<double>(fan_in)));
  p.b1 = z2h::randn(Shape{n_hidden}, g) * 0.1f;  // useless because of batch norm: the lecture keeps it "for fun"
  p.W2 = z2h::randn(Shape{n_hidden, vocab_size}, g) * 0.1f;
  p.b2 = z2h::randn(Shape{vocab_size}, g) * 0.1f;
  p.bngain = z2h::randn(Shape{1, n_hidden}, g) * 0.1f + 1.0f;  // the notebook: the global generator
  p.bnbias = z2h::randn(Shape{1, n_hidden}, g) * 0.1f;
  for (Tensor* t : {&p.C, &p.W1, &p.b1, &p.W2, &p.b2, &p.bngain, &p.bnbias}) t->requires_grad_();
  return p;
}

// ================================================================================================
// exercise 1: the chunked forward pass (cell 10) and its backward pass by hand (cell 11)
// ================================================================================================
Chunked chunked_forward_backward(const Params& p, const LongTensor& Xb, const LongTensor& Yb) {
  using namespace z2h;
  const int64_t n = Xb.size(0);  // a shorter variable also, for convenience
  Chunked f;
  f.emb = p.C[Xb];                                          // (B, T, E) embed the characters into vectors
  f.embcat = f.emb.view(Shape{n, -1});                      // (B, T*E) concatenate the vectors
  // Linear layer 1
  f.hprebn = matmul(f.embcat, p.W1) + p.b1;                 // (B, H) hidden layer pre-activation
  // BatchNorm layer
  f.bnmeani = static_cast<float>(1.0 / n) * sum(f.hprebn, {0}, true);               // (1, H)
  f.bndiff = f.hprebn - f.bnmeani;                                                  // (B, H)
  f.bndiff2 = pow(f.bndiff, 2.0f);                                                  // (B, H)
  f.bnvar = static_cast<float>(1.0 / (n - 1)) * sum(f.bndiff2, {0}, true);          // (1, H) Bessel: n-1
  f.bnvar_inv = pow(f.bnvar + 1e-5f, -0.5f);                                        // (1, H)
  f.bnraw = f.bndiff * f.bnvar_inv;                                                 // (B, H)
  f.hpreact = p.bngain * f.bnraw + p.bnbias;                                        // (B, H)
  // Non-linearity
  f.h = tanh(f.hpreact);                                    // (B, H) hidden layer
  // Linear layer 2
  f.logits = matmul(f.h, p.W2) + p.b2;                      // (B, V) output layer
  // cross entropy loss (same as cross_entropy(logits, Yb))
  f.logit_maxes = max(f.logits, 1, true);                   // (B, 1)
  f.norm_logits = f.logits - f.logit_maxes;                 // (B, V) subtract max for numerical stability
  f.counts = exp(f.norm_logits);                            // (B, V)
  f.counts_sum = sum(f.counts, {1}, true);                  // (B, 1)
  f.counts_sum_inv = pow(f.counts_sum, -1.0f);              // (B, 1) not 1.0 / counts_sum: see the README
  f.probs = f.counts * f.counts_sum_inv;                    // (B, V)
  f.logprobs = log(f.probs);                                // (B, V)
  f.loss = -mean(gather(f.logprobs, Yb.view(Shape{n, 1}))); // () -logprobs[range(n), Yb].mean()

  // PyTorch backward pass: keep every intermediate's gradient to compare with
  for (Tensor* t : {&f.logprobs, &f.probs, &f.counts, &f.counts_sum, &f.counts_sum_inv, &f.norm_logits,
                    &f.logit_maxes, &f.logits, &f.h, &f.hpreact, &f.bnraw, &f.bnvar_inv, &f.bnvar, &f.bndiff2,
                    &f.bndiff, &f.hprebn, &f.bnmeani, &f.embcat, &f.emb})
    t->retain_grad();
  f.loss.backward();
  return f;
}

namespace {
Tensor clone(const Tensor& t) {  // t.clone(): a copy of the numbers
  Tensor c = z2h::empty(t.shape());
  c.copy_(t);
  return c;
}
}  // namespace

// Each line is the notebook's; the comment gives the shape and the rule it applies.
ManualGrads manual_backward(const Params& p, const Chunked& f, const LongTensor& Xb, const LongTensor& Yb) {
  using namespace z2h;
  NoGradGuard no_grad;  // these are plain numbers: nothing here is recorded
  const int64_t n = Xb.size(0), V = f.logits.size(1);
  ManualGrads d;
  // loss = -mean of the n picked logprobs: each picked one gets -1/n, the others nothing
  d.dlogprobs = zeros_like(f.logprobs);                                          // (B, V)
  for (int64_t i = 0; i < n; ++i) d.dlogprobs.at({i, Yb.data[static_cast<size_t>(i)]}) = static_cast<float>(-1.0 / n);
  // logprobs = log(probs): d/dx log x = 1/x
  d.dprobs = (1.0f / f.probs) * d.dlogprobs;                                     // (B, V)
  // probs = counts * counts_sum_inv: counts_sum_inv (B, 1) was broadcast over V, so its gradient is a sum over V
  d.dcounts_sum_inv = sum(f.counts * d.dprobs, {1}, true);                       // (B, 1)
  d.dcounts = f.counts_sum_inv * d.dprobs;                                       // (B, V) first of two branches
  // counts_sum_inv = counts_sum**-1: d/dx x**-1 = -x**-2
  d.dcounts_sum = (-pow(f.counts_sum, -2.0f)) * d.dcounts_sum_inv;               // (B, 1)
  // counts_sum = counts.sum(1): a sum in the forward is a broadcast in the backward
  d.dcounts = d.dcounts + ones_like(f.counts) * d.dcounts_sum;                   // (B, V) second branch added
  // counts = exp(norm_logits): d/dx e^x = e^x
  d.dnorm_logits = f.counts * d.dcounts;                                         // (B, V)
  // norm_logits = logits - logit_maxes: logits pass the gradient through; logit_maxes (B, 1) sums it
  d.dlogits = clone(d.dnorm_logits);                                             // (B, V) first branch
  d.dlogit_maxes = sum(-d.dnorm_logits, {1}, true);                              // (B, 1)
  // logit_maxes = logits.max(1): the gradient flows to the position of each row's maximum
  d.dlogits = d.dlogits + one_hot(argmax(f.logits, 1), V) * d.dlogit_maxes;      // (B, V) second branch
  // logits = h @ W2 + b2
  d.dh = matmul(d.dlogits, transpose(p.W2, 0, 1));                               // (B, H) = (B, V) @ (V, H)
  d.dW2 = matmul(transpose(f.h, 0, 1), d.dlogits);                               // (H, V) = (H, B) @ (B, V)
  d.db2 = sum(d.dlogits, {0});                                                   // (V) b2 was broadcast over B
  // h = tanh(hpreact): d/dx tanh x = 1 - tanh(x)**2
  d.dhpreact = (1.0f - pow(f.h, 2.0f)) * d.dh;                                   // (B, H)
  // hpreact = bngain * bnraw + bnbias: bngain and bnbias (1, H) were broadcast over B
  d.dbngain = sum(f.bnraw * d.dhpreact, {0}, true);                              // (1, H)
  d.dbnraw = p.bngain * d.dhpreact;                                              // (B, H)
  d.dbnbias = sum(d.dhpreact, {0}, true);                                        // (1, H)
  // bnraw = bndiff * bnvar_inv
  d.dbndiff = f.bnvar_inv * d.dbnraw;                                            // (B, H) first of two branches
  d.dbnvar_inv = sum(f.bndiff * d.dbnraw, {0}, true);                            // (1, H)
  // bnvar_inv = (bnvar + 1e-5)**-0.5: d/dx x**-0.5 = -0.5 x**-1.5
  d.dbnvar = (-0.5f * pow(f.bnvar + 1e-5f, -1.5f)) * d.dbnvar_inv;              // (1, H)
  // bnvar = 1/(n-1) * bndiff2.sum(0): the sum becomes a broadcast over B
  d.dbndiff2 = static_cast<float>(1.0 / (n - 1)) * ones_like(f.bndiff2) * d.dbnvar;  // (B, H)
  // bndiff2 = bndiff**2: d/dx x**2 = 2x
  d.dbndiff = d.dbndiff + (2.0f * f.bndiff) * d.dbndiff2;                        // (B, H) second branch
  // bndiff = hprebn - bnmeani
  d.dhprebn = clone(d.dbndiff);                                                  // (B, H) first branch
  d.dbnmeani = sum(-d.dbndiff, {0});                                             // (H)
  // bnmeani = 1/n * hprebn.sum(0): a broadcast over B, scaled by 1/n
  d.dhprebn = d.dhprebn + static_cast<float>(1.0 / n) * (ones_like(f.hprebn) * d.dbnmeani);  // (B, H)
  // hprebn = embcat @ W1 + b1
  d.dembcat = matmul(d.dhprebn, transpose(p.W1, 0, 1));                          // (B, T*E) = (B, H) @ (H, T*E)
  d.dW1 = matmul(transpose(f.embcat, 0, 1), d.dhprebn);                          // (T*E, H) = (T*E, B) @ (B, H)
  d.db1 = sum(d.dhprebn, {0});                                                   // (H)
  // embcat = emb.view(B, T*E): a view, so the gradient is the same numbers seen as (B, T, E)
  d.demb = d.dembcat.view(f.emb.shape());                                        // (B, T, E)
  // emb = C[Xb]: row Xb[k, j] of C was copied to emb[k, j], so it collects (adds) every such row's gradient
  d.dC = zeros_like(p.C);                                                        // (V, E)
  const int64_t T = Xb.size(1), E = p.C.size(1);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t j = 0; j < T; ++j) {
      const int64_t ix = Xb.at({k, j});
      for (int64_t e = 0; e < E; ++e) d.dC.at({ix, e}) += d.demb.at({k, j, e});
    }
  return d;
}

std::vector<Compared> cmp_list(const Params& p, const Chunked& f, const ManualGrads& d) {
  return {{"logprobs", d.dlogprobs, f.logprobs},
          {"probs", d.dprobs, f.probs},
          {"counts_sum_inv", d.dcounts_sum_inv, f.counts_sum_inv},
          {"counts_sum", d.dcounts_sum, f.counts_sum},
          {"counts", d.dcounts, f.counts},
          {"norm_logits", d.dnorm_logits, f.norm_logits},
          {"logit_maxes", d.dlogit_maxes, f.logit_maxes},
          {"logits", d.dlogits, f.logits},
          {"h", d.dh, f.h},
          {"W2", d.dW2, p.W2},
          {"b2", d.db2, p.b2},
          {"hpreact", d.dhpreact, f.hpreact},
          {"bngain", d.dbngain, p.bngain},
          {"bnbias", d.dbnbias, p.bnbias},
          {"bnraw", d.dbnraw, f.bnraw},
          {"bnvar_inv", d.dbnvar_inv, f.bnvar_inv},
          {"bnvar", d.dbnvar, f.bnvar},
          {"bndiff2", d.dbndiff2, f.bndiff2},
          {"bndiff", d.dbndiff, f.bndiff},
          {"bnmeani", d.dbnmeani, f.bnmeani},
          {"hprebn", d.dhprebn, f.hprebn},
          {"embcat", d.dembcat, f.embcat},
          {"W1", d.dW1, p.W1},
          {"b1", d.db1, p.b1},
          {"emb", d.demb, f.emb},
          {"C", d.dC, p.C}};
}

Cmp cmp(const std::string& name, const Tensor& dt, const Tensor& grad) {
  if (!grad.defined() || dt.numel() != grad.numel())
    throw std::invalid_argument("cmp('" + name + "'): shapes " + dt.shape().str() + " and " +
                                (grad.defined() ? grad.shape().str() : std::string("None")) + " differ");
  Cmp c{name, true, true, 0.0};
  float maxdiff = 0.0f;
  const float *a = dt.data(), *b = grad.data();
  for (int64_t i = 0; i < dt.numel(); ++i) {
    const float diff = std::fabs(a[i] - b[i]);
    c.exact = c.exact && a[i] == b[i];
    c.approximate = c.approximate && static_cast<double>(diff) <= 1e-8 + 1e-5 * std::fabs(static_cast<double>(b[i]));
    maxdiff = std::max(maxdiff, diff);
  }
  c.maxdiff = maxdiff;
  return c;
}

std::string cmp_line(const Cmp& c) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-15s | exact: %-5s | approximate: %-5s | maxdiff: %s", c.name.c_str(),
                c.exact ? "True" : "False", c.approximate ? "True" : "False", py_repr(c.maxdiff).c_str());
  return buf;
}

// ================================================================================================
// exercise 2: cross-entropy backward in one go (cell 13)
// ================================================================================================
// loss = -log(e^l_y / Σ_j e^l_j) per row, so d loss/d l_i = softmax(l)_i - [i == y]; the mean over
// n rows divides by n.
Tensor cross_entropy_backward_fused(const Tensor& logits, const LongTensor& Yb) {
  z2h::NoGradGuard no_grad;
  const int64_t n = logits.size(0);
  Tensor dlogits = z2h::softmax(logits, 1);                                  // (B, V)
  for (int64_t i = 0; i < n; ++i) dlogits.at({i, Yb.data[static_cast<size_t>(i)]}) -= 1.0f;
  dlogits = dlogits / static_cast<float>(n);
  return dlogits;
}

// ================================================================================================
// exercise 3: batch norm forward in one line, backward in one formula (cells 19-20)
// ================================================================================================
Tensor batchnorm_forward_fused(const Tensor& hprebn, const Tensor& bngain, const Tensor& bnbias) {
  using namespace z2h;
  return bngain * (hprebn - mean(hprebn, {0}, true)) / sqrt(var(hprebn, {0}, true, /*unbiased=*/true) + 1e-5f) +
         bnbias;
}

Tensor batchnorm_backward_fused(const Tensor& dhpreact, const Tensor& bnraw, const Tensor& bnvar_inv,
                                const Tensor& bngain) {
  using namespace z2h;
  NoGradGuard no_grad;
  const int64_t n = dhpreact.size(0);
  const float nf = static_cast<float>(n), bessel = static_cast<float>(static_cast<double>(n) / static_cast<double>(n - 1));
  // bngain*bnvar_inv/n * (n*dhpreact - dhpreact.sum(0) - n/(n-1)*bnraw*(dhpreact*bnraw).sum(0)), in Python's order
  return bngain * bnvar_inv / nf * (nf * dhpreact - sum(dhpreact, {0}) - bessel * bnraw * sum(dhpreact * bnraw, {0}));
}

}  // namespace stage05
