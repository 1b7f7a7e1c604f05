#pragma once
// common/tensor/kernels/kernels.hpp — the numbers beneath the ops.
//
// An op (common/tensor/ops_*.cpp) is autograd bookkeeping — shapes, the graph, which input needs a
// gradient — around a few kernels: functions on raw float buffers that compute the forward's
// numbers and the backward's gradients. Every kernel has two implementations behind this one
// interface:
//
//   readable   (readable.cpp)  each kernel is an xtensor expression, xtensor-blas for products: the
//                              definition to read, portable to any CPU xsimd supports;
//   exact      (exact/)        PyTorch 1.13's CPU kernels to the bit — SLEEF's exp/log/tanh as ATen
//                              calls them, ATen's summation orders, OpenBLAS-order products, fused
//                              backwards — for x86-64 with AVX2 and FMA.
//
// Both compute the same mathematics; they differ in the last bits (the order of a sum, a fused
// multiply-add, another exp) and in speed. The build picks the one the ops call (CMake option
// Z2H_EXACT_KERNELS, on by default on x86-64; the `portable` preset turns it off), and
// `z2h::kernels::exact_build` says which. Tests call both by their full names and compare them,
// op by op (common/tests/test_tensor_kernels.cpp).
//
// Conventions: row-major contiguous buffers; `Shape`s as in tensor.hpp; a backward kernel writes
// into an input's gradient, adding to what is there unless the GradTarget says it is the first
// contribution (then it assigns: no zero-fill, one pass less).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/tensor/tensor.hpp"

namespace z2h::kernels {

// Where a backward kernel puts one input's gradient: that input's grad buffer (shape `shape`), or
// nowhere (data == nullptr: the input needs no gradient). first: the buffer holds no contribution
// yet, so the kernel assigns instead of adding.
struct GradTarget {
  float* data = nullptr;
  Shape shape;
  bool first = false;
  explicit operator bool() const { return data != nullptr; }
};

enum class BinaryOp { add, sub, mul, div };

// The kernels, declared once for each implementation (the list is the same in both).
#define Z2H_KERNELS                                                                                      \
  /* y = f(x) element-wise, n numbers (x and y may be the same buffer) */                              \
  void exp(const float* x, float* y, int64_t n);                                                       \
  void log(const float* x, float* y, int64_t n);                                                       \
  void tanh(const float* x, float* y, int64_t n);                                                      \
  void pow(const float* x, float p, float* y, int64_t n); /* x ** p */                                 \
  /* dx (+)= dy * (1 - y²), y = tanh(x) */                                                             \
  void tanh_backward(const float* dy, const float* y, float* dx, int64_t n, bool first);              \
  /* y (shape ys) = a (shape as) op b (shape bs), broadcasting as numpy/PyTorch */                     \
  void binary(BinaryOp op, const float* a, const Shape& as, const float* b, const Shape& bs, float* y, \
              const Shape& ys);                                                                        \
  /* da += Σ dy * b, db += Σ dy * a, each summed back to its input's shape; for x * x da and db are  \
     one buffer (then only da may be `first`: da's share is put there before db's) */                  \
  void mul_backward(const float* dy, const Shape& ys, const float* a, const Shape& as, const float* b, \
                    const Shape& bs, GradTarget da, GradTarget db);                                    \
  /* da += Σ dy / b, db += Σ -dy * (y / b)  (y = a / b, as autograd rounds it) */                       \
  void div_backward(const float* dy, const float* y, const Shape& ys, const float* a, const Shape& as,  \
                    const float* b, const Shape& bs, GradTarget da, GradTarget db);                    \
  /* y (shape `to`) = x (shape `from`) summed over the dimensions that `to` broadcasts over */         \
  void sum_to(const float* x, const Shape& from, float* y, const Shape& to);                           \
  /* rows × cols: y = softmax(x) / log_softmax(x) along each row */                                    \
  void softmax(const float* x, float* y, int64_t rows, int64_t cols);                                  \
  void log_softmax(const float* x, float* y, int64_t rows, int64_t cols);                              \
  /* dx (+)= dy - exp(y) * Σ_row dy, y = log_softmax(x) */                                             \
  void log_softmax_backward(const float* dy, const float* y, float* dx, int64_t rows, int64_t cols,    \
                            bool first);                                                               \
  /* dx = y * (dy - Σ_row dy * y), y = softmax(x); overwrites dx */                                    \
  void softmax_backward(const float* dy, const float* y, float* dx, int64_t rows, int64_t cols);       \
  /* rows × cols: y = (x - mean) * rstd * gamma + beta per row (biased variance, rstd = 1/sqrt(var+eps)), \
     mean and rstd (rows each) receive the statistics */                                              \
  void layer_norm(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t cols,   \
                  float eps, float* y, float* mean, float* rstd);                                      \
  /* its gradients: dx = rstd (dy·γ - mean(dy·γ) - x̂ mean(dy·γ·x̂)), dγ = Σ dy·x̂, dβ = Σ dy; each     \
     non-null output is overwritten */                                                                 \
  void layer_norm_backward(const float* dy, const float* x, const float* mean, const float* rstd,       \
                           const float* gamma, int64_t rows, int64_t cols, float* dx, float* dgamma,    \
                           float* dbeta);                                                              \
  /* -Σ_i logp[i, t_i] over the rows whose target is not ignore_index */                               \
  float nll_sum(const float* logp, const int64_t* targets, int64_t rows, int64_t cols,                 \
                int64_t ignore_index);                                                                 \
  /* cross-entropy's backward through log_softmax, for a loss that is g·Σ_i -logp[i, t_i]:             \
     dx (+)= g · (exp(logp) - onehot(t)) row by row (0 for ignored rows) */                            \
  void nll_log_softmax_backward(const float* logp, const int64_t* targets, float g, float* dx,         \
                                int64_t rows, int64_t cols, int64_t ignore_index, bool first);         \
  /* C (M×N) = op(A) · op(B) (+ C when accumulate); op(A) is M×K (stored K×M when trans_a), op(B) K×N */ \
  void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, const float* B, \
            bool accumulate, float* C);                                                                 \
  /* the same on blocks of wider row-major matrices (cblas_sgemm's leading dimensions): the stored A's  \
     rows lda floats apart (lda >= K, or >= M when trans_a), B's ldb (>= N, or >= K when trans_b), C's  \
     ldc (>= N). Each element has gemm's bits. */                                                      \
  void gemm_ld(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, \
               const float* B, int64_t ldb, bool accumulate, float* C, int64_t ldc);

namespace readable {
Z2H_KERNELS
}  // namespace readable

#if Z2H_EXACT_KERNELS
namespace exact {
Z2H_KERNELS
}  // namespace exact
inline constexpr bool exact_build = true;
using namespace exact;  // kernels::exp(...) is exact::exp
#else
inline constexpr bool exact_build = false;
using namespace readable;  // kernels::exp(...) is readable::exp
#endif

#undef Z2H_KERNELS

namespace detail {
// gemm_ld by way of gemm: the blocks copied into contiguous buffers, the product, C copied back.
template <class Gemm>
void gemm_ld_packed(Gemm gemm, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
                    int64_t lda, const float* B, int64_t ldb, bool accumulate, float* C, int64_t ldc) {
  auto pack = [](const float* src, int64_t rows, int64_t cols, int64_t ld) {
    std::vector<float> dst(static_cast<size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r) std::copy_n(src + r * ld, cols, dst.begin() + r * cols);
    return dst;
  };
  const std::vector<float> a = trans_a ? pack(A, K, M, lda) : pack(A, M, K, lda);
  const std::vector<float> b = trans_b ? pack(B, N, K, ldb) : pack(B, K, N, ldb);
  std::vector<float> c = accumulate ? pack(C, M, N, ldc) : std::vector<float>(static_cast<size_t>(M * N));
  gemm(trans_a, trans_b, M, N, K, a.data(), b.data(), accumulate, c.data());
  for (int64_t r = 0; r < M; ++r) std::copy_n(c.begin() + r * N, N, C + r * ldc);
}
}  // namespace detail

}  // namespace z2h::kernels
