#pragma once
// Exercises 1-3 of makemore_part4_backprop.ipynb: the 2-layer batch-norm MLP's forward pass
// "chunkated" into the 20 small steps the lecture backpropagates through one at a time, the
// hand-written backward pass of every one of them, and the two fused backward passes.
//
//   emb = C[Xb]                                  (B, T, E)      B = 32 examples, T = 3 characters, E = 10
//   embcat = emb.view(B, T*E)                    (B, T*E)
//   hprebn = embcat @ W1 + b1                    (B, H)         H = 64 hidden neurons
//   bnmeani = 1/n * hprebn.sum(0, keepdim)       (1, H)         n = B
//   bndiff = hprebn - bnmeani                    (B, H)
//   bndiff2 = bndiff**2                          (B, H)
//   bnvar = 1/(n-1) * bndiff2.sum(0, keepdim)    (1, H)         Bessel's correction
//   bnvar_inv = (bnvar + 1e-5)**-0.5             (1, H)
//   bnraw = bndiff * bnvar_inv                   (B, H)
//   hpreact = bngain * bnraw + bnbias            (B, H)
//   h = tanh(hpreact)                            (B, H)
//   logits = h @ W2 + b2                         (B, V)         V = 27 characters
//   logit_maxes = logits.max(1, keepdim)         (B, 1)
//   norm_logits = logits - logit_maxes           (B, V)
//   counts = norm_logits.exp()                   (B, V)
//   counts_sum = counts.sum(1, keepdim)          (B, 1)
//   counts_sum_inv = counts_sum**-1              (B, 1)
//   probs = counts * counts_sum_inv              (B, V)
//   logprobs = probs.log()                       (B, V)
//   loss = -logprobs[range(n), Yb].mean()        ()
//
// The forward runs on common/'s autograd (so loss.backward() fills every .grad to compare with);
// the backward is written by hand, one line per line of the notebook, under NoGradGuard.
#include "common/app/format.hpp"
#include "common/rng/generator.hpp"
#include "common/tensor/tensor.hpp"

#include <string>
#include <vector>

namespace stage05 {

// The seven parameters, the notebook's cell 8 (and cell 22 with n_hidden 200).
struct Params {
  z2h::Tensor C, W1, b1, W2, b2, bngain, bnbias;
  std::vector<z2h::Tensor> list() const { return {C, W1, b1, W2, b2, bngain, bnbias}; }
  int64_t numel() const;  // 4137 for n_hidden 64, 12297 for 200
};

// The notebook's init, every draw from g in this order:
//   C = randn(V, E); W1 = randn(T*E, H) * (5/3) / sqrt(T*E); b1 = randn(H) * 0.1;
//   W2 = randn(H, V) * 0.1; b2 = randn(V) * 0.1;
//   bngain = randn(1, H) * 0.1 + 1.0; bnbias = randn(1, H) * 0.1
// (the notebook draws bngain and bnbias from the unseeded global generator; here they come from g,
// which makes every number reproducible). requires_grad is set on all seven.
Params init_params(z2h::Generator& g, int n_hidden, int n_embd = 10, int block_size = 3, int vocab_size = 27);

// Every tensor of the chunked forward pass, by its name in the notebook.
struct Chunked {
  z2h::Tensor emb, embcat, hprebn, bnmeani, bndiff, bndiff2, bnvar, bnvar_inv, bnraw, hpreact, h, logits,
      logit_maxes, norm_logits, counts, counts_sum, counts_sum_inv, probs, logprobs, loss;
};

// Cell 10: the forward pass above on common/'s autograd, every intermediate's grad retained, then
// loss.backward() — after it, each tensor's .grad() is what autograd says d(loss)/d(tensor) is.
Chunked chunked_forward_backward(const Params& p, const z2h::LongTensor& Xb, const z2h::LongTensor& Yb);

// Cell 11 (exercise 1): d(loss)/d(every tensor), derived and written by hand.
struct ManualGrads {
  z2h::Tensor dlogprobs, dprobs, dcounts_sum_inv, dcounts_sum, dcounts, dnorm_logits, dlogit_maxes, dlogits, dh,
      dW2, db2, dhpreact, dbngain, dbnbias, dbnraw, dbnvar_inv, dbnvar, dbndiff2, dbndiff, dbnmeani, dhprebn,
      dembcat, dW1, db1, demb, dC;
};
ManualGrads manual_backward(const Params& p, const Chunked& f, const z2h::LongTensor& Xb, const z2h::LongTensor& Yb);

// The 26 (name, hand-written gradient, tensor whose .grad autograd filled) of cell 11's cmp calls,
// in the notebook's order: logprobs, probs, ..., emb, C.
struct Compared {
  std::string name;
  z2h::Tensor manual, tensor;
};
std::vector<Compared> cmp_list(const Params& p, const Chunked& f, const ManualGrads& d);

// Cell 7's cmp(s, dt, t): exact = every element equal; approximate = torch.allclose(dt, t.grad)
// (|dt - grad| <= 1e-8 + 1e-5 * |grad|); maxdiff = max |dt - grad| (in float, as torch computes it).
struct Cmp {
  std::string name;
  bool exact = false, approximate = false;
  double maxdiff = 0;
};
Cmp cmp(const std::string& name, const z2h::Tensor& dt, const z2h::Tensor& grad);
std::string cmp_line(const Cmp& c);  // "logprobs        | exact: True  | approximate: True  | maxdiff: 0.0"

// Cell 13 (exercise 2): cross-entropy backward in one go, dlogits = (softmax(logits) - onehot(Yb)) / n.
z2h::Tensor cross_entropy_backward_fused(const z2h::Tensor& logits, const z2h::LongTensor& Yb);

// Cell 19 (exercise 3, forward): batch norm in one line,
//   bngain * (hprebn - hprebn.mean(0)) / sqrt(hprebn.var(0, unbiased) + 1e-5) + bnbias
z2h::Tensor batchnorm_forward_fused(const z2h::Tensor& hprebn, const z2h::Tensor& bngain, const z2h::Tensor& bnbias);

// Cell 20 (exercise 3): batch-norm backward in one formula,
//   dhprebn = bngain*bnvar_inv/n * (n*dhpreact - dhpreact.sum(0) - n/(n-1)*bnraw*(dhpreact*bnraw).sum(0))
z2h::Tensor batchnorm_backward_fused(const z2h::Tensor& dhpreact, const z2h::Tensor& bnraw,
                                     const z2h::Tensor& bnvar_inv, const z2h::Tensor& bngain);

// Python's repr of a float32 value: 0.0, 4.656612873077393e-10, 3.5571467876434326.
using z2h::py_repr;

}  // namespace stage05
