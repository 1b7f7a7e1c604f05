#pragma once
// common/tensor/ops.hpp — the differentiable operations on Tensors, named after their PyTorch twins.
//
// Every op is implemented in an ops_*.cpp file as a forward that computes the result and, right
// beside it, the backward rule that adds d(loss)/d(input) into each input's grad (the local
// derivative times the incoming gradient: the chain rule, one op at a time). Shape comments use the
// lectures' letters: B batch, T time, C channels, V vocabulary, N rows.
//
//   ops_elementwise.cpp  + - * / (broadcasting), pow, neg, exp, log, tanh, relu, gelu, masked_fill
//   ops_reduce.cpp       sum, mean, max, var, std
//   ops_shape.cpp        transpose, permute, slice, select, cat, C[X] indexing, gather, one_hot, tril
//   ops_matmul.cpp       matmul (2-D, 3-D @ 2-D, batched), linear
//   ops_nn.cpp           softmax, log_softmax, cross_entropy, layer_norm, batch_norm, dropout
//
// Broadcasting follows PyTorch/numpy: shapes are aligned on the right and a size-1 (or missing)
// dimension stretches. Backward sums the gradient back to each input's own shape, so a bias of
// shape (200) added to (32, 200) receives the column sums — and a (1, 200) bias receives (1, 200).
#include "common/tensor/tensor.hpp"

namespace z2h {

using Dims = Shape;  // a list of dimensions, e.g. sum(x, {0, 1}, /*keepdim=*/true)

// ---- arithmetic (broadcasting) -------------------------------------------------------------
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, float s);
Tensor operator+(float s, const Tensor& a);
Tensor operator-(const Tensor& a, float s);
Tensor operator-(float s, const Tensor& a);
Tensor operator*(const Tensor& a, float s);
Tensor operator*(float s, const Tensor& a);
Tensor operator/(const Tensor& a, float s);
Tensor operator/(float s, const Tensor& a);  // s * a**-1, as micrograd derives it
Tensor operator-(const Tensor& a);           // neg

// ---- element-wise functions ------------------------------------------------------------------
Tensor pow(const Tensor& x, float exponent);  // x**exponent
Tensor sqrt(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x);  // exact (erf) form, torch.nn.GELU()'s default
// x where mask == 0, value where mask != 0; mask broadcasts to x (tril == 0 → -inf: causal masking).
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);
Tensor eq(const Tensor& x, float value);  // 1.0 where x == value else 0.0 (no gradient)

// ---- reductions ------------------------------------------------------------------------------
// dims: the dimensions to reduce (negative counts from the end); keepdim keeps them as size 1.
Tensor sum(const Tensor& x);  // all elements -> 0-D
Tensor sum(const Tensor& x, Dims dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, Dims dims, bool keepdim = false);
// The largest value along one dimension (torch.max(x, dim).values); the gradient flows to it.
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
LongTensor argmax(const Tensor& x, int64_t dim);  // first position of the maximum
// Variance and standard deviation; unbiased (Bessel, /(n-1)) by default as in torch 1.13.
Tensor var(const Tensor& x, bool unbiased = true);
Tensor var(const Tensor& x, Dims dims, bool keepdim = false, bool unbiased = true);
Tensor std(const Tensor& x, bool unbiased = true);
Tensor std(const Tensor& x, Dims dims, bool keepdim = false, bool unbiased = true);

// ---- shape and indexing (all return copies except Tensor::view) -------------------------------
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);  // x.transpose(0, 1)
Tensor permute(const Tensor& x, Dims dims);                     // x.permute(2, 0, 1)
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end);  // x[:, start:end]
Tensor select(const Tensor& x, int64_t dim, int64_t index);     // x[:, index] (dim removed)
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);         // torch.cat(xs, dim)
Tensor embedding(const Tensor& weight, const LongTensor& idx);  // weight[idx], same as C[X]
// out[..., k] = x[..., index[..., k]] along the last dim (torch.gather(x, -1, index)).
Tensor gather(const Tensor& x, const LongTensor& index);
Tensor one_hot(const LongTensor& idx, int64_t num_classes);     // float 0/1, shape idx.shape + (num_classes)

// ---- linear algebra --------------------------------------------------------------------------
// (M,K) @ (K,N) -> (M,N); (...,M,K) @ (K,N) -> (...,M,N); (...,M,K) @ (...,K,N) batched.
Tensor matmul(const Tensor& a, const Tensor& b);
// torch.nn.functional.linear: x (..., in) @ weight(out, in)ᵀ + bias(out). bias may be undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

// ---- neural-net functions --------------------------------------------------------------------
Tensor softmax(const Tensor& x, int64_t dim = -1);      // along the last dimension only
Tensor log_softmax(const Tensor& x, int64_t dim = -1);  // along the last dimension only
// logits (N, C), targets (N) -> mean over targets != ignore_index of -log softmax(logits)[target].
Tensor cross_entropy(const Tensor& logits, const LongTensor& targets, int64_t ignore_index = -100);
// Normalise over the last dimension (biased variance), then scale and shift: nn.LayerNorm.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);
// The batch statistics of lecture 4/6's BatchNorm1d in training mode: x is (N, C) or (N, L, C);
// mean and Bessel-corrected variance over dim 0 (or dims 0 and 1), then
//   out = gamma * (x - mean) / sqrt(var + eps) + beta.
// If stats is given it receives the (detached) batch mean and variance, shape (C), for running stats.
struct BatchStats {
  Tensor mean, var;
};
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps,
                  BatchStats* stats = nullptr);
// Zeroes each element with probability p and scales the rest by 1/(1-p) (identity if !training).
Tensor dropout(const Tensor& x, double p, bool training, Generator& g);
Tensor dropout(const Tensor& x, double p, bool training);  // the global generator

}  // namespace z2h
