#pragma once
// Exercise 4 of makemore_part4_backprop.ipynb: train the batch-norm MLP with the hand-written
// backward pass only — no autograd graph is ever recorded.
//
// Written the way llm.c writes GPT-2's training step: free functions in forward/backward pairs on
// raw float buffers, outputs first, then inputs, then sizes; a shape comment opens each; forward
// keeps what backward needs (bnraw, bnvar_inv, h); backward writes d-prefixed buffers; the step
// calls the backwards in exact reverse order. Letters: B batch, T context (block_size), E n_embd,
// H n_hidden, V vocab_size.
//
//   forward                                   backward
//   emb = C[Xb]            (B, T*E)           dC = scatter-add of demb over Xb       (V, E)
//   hprebn = emb @ W1 + b1 (B, H)             demb, dW1, db1 from dhprebn
//   hpreact = batchnorm(hprebn) (B, H)        dhprebn, dbngain, dbnbias from dhpreact   (exercise 3's formula)
//   h = tanh(hpreact)      (B, H)             dhpreact = (1 - h**2) * dh
//   logits = h @ W2 + b2   (B, V)             dh, dW2, db2 from dlogits
//   loss = cross_entropy(logits, Yb)          dlogits = (softmax(logits) - onehot(Yb)) / B   (exercise 2)
//
// Every kernel does PyTorch's float operations in PyTorch's order (OpenBLAS sgemm's products,
// SLEEF's tanh and exp, torch.sum's summation order), so a step computes the numbers of the
// notebook's own loop, which tests/ checks against reference.py.
#include "chunked.hpp"

#include "common/tensor/tensor.hpp"

#include <cstdint>
#include <vector>

namespace stage05 {

// ================================================================================================
// the layers, forward and backward
// ================================================================================================
// out is (B, T*E): row b is C[X[b, 0]], ..., C[X[b, T-1]] side by side (emb.view(B, -1));
// X is (B, T) indices into C (V, E).
void embedding_forward(float* out, const int64_t* X, const float* C, int64_t B, int T, int E);
// dC (V, E) = Σ over (b, t) with X[b, t] == v of dout[b, t]: the notebook's double loop
// `dC[Xb[k, j]] += demb[k, j]`, in its order. dout is (B, T*E).
void embedding_backward(float* dC, const float* dout, const int64_t* X, int64_t B, int T, int E, int V);

// out (B, OC) = inp (B, C) @ weight (C, OC) + bias (OC)
void linear_forward(float* out, const float* inp, const float* weight, const float* bias, int64_t B, int C, int OC);
// dinp (B, C) = dout @ weight.T;  dweight (C, OC) = inp.T @ dout;  dbias (OC) = dout.sum(0)
void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, int64_t B, int C, int OC);

// Training-mode batch norm over the batch, Bessel-corrected variance, eps 1e-5:
//   bnraw = (inp - inp.mean(0)) * (inp.var(0) + 1e-5)**-0.5;  out = gain * bnraw + bias
// inp, out, bnraw are (B, H); gain, bias, bnvar_inv are (H). Keeps bnraw and bnvar_inv for backward.
void batchnorm_forward(float* out, float* bnraw, float* bnvar_inv, const float* inp, const float* gain,
                       const float* bias, int64_t B, int H);
// Exercise 3's formula: dinp = gain*bnvar_inv/B * (B*dout - dout.sum(0) - B/(B-1)*bnraw*(dout*bnraw).sum(0));
// dgain = (bnraw * dout).sum(0), dbias = dout.sum(0). All (B, H) or (H).
void batchnorm_backward(float* dinp, float* dgain, float* dbias, const float* dout, const float* bnraw,
                        const float* bnvar_inv, const float* gain, int64_t B, int H);

// out = tanh(inp), N numbers;  dinp = (1 - out**2) * dout
void tanh_forward(float* out, const float* inp, int64_t N);
void tanh_backward(float* dinp, const float* dout, const float* out, int64_t N);

// Exercise 2: dlogits (B, V) = (softmax(logits) - onehot(Y)) / B for the mean cross-entropy loss.
void crossentropy_softmax_backward(float* dlogits, const float* logits, const int64_t* Y, int64_t B, int V);

// p += -lr * dp (two roundings, as `p.data += -lr * grad`)
void sgd_update(float* p, const float* dp, int64_t n, double lr);

// ================================================================================================
// the model and its training step
// ================================================================================================
struct NinjaConfig {
  int vocab_size = 27;
  int block_size = 3;  // T
  int n_embd = 10;     // E
  int n_hidden = 200;  // H
  int batch_size = 32; // B
};

struct Ninja {
  NinjaConfig cfg;
  Params p;  // C, W1, b1, W2, b2, bngain, bnbias (plain numbers: requires_grad off)
  // the gradients, filled by backward() (the notebook's grads = [dC, dW1, db1, dW2, db2, dbngain, dbnbias])
  z2h::Tensor dC, dW1, db1, dW2, db2, dbngain, dbnbias;
  // the activations of the last step (B rows) and their gradients
  std::vector<int64_t> Xb, Yb;          // (B, T), (B)
  z2h::Tensor emb, hprebn, bnraw, bnvar_inv, hpreact, h, logits;
  z2h::Tensor dlogits, dh, dhpreact, dhprebn, demb;
  // batch-norm statistics over the whole training set, after calibrate(); (1, H)
  z2h::Tensor bnmean, bnvar;

  std::vector<z2h::Tensor> grads() const { return {dC, dW1, db1, dW2, db2, dbngain, dbnbias}; }
};

// The notebook's init (init_params, cell 22) with every buffer allocated once.
Ninja make_ninja(const NinjaConfig& cfg, z2h::Generator& g);

// One step on the minibatch (X, Y) (B rows; X (B, T)): forward, returns the loss (F.cross_entropy's).
float forward(Ninja& m, const z2h::LongTensor& X, const z2h::LongTensor& Y);
// The manual backward of the last forward: fills m.dC ... m.dbnbias.
void backward(Ninja& m);
// p.data += -lr * grad for the seven parameters.
void update(Ninja& m, double lr);

// The same step's gradients by common/'s autograd (the notebook's commented-out loss.backward()),
// on the current parameters; returns max |hand - autograd| per parameter, in grads() order.
std::vector<double> autograd_check(const Ninja& m, const z2h::LongTensor& X, const z2h::LongTensor& Y);

// Cell 24: bnmean, bnvar (unbiased) of embcat @ W1 + b1 over the whole training set.
void calibrate(Ninja& m, const z2h::LongTensor& Xtr);
// Logits (N, V) with the calibrated statistics (cells 25 and 27's forward):
//   hpreact = bngain * (hpreact - bnmean) * (bnvar + 1e-5)**-0.5 + bnbias
z2h::Tensor logits_eval(const Ninja& m, const z2h::LongTensor& X);
// Cell 25's split_loss: F.cross_entropy of the whole split at once.
float split_loss(const Ninja& m, const z2h::LongTensor& X, const z2h::LongTensor& Y);

}  // namespace stage05
