#pragma once
// common/tensor/kernels/exact/gemm_openblas.hpp — products summed in the order of OpenBLAS's own
// kernels, so that they have cblas_sgemm's bits (and so PyTorch's) without its cost. Internal to the
// exact kernels (matmul.cpp calls it); tests use gemm_openblas_order_kernel() to know it is in use.
#include <cstdint>

namespace z2h::kernels::exact {

// The OpenBLAS kernel set whose one-thread summation order gemm_openblas_order reproduces
// ("Prescott", "Haswell"), or nullptr where it reproduces none (another kernel set, or an OpenBLAS
// whose order the first-use probe found to differ): then every product must go to cblas_sgemm.
const char* gemm_openblas_order_kernel();

// Row-major C (M,N) = op(A) · op(B) (+ C if accumulate), as blas::sgemm with alpha 1 and beta 0/1,
// with cblas_sgemm's bits; false (C untouched) where it cannot promise them — no kernel set above,
// an empty shape, more rows than it models, or, with several OpenBLAS threads, a shape whose
// threaded sums were found, on its first call, to differ from the one-thread order (checked once per
// shape on random operands): then call cblas_sgemm. Large products are shared among OpenBLAS's
// thread count of threads.
bool gemm_openblas_order(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
                         const float* B, bool accumulate, float* C);
// The same on blocks of wider matrices: the stored A's rows lda floats apart, B's ldb, C's ldc (0: as
// stored contiguously). The order of each sum, so each element's bits, are the contiguous product's.
bool gemm_openblas_order(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                         const float* B, int64_t ldb, bool accumulate, float* C, int64_t ldc);

}  // namespace z2h::kernels::exact
