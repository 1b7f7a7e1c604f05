// common/tensor/kernels/exact/matmul.cpp — products as PyTorch gets them: from OpenBLAS (cblas_sgemm,
// the call ATen makes), except where own kernels compute them faster with OpenBLAS's own bits because
// they reproduce its summation order: every shape on the `Prescott` and `Haswell` kernel sets
// (gemm_openblas.cpp), tall-skinny shapes on the Cooper Lake and Skylake-X ones (below).
#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

#include <immintrin.h>

#include "common/tensor/blas.hpp"
#include "common/tensor/kernels/exact/exact.hpp"
#include "common/tensor/kernels/exact/gemm_openblas.hpp"

namespace z2h::kernels::exact {

namespace {

// ---- tall-skinny products: many rows times a small matrix ------------------------------------
// Lecture 2 multiplies a (228146, 27) one-hot by a (27, 27) W. For such shapes OpenBLAS spends as
// long copying ("packing") the tall operand and zero-filling C as multiplying. When the small
// matrix fits in 32×32 (and the CPU has FMA), these two loops do the products directly instead:
// one streaming pass over the tall operands, the small matrix (padded to 32 columns) in L1.
// Each element is a chain of fused multiply-adds starting from zero, in ascending order along the
// summed dimension — as OpenBLAS's kernels accumulate.
constexpr int64_t kSkinny = 32;  // the small matrix's sizes must be <= this
constexpr int64_t kSkinnyRows = 4096;  // and the tall one at least this many rows (else BLAS)

// The fused multiply-adds need the CPU's vector FMA (xsimd::fma falls back to a multiply and an
// add — two roundings — so the few operations here are written as intrinsics).
#if defined(__AVX512F__)
constexpr bool kHaveSkinny = true;
using V = __m512;
using Mask = __mmask16;
constexpr int64_t kL = 16;
inline V vzero() { return _mm512_setzero_ps(); }
inline V vset(float a) { return _mm512_set1_ps(a); }
inline V vfma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }  // a·b + c, rounded once
inline V vadd(V a, V b) { return _mm512_add_ps(a, b); }
inline V vload(const float* p) { return _mm512_load_ps(p); }
inline void vstore(float* p, V v) { _mm512_store_ps(p, v); }
inline Mask vmask(int64_t n) { return n >= kL ? Mask(0xFFFF) : n <= 0 ? Mask(0) : Mask((1u << n) - 1); }
inline V vload_part(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }  // zeros past n
inline void vstore_part(float* p, Mask m, V v) { _mm512_mask_storeu_ps(p, m, v); }
#elif defined(__AVX2__) && defined(__FMA__)
constexpr bool kHaveSkinny = true;
using V = __m256;
using Mask = __m256i;
constexpr int64_t kL = 8;
inline V vzero() { return _mm256_setzero_ps(); }
inline V vset(float a) { return _mm256_set1_ps(a); }
inline V vfma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline V vadd(V a, V b) { return _mm256_add_ps(a, b); }
inline V vload(const float* p) { return _mm256_load_ps(p); }
inline void vstore(float* p, V v) { _mm256_store_ps(p, v); }
inline Mask vmask(int64_t n) {
  const int c = static_cast<int>(std::clamp<int64_t>(n, 0, kL));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline V vload_part(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
inline void vstore_part(float* p, Mask m, V v) { _mm256_maskstore_ps(p, m, v); }
#else
constexpr bool kHaveSkinny = false;  // no vector FMA: every product goes to BLAS
#endif

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
constexpr int64_t kNV = kSkinny / kL;  // vectors per 32-wide row

// The masks that cover the first n of 32 columns, one per vector.
struct RowMasks {
  Mask m[kNV];
  explicit RowMasks(int64_t n) {
    for (int64_t v = 0; v < kNV; ++v) m[v] = vmask(n - v * kL);
  }
};

// C (M,N) = A (M,K) · op(B) (+ C if accumulate), op(B) = B (K,N) or, with trans_b, B stored (N,K).
// Four rows of C at a time live in registers (4 × 32 floats); each k broadcasts A[i+r, k] and adds
// A[i+r, k] · B[k, :] into row r. No packing of A, no zero-fill of C: one pass over each.
void skinny_rows(int64_t M, int64_t K, int64_t N, const float* A, const float* B, bool trans_b, bool accumulate,
                 float* C) {
  constexpr int64_t R = 4;
  alignas(64) float Bp[kSkinny][kSkinny] = {};  // op(B), padded with zero columns
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = 0; j < N; ++j) Bp[k][j] = trans_b ? B[j * K + k] : B[k * N + j];
  const RowMasks cols(N);
  auto rows = [&](int64_t i, auto nrows) {
    constexpr int64_t Rn = decltype(nrows)::value;
    V acc[Rn][kNV];
#pragma GCC unroll 16
    for (int64_t r = 0; r < Rn; ++r)
#pragma GCC unroll 16
      for (int64_t v = 0; v < kNV; ++v) acc[r][v] = vzero();
    for (int64_t k = 0; k < K; ++k) {
      V bk[kNV];
#pragma GCC unroll 16
      for (int64_t v = 0; v < kNV; ++v) bk[v] = vload(&Bp[k][v * kL]);
#pragma GCC unroll 16
      for (int64_t r = 0; r < Rn; ++r) {
        const V a = vset(A[(i + r) * K + k]);
#pragma GCC unroll 16
        for (int64_t v = 0; v < kNV; ++v) acc[r][v] = vfma(a, bk[v], acc[r][v]);
      }
    }
#pragma GCC unroll 16
    for (int64_t r = 0; r < Rn; ++r)
#pragma GCC unroll 16
      for (int64_t v = 0; v < kNV; ++v) {
        float* c = C + (i + r) * N + v * kL;
        vstore_part(c, cols.m[v], accumulate ? vadd(vload_part(c, cols.m[v]), acc[r][v]) : acc[r][v]);
      }
  };
  int64_t i = 0;
  for (; i + R <= M; i += R) rows(i, std::integral_constant<int64_t, R>{});
  for (; i < M; ++i) rows(i, std::integral_constant<int64_t, 1>{});
}

// C (K,N) = Aᵀ · G (+ C if accumulate) for A (M,K), G (M,N): the weight gradient of a tall-skinny
// product, C[k, :] = Σ_i A[i, k] · G[i, :]. A sum over 228146 rows depends on its order, so it is
// taken in OpenBLAS's: blocks of `block_rows` rows (the last two split evenly, rounded up to 16 —
// OpenBLAS's level-3 driver, whose block is its GEMM_Q: 320 for the Cooper Lake kernels, 448 for
// Skylake-X's), each block summed from zero by fused multiply-adds down its rows and then added to C.
// That reproduces single-threaded cblas_sgemm (and so PyTorch, which calls the same OpenBLAS) to the
// last bit on those kernel sets; skinny_block_rows() below says where these kernels are used. The
// (K, 32) sums do not fit in registers, so for each group of 8 k's a block's sums live in registers
// while the block's rows (in L2) stream past.

void skinny_at_b(int64_t M, int64_t K, int64_t N, const float* A, const float* G, bool accumulate, float* C,
                 int64_t block_rows) {
  constexpr int64_t KB = 8;  // k's per register group (8 × 32 floats)
  alignas(64) float acc[kSkinny][kSkinny] = {};
  if (accumulate)
    for (int64_t k = 0; k < K; ++k) std::copy_n(C + k * N, N, acc[k]);
  const RowMasks cols(N);
  for (int64_t i0 = 0; i0 < M;) {
    int64_t rb = M - i0;  // this block's rows, as OpenBLAS's driver splits its K loop
    if (rb >= 2 * block_rows) rb = block_rows;
    else if (rb > block_rows) rb = (rb / 2 + 15) / 16 * 16;
    for (int64_t k0 = 0; k0 < K; k0 += KB) {
      auto group = [&](auto nk) {
        constexpr int64_t Kn = decltype(nk)::value;
        V s[Kn][kNV];
#pragma GCC unroll 16
        for (int64_t k = 0; k < Kn; ++k)
#pragma GCC unroll 16
          for (int64_t v = 0; v < kNV; ++v) s[k][v] = vzero();
        for (int64_t r = 0; r < rb; ++r) {
          V gr[kNV];  // row i0 + r of G, zero past column N
#pragma GCC unroll 16
          for (int64_t v = 0; v < kNV; ++v) gr[v] = vload_part(G + (i0 + r) * N + v * kL, cols.m[v]);
          const float* a = A + (i0 + r) * K + k0;
#pragma GCC unroll 16
          for (int64_t k = 0; k < Kn; ++k) {
            const V ak = vset(a[k]);
#pragma GCC unroll 16
            for (int64_t v = 0; v < kNV; ++v) s[k][v] = vfma(ak, gr[v], s[k][v]);
          }
        }
#pragma GCC unroll 16
        for (int64_t k = 0; k < Kn; ++k)
#pragma GCC unroll 16
          for (int64_t v = 0; v < kNV; ++v) {
            float* c = &acc[k0 + k][v * kL];
            vstore(c, vadd(vload(c), s[k][v]));  // C += this block's sums
          }
      };
      switch (std::min(KB, K - k0)) {  // the last group may be short
        case 8: group(std::integral_constant<int64_t, 8>{}); break;
        case 7: group(std::integral_constant<int64_t, 7>{}); break;
        case 6: group(std::integral_constant<int64_t, 6>{}); break;
        case 5: group(std::integral_constant<int64_t, 5>{}); break;
        case 4: group(std::integral_constant<int64_t, 4>{}); break;
        case 3: group(std::integral_constant<int64_t, 3>{}); break;
        case 2: group(std::integral_constant<int64_t, 2>{}); break;
        default: group(std::integral_constant<int64_t, 1>{}); break;
      }
    }
    i0 += rb;
  }
  for (int64_t k = 0; k < K; ++k) std::copy_n(acc[k], N, C + k * N);
}
#else
void skinny_rows(int64_t, int64_t, int64_t, const float*, const float*, bool, bool, float*) {}
void skinny_at_b(int64_t, int64_t, int64_t, const float*, const float*, bool, float*, int64_t) {}
#endif

// The OpenBLAS block (GEMM_Q) that skinny_at_b must use to give cblas_sgemm's bits, or 0 where these
// kernels do not reproduce OpenBLAS: another kernel set (Haswell's and Prescott's products sum in
// other orders — measured, not guessed: tests/test_tensor_kernels.cpp compares with cblas_sgemm on
// every kernel set; gemm_openblas.cpp reproduces those two), or more than one OpenBLAS thread
// (threads split the sum over rows). There every product goes to gemm_openblas.cpp or cblas_sgemm,
// so the result is still OpenBLAS's, and so PyTorch's.
int64_t skinny_block_rows() {
  static const std::string core = blas::core_name();
  if (blas::num_threads() != 1) return 0;
  if (core == "Cooperlake") return 320;
  if (core == "SkylakeX") return 448;
  return 0;
}

bool skinny(int64_t M, int64_t K, int64_t N) {
  return kHaveSkinny && M >= kSkinnyRows && K <= kSkinny && N <= kSkinny && skinny_block_rows() != 0;
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, const float* B,
          bool accumulate, float* C) {
  if (!trans_a && skinny(M, K, N)) return skinny_rows(M, K, N, A, B, trans_b, accumulate, C);
  if (trans_a && !trans_b && skinny(K, M, N)) return skinny_at_b(K, M, N, A, B, accumulate, C, skinny_block_rows());
  if (gemm_openblas_order(trans_a, trans_b, M, N, K, A, B, accumulate, C)) return;
  blas::sgemm(trans_a, trans_b, M, N, K, 1.0f, A, B, accumulate ? 1.0f : 0.0f, C);
}

// Contiguous operands go to gemm; blocks of wider matrices to gemm_openblas_order, which reads them
// in place, where gemm would use it (not a tall-skinny shape), else to gemm by way of copies.
void gemm_ld(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
             int64_t ldb, bool accumulate, float* C, int64_t ldc) {
  if (lda == (trans_a ? M : K) && ldb == (trans_b ? K : N) && ldc == N)
    return gemm(trans_a, trans_b, M, N, K, A, B, accumulate, C);
  const bool skinny_shape = trans_a ? !trans_b && skinny(K, M, N) : skinny(M, K, N);
  if (!skinny_shape && gemm_openblas_order(trans_a, trans_b, M, N, K, A, lda, B, ldb, accumulate, C, ldc)) return;
  detail::gemm_ld_packed(gemm, trans_a, trans_b, M, N, K, A, lda, B, ldb, accumulate, C, ldc);
}

}  // namespace z2h::kernels::exact
