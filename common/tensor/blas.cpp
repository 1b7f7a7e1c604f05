// common/tensor/blas.cpp — thin wrappers over cblas (see blas.hpp for why they live alone).
#include "common/tensor/blas.hpp"

#include "common/app/run_info.hpp"

#include <cblas.h>

namespace z2h::blas {

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           const float* B, float beta, float* C) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // an empty sum: C = beta * C
    for (int64_t i = 0; i < M * N; ++i) C[i] = beta == 0.0f ? 0.0f : beta * C[i];
    return;
  }
  const auto lda = static_cast<blasint>(trans_a ? M : K);
  const auto ldb = static_cast<blasint>(trans_b ? K : N);
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(M), static_cast<blasint>(N), static_cast<blasint>(K), alpha, A, lda, B,
              ldb, beta, C, static_cast<blasint>(N));
}

void set_num_threads(int n) { openblas_set_num_threads(n); }
int num_threads() { return openblas_get_num_threads(); }

std::string core_name() { return openblas_core(); }  // common/app/run_info.hpp

std::string config() {
  const char* c = openblas_get_config();
  return c != nullptr ? c : "";
}

}  // namespace z2h::blas
