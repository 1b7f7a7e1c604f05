#pragma once
// common/tensor/blas.hpp — the one door to BLAS (OpenBLAS). cblas.h cannot share a translation unit with
// xtensor-blas (TOOLCHAIN.md pitfall #2), so every direct BLAS call lives in blas.cpp.
#include <cstdint>
#include <string>

namespace z2h::blas {

// Row-major C (M×N) = alpha · op(A) · op(B) + beta · C, where op(A) is M×K and op(B) is K×N.
// trans_a: A is stored as (K, M) and read transposed — no transposed copy is ever made.
// trans_b: B is stored as (N, K). With beta = 1 the product is added to C (gradient accumulation).
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           const float* B, float beta, float* C);

// OpenBLAS's thread count (it starts with one per core). Programs pass their --threads here.
void set_num_threads(int n);
int num_threads();

// The name of the kernel set OpenBLAS picked for this CPU ("Haswell", "SkylakeX", "Cooperlake",
// "Prescott", ...; OPENBLAS_CORETYPE overrides it). Products sum in a kernel-specific order, so
// results that go through long chains of products are reproducible only on the same kernel.
std::string core_name();

// OpenBLAS's build: "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Prescott MAX_THREADS=64".
std::string config();

}  // namespace z2h::blas
