#pragma once
// common/tensor/kernels/exact/layer_norm.hpp — PyTorch 1.13's CPU layer_norm and softmax backward,
// bit for bit (x86 AVX2 build, one thread).
//
// ATen/native/cpu/layer_norm_kernel.cpp computes each row's mean and variance with Welford's
// algorithm on eight float lanes (ATen/native/cpu/moments_utils.h, RowwiseMoments: chunks of 16
// vectors, merged in a cascade, then the lanes and the tail merged in turn), and writes
// y = (x * rstd + (-rstd * mean)) * gamma + beta. Its backward reduces Σ dy·x·gamma and Σ dy·gamma
// with vec::map*_reduce_all and writes dx = rstd·dy·gamma + b·x + c. PyTorch's build lets GCC
// contract a * b + c into fused multiply-adds (-ffp-contract=fast, the GNU default), in vector
// code too; these kernels write out the FMAs that torch 1.13.1's results show (the project builds
// with -ffp-contract=off; layer_norm.cpp says where each one is — the Welford moments have none).
// Checked against torch 1.13.1 by common/tests/test_tensor_layer_norm_bits.cpp.
#include <cstdint>

namespace z2h::kernels::exact {

// R rows of C: y = layer_norm(x) * gamma + beta; mean and rstd (R each) receive the row statistics
// (rstd = 1 / sqrt(var + eps), var biased).   LayerNormKernelImplInternal<float>
void layer_norm_forward(const float* x, const float* gamma, const float* beta, int64_t R, int64_t C, float eps,
                        float* y, float* mean, float* rstd);

// The gradients of layer_norm_forward given dy (R rows of C). Each non-null output is *overwritten*
// with PyTorch's result: dx (R x C), dgamma and dbeta (C), the latter two summed over the rows in
// order, as the kernel's one-thread path does.   LayerNormBackwardKernelImplInternal<float>
void layer_norm_backward(const float* dy, const float* x, const float* mean, const float* rstd, const float* gamma,
                         int64_t R, int64_t C, float* dx, float* dgamma, float* dbeta);

// One row of softmax's backward: dx[j] = (dy[j] - Σ_k dy[k] y[k]) * y[j], the sum by
// vec::map2_reduce_all (lane accumulators, fused multiply-adds, vec_reduce_all's fold).
// Overwrites dx.   _vec_host_softmax_backward_lastdim<float, false> (cpu/SoftMaxKernel.cpp)
void softmax_backward_row(const float* dy, const float* y, float* dx, int64_t C);

}  // namespace z2h::kernels::exact
