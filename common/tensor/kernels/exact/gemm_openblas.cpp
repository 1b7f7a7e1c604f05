// common/tensor/kernels/exact/gemm_openblas.cpp — products in the summation order of OpenBLAS 0.3.21's
// own kernels, with wide vectors: its SSE3 `Prescott` kernels (the set it falls back to on CPUs it
// does not know, such as Emerald Rapids) and its AVX2 `Haswell` ones.
//
// PyTorch's products are OpenBLAS's cblas_sgemm, and a float sum's bits depend on its order. The
// order of one element of C = op(A)·op(B), read from OpenBLAS's sources and checked bit for bit
// against cblas_sgemm (tests/test_tensor_kernels.cpp):
//  * cblas_sgemm row-major computes Cᵀ = op(B)ᵀ·op(A)ᵀ column-major, so OpenBLAS's "m" is our N
//    (columns of C) and its "n" our M (rows).
//  * The level-3 driver (driver/level3/level3.c) cuts the summed dimension K into blocks of GEMM_Q
//    (param.h: 128 for Prescott, 320 for Haswell); a rest between Q and 2Q is split in two halves
//    rounded up to 8. Each block's sums start from zero and are then added into C (which beta = 0
//    first sets to zero; alpha = 1 changes nothing).
//  * Within a block each kernel tiles C and keeps, per tile shape, its own accumulators: one chain
//    in ascending k, or two (even and odd k) added at the end, or four, or eight (the schemes below;
//    prescott_rects and haswell_rects say which element gets which). Prescott's SSE3 has no FMA: it
//    multiplies, rounds, adds, rounds; Haswell's chains are fused multiply-adds.
// These kernels compute the same chains, 8 or 16 columns at a time with AVX2 or AVX-512, in the same
// roundings: this file is compiled with -ffp-contract=off (tensor/CMakeLists.txt) so that the
// compiler does not fuse Prescott's multiply and add into one FMA.
#include "common/tensor/kernels/exact/gemm_openblas.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include <immintrin.h>

#include "common/tensor/blas.hpp"
#include "common/tensor/parallel.hpp"

namespace z2h::kernels::exact {

namespace {

#if defined(__AVX512F__)
constexpr bool kHaveVectors = true;
using V = __m512;
using Mask = __mmask16;
constexpr int64_t kL = 16;
constexpr int kRows = 8;  // rows of the main tile: 8 × 2 vectors = 16 accumulators of 32 registers
inline V vzero() { return _mm512_setzero_ps(); }
inline V vset(float a) { return _mm512_set1_ps(a); }
inline V vmul(V a, V b) { return _mm512_mul_ps(a, b); }
inline V vadd(V a, V b) { return _mm512_add_ps(a, b); }
inline V vfma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }  // a·b + c, rounded once
inline Mask vmask(int64_t n) { return n >= kL ? Mask(0xFFFF) : n <= 0 ? Mask(0) : Mask((1u << n) - 1); }
inline V vload_part(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
inline void vstore_part(float* p, Mask m, V v) { _mm512_mask_storeu_ps(p, m, v); }
#elif defined(__AVX2__) && defined(__FMA__)
constexpr bool kHaveVectors = true;
using V = __m256;
using Mask = __m256i;
constexpr int64_t kL = 8;
constexpr int kRows = 4;  // 4 × 2 vectors = 8 accumulators of 16 registers
inline V vzero() { return _mm256_setzero_ps(); }
inline V vset(float a) { return _mm256_set1_ps(a); }
inline V vmul(V a, V b) { return _mm256_mul_ps(a, b); }
inline V vadd(V a, V b) { return _mm256_add_ps(a, b); }
inline V vfma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline Mask vmask(int64_t n) {
  const int c = static_cast<int>(std::clamp<int64_t>(n, 0, kL));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline V vload_part(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
inline void vstore_part(float* p, Mask m, V v) { _mm256_maskstore_ps(p, m, v); }
#else
constexpr bool kHaveVectors = false;  // every product goes to cblas_sgemm
#endif

// The accumulation schemes of one element's block sum (see the top of the file).
enum class Scheme : uint8_t {
  S1,  // one chain
  E,   // even and odd k (over the first multiple of 8), then even + odd
  C4,  // k mod 4 (over the first multiple of 8), then (c0 + c1) + (c2 + c3)
  C8,  // k mod 8 (over the first multiple of 16), then ((c0 + c2) + (c4 + c6)) + ((c1 + c3) + (c5 + c7))
};

// A rectangle of C — rows [i0, i1), columns [j0, j1) — whose elements all sum in one scheme.
struct Rect {
  int64_t i0, i1, j0, j1;
  Scheme scheme;
};

// A kernel set: its K block (GEMM_Q), whether it multiplies and adds in one rounding (FMA), and the
// rectangles its tiles cut C into.
struct KernelSet {
  int64_t q;
  bool fused;
  void (*rects)(std::vector<Rect>& out, int64_t M, int64_t N);
  int64_t max_rows;  // beyond this many rows of C the driver's GEMM_R block could matter: use BLAS
};

// Prescott (gemm_kernel_8x4_sse3.S): columns in 8s, then 4, 2, 1; rows in 4s, then 2, 1.
void prescott_rects(std::vector<Rect>& r, int64_t M, int64_t N) {
  const int64_t Mf = M / 4 * 4, N8 = N / 8 * 8, N4 = N / 4 * 4, j2 = N8 + (N & 4);
  r.push_back({0, Mf, 0, N4, Scheme::S1});
  r.push_back({0, Mf, N4, N, Scheme::E});
  int64_t i = Mf;
  if (M & 2) {  // the 2-row strip: one chain in the 8-column tiles, two elsewhere
    r.push_back({i, i + 2, 0, N8, Scheme::S1});
    r.push_back({i, i + 2, N8, N, Scheme::E});
    i += 2;
  }
  if (M & 1) {  // the last row: two chains, then eight for 2 columns, four for 1
    r.push_back({i, i + 1, 0, j2, Scheme::E});
    if (N & 2) r.push_back({i, i + 1, j2, j2 + 2, Scheme::C8});
    if (N & 1) r.push_back({i, i + 1, N - 1, N, Scheme::C4});
  }
}

// Haswell (sgemm_kernel_8x4_haswell_2.c): each call takes C's rows in 12s, then 8, 4, 2, 1 (its "n").
// A 12-row panel at least 16 columns wide is two 6-row halves that tile the columns in 16s, offset
// by 8 from each other: the left half starts with 8 columns summed even/odd, and whichever half ends
// 8 columns behind finishes with 8 more of those; 4-row panels sum even/odd in 8-column tiles; all
// else is one chain. The driver (level3.c) calls it per 12 rows (4 once fewer than 12 are left) for
// the first block of GEMM_P = 320 columns, and with all the rows at once for the later ones.
void haswell_panel(std::vector<Rect>& out, int64_t r, int64_t rows, int64_t c0, int64_t m) {
  auto add = [&](int64_t i0, int64_t i1, int64_t j0, int64_t j1, Scheme sc) {
    if (i1 <= i0 || j1 <= j0) return;
    for (size_t back = 0; back < 3 && back < out.size(); ++back) {  // extend the same strip's last piece
      Rect& x = out[out.size() - 1 - back];
      if (x.i0 == i0 && x.i1 == i1 && x.j1 == j0 && x.scheme == sc) {
        x.j1 = j1;
        return;
      }
    }
    out.push_back({i0, i1, j0, j1, sc});
  };
  auto panel = [&](int64_t n) {
    if (n == 12 && m >= 16) {
      int64_t left = 8, right = 0, rest = m;
      add(r, r + 6, c0, c0 + 8, Scheme::E);
      while (true) {
        add(r + 6, r + 12, c0 + right, c0 + right + 16, Scheme::S1);
        right += 16;
        rest -= 8;
        if (rest < 16) {
          add(r, r + 6, c0 + left, c0 + left + 8, Scheme::E);
          rest -= 8;
          break;
        }
        add(r, r + 6, c0 + left, c0 + left + 16, Scheme::S1);
        left += 16;
        rest -= 8;
        if (rest < 16) {
          add(r + 6, r + 12, c0 + right, c0 + right + 8, Scheme::E);
          rest -= 8;
          break;
        }
      }
      add(r, r + 12, c0 + m - rest, c0 + m, Scheme::S1);
    } else if (n == 4) {
      add(r, r + 4, c0, c0 + m / 8 * 8, Scheme::E);
      add(r, r + 4, c0 + m / 8 * 8, c0 + m, Scheme::S1);
    } else {
      add(r, r + n, c0, c0 + m, Scheme::S1);
    }
    r += n;
  };
  for (; rows > 11; rows -= 12) panel(12);
  for (; rows > 7; rows -= 8) panel(8);
  for (; rows > 3; rows -= 4) panel(4);
  for (; rows > 1; rows -= 2) panel(2);
  if (rows > 0) panel(1);
}

void haswell_rects(std::vector<Rect>& out, int64_t M, int64_t N) {
  constexpr int64_t P = 320, U = 8;  // GEMM_P, GEMM_UNROLL_M of HASWELL
  for (int64_t j = 0; j < N;) {
    int64_t w = N - j;
    if (w >= 2 * P) w = P;
    else if (w > P) w = (w / 2 + U - 1) / U * U;
    if (j == 0) {
      for (int64_t i = 0; i < M;) {
        const int64_t left = M - i, n = left >= 12 ? 12 : left > 4 ? 4 : left;
        haswell_panel(out, i, n, 0, w);
        i += n;
      }
    } else {
      haswell_panel(out, 0, M, j, w);
    }
    j += w;
  }
}

constexpr KernelSet kPrescott{128, false, prescott_rects, INT64_MAX};  // GEMM_R along rows: 4-aligned
constexpr KernelSet kHaswell{320, true, haswell_rects, 16384};        // GEMM_R ≥ 25000 rows

// The length of the K block that starts at k0, as level3.c cuts it (GEMM_UNROLL_M = 8 on both).
int64_t block_length(int64_t q, int64_t K, int64_t k0) {
  int64_t kb = K - k0;
  if (kb >= 2 * q) return q;
  if (kb > q) return (kb / 2 + 7) / 8 * 8;
  return kb;
}

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))

// One tile: R rows × NV vectors of columns of C += the block's sums, each element summed in NC
// chains (chain k mod NC over the block's first multiple-of-U ks, the rest appended to chain 0),
// each step a multiply and an add (two roundings) or, with F, one fused multiply-add.
// a: op(A)[row, k] at a[row * sr + k * sk]; b: op(B)[k, col] at b[k * ldb + col]; cols: how many of the
// NV·kL columns are real. zero_c: C is not read (beta = 0: C = 0 + sums, as OpenBLAS does it).
template <int R, int NV, int NC, int U, bool F>
void tile(const float* a, int64_t sr, int64_t sk, const float* b, int64_t ldb, int64_t kb, float* c, int64_t ldc,
          int64_t cols, bool zero_c) {
  Mask m[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) m[v] = vmask(cols - v * kL);
  V acc[NC][R][NV];
#pragma GCC unroll 8
  for (int h = 0; h < NC; ++h)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[h][r][v] = vzero();
  auto step = [&](int h, int64_t k) __attribute__((always_inline)) {
    V bk[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bk[v] = vload_part(b + k * ldb + v * kL, m[v]);
    const float* ak = a + k * sk;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const V ar = vset(ak[r * sr]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        if constexpr (F) acc[h][r][v] = vfma(ar, bk[v], acc[h][r][v]);
        else acc[h][r][v] = vadd(acc[h][r][v], vmul(ar, bk[v]));  // two roundings
      }
    }
  };
  const int64_t main = kb / U * U;
  int64_t k = 0;
  for (; k < main; k += NC)
#pragma GCC unroll 8
    for (int h = 0; h < NC; ++h) step(h, k + h);
  for (; k < kb; ++k) step(0, k);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      V s;
      if constexpr (NC == 1) s = acc[0][r][v];
      else if constexpr (NC == 2) s = vadd(acc[0][r][v], acc[1][r][v]);
      else if constexpr (NC == 4)
        s = vadd(vadd(acc[0][r][v], acc[1][r][v]), vadd(acc[2][r][v], acc[3][r][v]));
      else {
        static_assert(NC == 8);
        const V even = vadd(vadd(acc[0][r][v], acc[2][r][v]), vadd(acc[4][r][v], acc[6][r][v]));
        const V odd = vadd(vadd(acc[1][r][v], acc[3][r][v]), vadd(acc[5][r][v], acc[7][r][v]));
        s = vadd(even, odd);
      }
      float* cp = c + r * ldc + v * kL;
      vstore_part(cp, m[v], vadd(zero_c ? vzero() : vload_part(cp, m[v]), s));
    }
}

// The operands of one K block: op(A)[i, k] = a[i * sr + k * sk], op(B)[k, j] = b[k * ldb + j],
// C[i, j] = C[i * ldc + j].
struct Block {
  const float* a;
  int64_t sr, sk;
  const float* b;
  int64_t ldb;
  int64_t kb;
  float* C;
  int64_t ldc;
  bool zero_c;
};

// R rows starting at i × columns [j0, j1), two vectors at a time while more than one is left.
template <int R, int NC, int U, bool F>
void strip(const Block& k, int64_t i, int64_t j0, int64_t j1) {
  const float* a = k.a + i * k.sr;
  int64_t j = j0;
  for (; j + kL < j1; j += 2 * kL)
    tile<R, 2, NC, U, F>(a, k.sr, k.sk, k.b + j, k.ldb, k.kb, k.C + i * k.ldc + j, k.ldc, j1 - j, k.zero_c);
  if (j < j1) tile<R, 1, NC, U, F>(a, k.sr, k.sk, k.b + j, k.ldb, k.kb, k.C + i * k.ldc + j, k.ldc, j1 - j, k.zero_c);
}

// A rectangle of one scheme, in strips of as many rows as the registers hold.
template <int NC, int U, bool F>
void rect(const Block& k, const Rect& r) {
  constexpr int big = NC == 1 ? kRows : 4;  // rows per strip where many are left
  int64_t i = r.i0;
  for (; i + big <= r.i1; i += big) strip<big, NC, U, F>(k, i, r.j0, r.j1);
  if (NC == 1 && i + 6 <= r.i1) { strip<6, NC, U, F>(k, i, r.j0, r.j1); i += 6; }
  for (; i + 4 <= r.i1; i += 4) strip<4, NC, U, F>(k, i, r.j0, r.j1);
  for (; i + 2 <= r.i1; i += 2) strip<2, NC, U, F>(k, i, r.j0, r.j1);
  for (; i < r.i1; ++i) strip<1, NC, U, F>(k, i, r.j0, r.j1);
}

template <bool F>
void rect_any(const Block& k, const Rect& r) {
  switch (r.scheme) {
    case Scheme::S1: return rect<1, 1, F>(k, r);
    case Scheme::E: return rect<2, 8, F>(k, r);
    case Scheme::C4: return rect<4, 8, F>(k, r);
    case Scheme::C8: return rect<8, 16, F>(k, r);
  }
}

// dst[c * ldd + r] = src[r * lds + c] for an 8 × 8 block (the usual unpack / shuffle / permute).
inline void transpose8x8(const float* src, int64_t lds, float* dst, int64_t ldd) {
  __m256 r[8], t[8], u[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * lds);
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 2
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
  }
}

// The row lengths of the stored A, B and C: A (M, K) or, transposed, (K, M); B (K, N) or (N, K);
// C (M, N) — or more, where each is a block of a wider matrix (a share of C's rows reads a share of
// a transposed A's columns).
struct Lds {
  int64_t a, b, c;
};
Lds contiguous(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K) {
  return {trans_a ? M : K, trans_b ? K : N, N};
}

void gemm_in_order(const KernelSet& set, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
                   const float* B, bool accumulate, float* C, Lds ld) {
  thread_local std::vector<float> bp;  // op(B) of one K block, where B is stored transposed
  thread_local std::vector<Rect> rects;
  rects.clear();
  set.rects(rects, M, N);
  for (int64_t k0 = 0; k0 < K;) {
    const int64_t kb = block_length(set.q, K, k0);
    Block blk{trans_a ? A + k0 * ld.a : A + k0, trans_a ? 1 : ld.a, trans_a ? ld.a : 1, B + k0 * ld.b, ld.b, kb,
              C, ld.c, k0 == 0 && !accumulate};
    if (trans_b) {  // B is stored (N, K): copy the block transposed, 8 × 8 at a time
      bp.resize(static_cast<size_t>(kb * N));
      const int64_t N8 = N / 8 * 8, kb8 = kb / 8 * 8;
      for (int64_t j = 0; j < N8; j += 8)
        for (int64_t k = 0; k < kb8; k += 8) transpose8x8(B + j * ld.b + k0 + k, ld.b, bp.data() + k * N + j, N);
      for (int64_t j = 0; j < N; ++j)  // the edges
        for (int64_t k = j < N8 ? kb8 : 0; k < kb; ++k) bp[k * N + j] = B[j * ld.b + k0 + k];
      blk.b = bp.data();
      blk.ldb = N;
    }
    for (const Rect& r : rects) set.fused ? rect_any<true>(blk, r) : rect_any<false>(blk, r);
    k0 += kb;
  }
}

#else
struct Lds {
  int64_t a, b, c;
};
Lds contiguous(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K) {
  return {trans_a ? M : K, trans_b ? K : N, N};
}
void gemm_in_order(const KernelSet&, bool, bool, int64_t, int64_t, int64_t, const float*, const float*, bool,
                   float*, Lds) {}
#endif

// The order above is OpenBLAS 0.3.21's (Debian 12's). Another version may block or tile otherwise, so
// before a kernel set is trusted, a few products that reach every scheme and block boundary (all
// leftover rows and columns, K split in halves, a second block of columns) are compared with
// cblas_sgemm once, bit for bit; on any difference every product goes to cblas_sgemm.
bool agrees_with_blas(const KernelSet& set) {
  struct Probe {
    int64_t M, N, K;
  };
  uint32_t state = 12345;
  auto next = [&] {  // a small LCG: values in [-1, 1) with all 24 mantissa bits in play
    state = state * 1664525u + 1013904223u;
    return static_cast<float>(static_cast<int32_t>(state)) * 0x1p-31f;
  };
  for (const Probe p : {Probe{31, 47, 300}, Probe{15, 23, 137}, Probe{13, 700, 20}, Probe{43, 22, 9}}) {
    std::vector<float> A(static_cast<size_t>(p.M * p.K)), B(static_cast<size_t>(p.K * p.N)), C0(static_cast<size_t>(p.M * p.N));
    for (float& x : A) x = next();
    for (float& x : B) x = next();
    for (float& x : C0) x = next();
    for (int t = 0; t < 8; ++t) {
      const bool ta = t & 1, tb = t & 2, acc = t & 4;
      std::vector<float> ref = C0, own = C0;
      blas::sgemm(ta, tb, p.M, p.N, p.K, 1.0f, A.data(), B.data(), acc ? 1.0f : 0.0f, ref.data());
      gemm_in_order(set, ta, tb, p.M, p.N, p.K, A.data(), B.data(), acc, own.data(), contiguous(ta, tb, p.M, p.N, p.K));
      if (std::memcmp(ref.data(), own.data(), ref.size() * sizeof(float)) != 0) return false;
    }
  }
  return true;
}

const KernelSet* active_set() {
  if (!kHaveVectors) return nullptr;
  static const KernelSet* const set = []() -> const KernelSet* {  // (checked once, with OpenBLAS on one thread)
    const std::string core = blas::core_name();
    const KernelSet* s = core == "Prescott" ? &kPrescott : core == "Haswell" ? &kHaswell : nullptr;
    const int threads = blas::num_threads();
    if (threads != 1) blas::set_num_threads(1);
    const bool agrees = s != nullptr && agrees_with_blas(*s);
    if (threads != 1) blas::set_num_threads(threads);
    return agrees ? s : nullptr;
  }();
  return set;
}

// ---- several threads ------------------------------------------------------------------------------
// With n OpenBLAS threads, OpenBLAS splits a large product's C among them (interface/gemm.c threads
// it above 65536 · 4 multiply-adds; level3_thread.c cuts each dimension into shares). A share has
// its own leftover tiles, so an element at a share's edge may sum in another scheme than on one
// thread: for the stages' shapes that happens where a side is not a multiple of 8 (65 = the
// vocabulary, measured), elsewhere the order is the one-thread order. Rather than model the shares,
// each shape is checked once against cblas_sgemm on random operands, bit for bit (agrees_threaded);
// a shape that agrees is computed here from then on (its rows cut among the threads at multiples of 12, which
// keeps every row's scheme on both kernel sets), one that does not goes to cblas_sgemm.

// The product in the one-thread order, its rows shared among `threads` threads where it is large.
void gemm_in_order_parts(const KernelSet& set, int threads, bool trans_a, bool trans_b, int64_t M, int64_t N,
                         int64_t K, const float* A, const float* B, bool accumulate, float* C, Lds ld) {
  constexpr int64_t kCut = 12;  // rows per share: a multiple of 12 (Haswell's panels) and of 4 (Prescott's)
  const int64_t per = (M + threads - 1) / threads, rows = (per + kCut - 1) / kCut * kCut;
  const int parts = static_cast<int>(std::min<int64_t>(threads, (M + rows - 1) / rows));
  if (parts < 2 || M * N * K < parallel::kMinProductMacs || parallel::in_part()) return gemm_in_order(set, trans_a, trans_b, M, N, K, A, B, accumulate, C, ld);
  parallel::run(parts, [&](int p) {
    const int64_t i0 = p * rows, i1 = std::min(M, i0 + rows);
    gemm_in_order(set, trans_a, trans_b, i1 - i0, N, K, trans_a ? A + i0 : A + i0 * ld.a, B, accumulate, C + i0 * ld.c,
                  ld);
  });
}

// Whether this shape, computed by gemm_in_order_parts, has cblas_sgemm's bits on `threads` threads:
// one product of random operands (all 24 mantissa bits in play, so that any difference of order
// shows; the stage's own operands could hide one — a gradient that is still all zeros sums to 0 in
// any order) compared bit for bit.
bool agrees_threaded(const KernelSet& set, int threads, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                     bool accumulate) {
  uint32_t state = 2024;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return static_cast<float>(static_cast<int32_t>(state)) * 0x1p-31f;
  };
  std::vector<float> A(static_cast<size_t>(M * K)), B(static_cast<size_t>(K * N)), ref(static_cast<size_t>(M * N));
  for (float& x : A) x = next();
  for (float& x : B) x = next();
  for (float& x : ref) x = next();
  std::vector<float> own = ref;
  blas::sgemm(trans_a, trans_b, M, N, K, 1.0f, A.data(), B.data(), accumulate ? 1.0f : 0.0f, ref.data());
  gemm_in_order_parts(set, threads, trans_a, trans_b, M, N, K, A.data(), B.data(), accumulate, own.data(),
                      contiguous(trans_a, trans_b, M, N, K));
  return std::memcmp(ref.data(), own.data(), ref.size() * sizeof(float)) == 0;
}

}  // namespace

const char* gemm_openblas_order_kernel() {
  const KernelSet* set = active_set();
  return set == &kPrescott ? "Prescott" : set == &kHaswell ? "Haswell" : nullptr;
}

bool gemm_openblas_order(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, const float* B,
                         bool accumulate, float* C) {
  return gemm_openblas_order(trans_a, trans_b, M, N, K, A, 0, B, 0, accumulate, C, 0);
}

bool gemm_openblas_order(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                         const float* B, int64_t ldb, bool accumulate, float* C, int64_t ldc) {
  Lds ld = contiguous(trans_a, trans_b, M, N, K);
  if (lda) ld.a = lda;
  if (ldb) ld.b = ldb;
  if (ldc) ld.c = ldc;
  const KernelSet* set = active_set();
  if (set == nullptr || M < 1 || N < 1 || K < 1 || M > set->max_rows) return false;
  const int threads = blas::num_threads();
  if (threads == 1) {
    gemm_in_order(*set, trans_a, trans_b, M, N, K, A, B, accumulate, C, ld);
    return true;
  }
  // several threads: this shape's verdict, or check it now (see "several threads" above)
  static std::mutex mu;
  static std::map<std::tuple<int, bool, bool, bool, int64_t, int64_t, int64_t>, bool> agrees;
  const auto key = std::make_tuple(threads, trans_a, trans_b, accumulate, M, N, K);
  bool ok;
  {
    std::lock_guard<std::mutex> l(mu);
    auto it = agrees.find(key);
    if (it == agrees.end()) it = agrees.emplace(key, agrees_threaded(*set, threads, trans_a, trans_b, M, N, K, accumulate)).first;
    ok = it->second;
  }
  if (!ok) return false;
  gemm_in_order_parts(*set, threads, trans_a, trans_b, M, N, K, A, B, accumulate, C, ld);
  return true;
}

}  // namespace z2h::kernels::exact
