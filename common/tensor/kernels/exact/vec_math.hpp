#pragma once
// common/tensor/kernels/exact/vec_math.hpp — PyTorch 1.13's CPU vector math, bit for bit (x86 AVX2 build).
//
// On an AVX2 machine PyTorch computes exp, log and tanh of float tensors with SLEEF, eight floats at
// a time (ATen/cpu/vec/vec256/vec256_float.h: Vectorized<float>::exp/log/tanh call
// Sleef_expf8_u10 / Sleef_logf8_u10 / Sleef_tanhf8_u10), and its row kernels reduce a row with
// eight lane accumulators folded by a fixed shuffle tree (ATen/cpu/vec/functional_base.h:
// reduce_all, map_reduce_all, vec_reduce_all). These functions run the same SLEEF functions in the
// same loop structure, so the results are PyTorch's to the last bit (tests/test_tensor_bits.cpp).
// SLEEF's functions work lane by lane, so a partial last vector (padded with zeros, as
// Vectorized::loadu(ptr, count) pads) gives the same bits as a full one.
#include <cstdint>

namespace z2h::vec {

// y[i] = f(x[i]) for i < n (x and y may be the same buffer).   at::vml::vexp / vlog / vtanh
void exp(const float* x, float* y, int64_t n);
void log(const float* x, float* y, int64_t n);
void tanh(const float* x, float* y, int64_t n);
// y[i] = x[i] ** p for an exponent without a special case (not 0, ±0.5, ±1, 2, 3, -2): ATen's
// pow_tensor_scalar_optimized_kernel. Its vectorized loop takes 16 numbers at a time through
// SLEEF's Sleef_powf8_u10 and the last n % 16 through the scalar std::pow(x, double(p)) — two
// algorithms that differ in the last bit for some inputs, so which numbers fall in the tail matters.
void pow(const float* x, float p, float* y, int64_t n);

// max of x[0..n) (n >= 1).   vec::reduce_all(maximum)
float reduce_max(const float* x, int64_t n);
// Σ x[0..n) in vec::reduce_all's order: lane l sums x[l], x[8+l], ... (the partial last vector
// only touches its own lanes), then the lanes fold as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)).
// For n < 8 it is a plain left-to-right sum.
float reduce_sum(const float* x, int64_t n);
// Σ exp(x[i] - max) in the same order (vec::map_reduce_all in _vec_log_softmax_lastdim).
// If e is not null it also receives exp(x[i] - max) (the numbers that were summed).
float sum_exp_minus(const float* x, float max, int64_t n, float* e = nullptr);
// y = softmax(x) of one row (x and y may be the same buffer): e = exp(x - max) summed as above, then
// y = e * (1 / Σ e), as _vec_softmax_lastdim.
void softmax_row(const float* x, float* y, int64_t n);

}  // namespace z2h::vec
