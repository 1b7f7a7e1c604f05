// 07-gpt/attention.cpp — exercise 1: all heads of masked self-attention as one op.
//
// The readable version is Head::forward in gpt.cpp, five library ops per head:
//   wei = softmax(masked_fill(q @ kᵀ * scale, tril == 0, -inf)); out = dropout(wei) @ v
// This file does the same per (batch, head), with the heads as a batch dimension: it reads q, k and
// v of every head from one (B, T, 3C) projection, never materialises a transposed or concatenated
// copy, and writes each head's output straight into its columns of the (B, T, C) result. Each
// product is the one the Head module makes (same sizes, the same sum as OpenBLAS's — kernels::gemm —
// or, for PyTorch's tiny products, the same plain loop), so the forward gives the modules' numbers.
// The (batch, head) pairs are independent: with --threads N they are shared among N threads.
//
// Memory: the Head modules keep every head's (B, T, T) weights for their backward, and dropout's
// mask as floats beside them — with gpt.py's sizes 2 x 100 MB per block. This op keeps neither: the
// backward recomputes each (batch, head)'s weights from q and k with the very same calls (so the
// same bits), and the mask is kept as one bit per weight.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common/tensor/blas.hpp"
#include "common/rng/generator.hpp"
#include "common/tensor/autograd.hpp"
#include "common/tensor/kernels/kernels.hpp"
#include "common/tensor/parallel.hpp"
#include "gpt.hpp"

namespace stage07 {

namespace {

// C (M×N) = op(A) · op(B), op(A) = A (M×K) or Aᵀ with A stored (K×M), op(B) = B (K×N) or Bᵀ with
// B stored (N×K); beta 0 or 1. lda, ldb, ldc: the stored rows' lengths (0: contiguous), so that A,
// B and C may be one head's columns of a wider matrix.
// torch.bmm makes a plain loop of float multiply-adds when K·M·N < 400 and calls BLAS otherwise
// (aten/src/ATen/native/LinearAlgebra.cpp, bmm_out_or_baddbmm_); so does this.
void product(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, const float* B, float beta,
             float* C, int64_t lda = 0, int64_t ldb = 0, int64_t ldc = 0) {
  if (lda == 0) lda = trans_a ? M : K;
  if (ldb == 0) ldb = trans_b ? K : N;
  if (ldc == 0) ldc = N;
  if (K * M * N >= 400) {
    z2h::kernels::gemm_ld(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta != 0.0f, C, ldc);
    return;
  }
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < K; ++k)
        acc += (trans_a ? A[k * lda + i] : A[i * lda + k]) * (trans_b ? B[j * ldb + k] : B[k * ldb + j]);
      C[i * ldc + j] = beta == 0.0f ? acc : C[i * ldc + j] + acc;
    }
}

// dst (cols, rows) = srcᵀ for src (rows, cols), whose rows are ld floats apart (0: cols)
void transpose_into(const float* src, int64_t rows, int64_t cols, float* dst, int64_t ld = 0) {
  if (ld == 0) ld = cols;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * ld + c];
}

// Copies head h's slice of rows (T, hs) at column offset `col` of a (T, ld) matrix, or back.
void gather_cols(const float* src, int64_t T, int64_t ld, int64_t col, int64_t hs, float* dst) {
  for (int64_t t = 0; t < T; ++t) std::copy_n(src + t * ld + col, hs, dst + t * hs);
}
void scatter_cols(const float* src, int64_t T, int64_t ld, int64_t col, int64_t hs, float* dst, bool add) {
  for (int64_t t = 0; t < T; ++t) {
    float* d = dst + t * ld + col;
    const float* s = src + t * hs;
    if (add) for (int64_t j = 0; j < hs; ++j) d[j] += s[j];
    else std::copy_n(s, hs, d);
  }
}

// How much of row i of a causal (T, T) block the softmax must see: the row's prefix 0..i, rounded
// up to at least 8 entries (the masked ones among them -inf), or the whole row if T < 8.
// Why that gives the whole row's bits: PyTorch's row kernel sums exp(x - max) in 8 lanes, a partial
// last vector adding only to its own lanes, and folds the lanes; past the prefix every exp is an
// exact 0, which adds nothing to a lane, and the max is the prefix's. Only a row shorter than one
// vector is summed otherwise (left to right), hence the 8.
int64_t causal_prefix(int64_t i, int64_t T) { return std::min(T, std::max<int64_t>(8, i + 1)); }

// The attention weights of one (batch, head): w (T, T) = softmax(masked(q kᵀ · scale)), the Head
// module's ops in its order — q @ kᵀ (the product reads k transposed: its sums, so its bits, are
// those of the module's transposed copy), * scale, masked_fill, softmax (PyTorch's row kernel in an
// exact build) — except that the softmax runs on each row's causal prefix only (above; the rest of
// the row is its exact 0). q and k: (T, hs), rows ld floats apart (0: hs). The forward and the
// backward both call it, so the backward's weights are the forward's to the bit.
void attention_weights(const float* q, const float* k, int64_t T, int64_t hs, float scale, float* w, int64_t ld = 0) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  product(false, true, T, T, hs, q, k, 0.0f, w, ld, ld);
  for (int64_t i = 0; i < T; ++i) {
    float* r = w + i * T;
    const int64_t n = causal_prefix(i, T);
    for (int64_t j = 0; j < n; ++j) r[j] = j > i ? kNegInf : r[j] * scale;
    z2h::kernels::softmax(r, r, 1, n);
    std::fill(r + n, r + T, 0.0f);
  }
}


// Whether `work` multiply-adds are worth sharing among the threads: waking a thread costs more than
// the default model's attention (16 × 4 heads × 32 × 32 × 16 = 2^20) saves.
bool worth_sharing(int64_t work) { return work >= (int64_t{1} << 22); }

// node: inputs {qkv}, and what AttentionSaved holds.
struct AttentionSaved {
  int64_t n_head;
  float scale;
  bool noisy;              // dropout on the weights
  std::vector<uint64_t> kept;  // dropout's mask over (NH, B, T, T), one bit per weight (if noisy)
  float keep_scale;        // a kept weight's factor, 1 / (1 - p)
};
void attention_backward(z2h::Node& o) {
  const Tensor& qkv = o.inputs[0];
  if (!qkv.requires_grad()) return;
  const AttentionSaved& sv = z2h::saved<AttentionSaved>(o);
  const int64_t B = qkv.size(0), T = qkv.size(1), C3 = qkv.size(2), C = C3 / 3, NH = sv.n_head, hs = C / NH;
  const float scale = sv.scale, keep_scale = sv.keep_scale;
  const bool noisy = sv.noisy;
  bool first;
  float* dqkv = qkv.node()->grad_data(&first);
  if (first) std::fill_n(dqkv, qkv.numel(), 0.0f);
  // each (head, batch row) reads and writes its own columns of its own rows: shared among the threads
  const int parts = worth_sharing(NH * B * T * T * hs) ? static_cast<int>(std::min<int64_t>(z2h::parallel::threads(), NH * B)) : 1;
  z2h::parallel::run(parts, [&](int part) {
    long begin, end;
    z2h::parallel::share(NH * B, parts, part, 1, begin, end);
    std::vector<float> q(T * hs), k(T * hs), v(T * hs), dout(T * hs), dq(T * hs), dk(T * hs), dv(T * hs);
    std::vector<float> w(T * T), wd(T * T), nz(T * T), dw(T * T), prod(T), kt(T * hs), dkt(T * hs);
    for (int64_t hb = begin; hb < end; ++hb) {
      const int64_t h = hb / B, b = hb % B;
      const float* xb = qkv.data() + b * T * C3;
      gather_cols(xb, T, C3, h * hs, hs, q.data());
      gather_cols(xb, T, C3, C + h * hs, hs, k.data());
      gather_cols(xb, T, C3, 2 * C + h * hs, hs, v.data());
      gather_cols(o.grad.data() + b * T * C, T, C, h * hs, hs, dout.data());
      attention_weights(q.data(), k.data(), T, hs, scale, w.data());  // recomputed, not stored
      const float* wdrop = w.data();
      if (noisy) {  // the weights after dropout, as the forward used them
        const int64_t base = (h * B + b) * T * T;
        for (int64_t i = 0; i < T * T; ++i) nz[i] = z2h::bit_at(sv.kept.data(), base + i) ? keep_scale : 0.0f;
        for (int64_t i = 0; i < T * T; ++i) wd[i] = w[i] * nz[i];
        wdrop = wd.data();
      }
      // out = wd @ v:  dwd = dout · vᵀ,  dv = wdᵀ · dout
      product(false, true, T, T, hs, dout.data(), v.data(), 0.0f, dw.data());
      product(true, false, T, hs, T, wdrop, dout.data(), 0.0f, dv.data());
      if (noisy)  // dropout: dw = dwd * noise
        for (int64_t i = 0; i < T * T; ++i) dw[i] *= nz[i];
      // softmax: ds = (dw - Σ_j dw_j w_j) * w, PyTorch's row kernel; masked_fill zeroes the masked
      // entries (w = 0 there), then the scale
      for (int64_t i = 0; i < T; ++i) {
        float* d = dw.data() + i * T;
        z2h::kernels::softmax_backward(d, w.data() + i * T, prod.data(), 1, T);
        for (int64_t j = 0; j < T; ++j) d[j] = j > i ? 0.0f : prod[j] * scale;
      }
      // s = q · kT with kT = kᵀ (hs, T), as the Head module's matmul(q, transpose(k)):
      // dq = ds · kTᵀ,  dkT = qᵀ · ds, then dk = dkTᵀ (the same products as the module's backward)
      transpose_into(k.data(), T, hs, kt.data());
      product(false, true, T, hs, T, dw.data(), kt.data(), 0.0f, dq.data());
      product(true, false, hs, T, T, q.data(), dw.data(), 0.0f, dkt.data());
      transpose_into(dkt.data(), hs, T, dk.data());
      float* db = dqkv + b * T * C3;
      scatter_cols(dq.data(), T, C3, h * hs, hs, db, true);
      scatter_cols(dk.data(), T, C3, C + h * hs, hs, db, true);
      scatter_cols(dv.data(), T, C3, 2 * C + h * hs, hs, db, true);
    }
  });
}

// node: inputs {x, w_0, ..., w_3NH-1}: every Head module's query weights, then the keys, then the values.
// Every product below is one Head module's linear, with that module's sizes: OpenBLAS's kernels may
// sum a (rows, 3C) product's elements in another order than a (rows, hs) one's (Haswell's do), so
// one product per module is what gives the modules' bits on every kernel. Each reads and writes its
// module's columns of the (rows, 3C) matrices in place (kernels::gemm_ld).
void qkv_backward(z2h::Node& o) {
  const Tensor& x = o.inputs[0];
  const int64_t parts = static_cast<int64_t>(o.inputs.size()) - 1, NH = parts / 3, C = x.size(-1), rows = x.numel() / C,
                hs = o.inputs[1].size(0), C3 = parts * hs;
  const float* g = o.grad.data();
  bool first_x = false;
  float* dx = x.requires_grad() ? x.node()->grad_data(&first_x) : nullptr;
  std::vector<float> dw_new;
  // the modules' products added in the order PyTorch's autograd adds them — the module created last
  // first: head NH-1's value, query, key, then head NH-2's, ... (Head::forward makes k, then q, then v).
  // One (rows, 3C) x (3C, C) product would sum the same terms in another order.
  for (int64_t h = NH - 1; h >= 0; --h)
    for (int64_t part : {2, 0, 1}) {  // v, q, k in the [q | k | v] layout
      const Tensor& w = o.inputs[static_cast<size_t>(1 + part * NH + h)];
      const float* gh = g + part * C + h * hs;  // this module's output gradient (rows, hs), rows C3 apart
      if (w.requires_grad()) {  // dW = g_hᵀ x, put into W's grad, or added to what is there
        bool first_w;
        float* dw = w.node()->grad_data(&first_w);
        if (first_w) {
          z2h::kernels::gemm_ld(true, false, hs, C, rows, gh, C3, x.data(), C, false, dw, C);
        } else {
          dw_new.resize(static_cast<size_t>(hs * C));
          z2h::kernels::gemm_ld(true, false, hs, C, rows, gh, C3, x.data(), C, false, dw_new.data(), C);
          for (int64_t i = 0; i < hs * C; ++i) dw[i] += dw_new[static_cast<size_t>(i)];
        }
      }
      if (dx) {  // dx += g_h W
        z2h::kernels::gemm_ld(false, false, rows, C, hs, gh, C3, w.data(), C, !first_x, dx, C);
        first_x = false;
      }
    }
}

}  // namespace

Tensor qkv_projection(const Tensor& x, const std::vector<Tensor>& w) {
  const int64_t parts = static_cast<int64_t>(w.size());
  if (parts == 0 || parts % 3 != 0) throw std::invalid_argument("qkv_projection: expected 3 * n_head weights, got " + std::to_string(parts));
  const int64_t C = x.size(-1), hs = w[0].size(0), C3 = parts * hs, rows = x.numel() / C;
  for (const Tensor& wi : w)
    if (wi.ndim() != 2 || wi.size(0) != hs || wi.size(1) != C)
      throw std::invalid_argument("qkv_projection: input " + x.shape().str() + " does not fit weight " + wi.shape().str());
  z2h::Shape s = x.shape();
  s[s.ndim() - 1] = C3;
  std::vector<Tensor> inputs{x};
  inputs.insert(inputs.end(), w.begin(), w.end());
  Tensor out = z2h::make_result(s, "qkv_projection", inputs, qkv_backward);
  for (int64_t i = 0; i < parts; ++i)  // each module's linear x Wᵢᵀ (rows, hs), written into its columns
    z2h::kernels::gemm_ld(false, true, rows, hs, C, x.data(), C, w[static_cast<size_t>(i)].data(), C, false,
                          out.data() + i * hs, C3);
  z2h::save_for_backward(out, inputs);
  return out;
}

Tensor causal_attention(const Tensor& qkv, int64_t n_head, float scale, double dropout, const Mode& m, Tensor* wei) {
  if (qkv.ndim() != 3 || qkv.size(2) % (3 * n_head) != 0)
    throw std::invalid_argument("causal_attention: expected (B, T, 3 * n_head * hs), got " + qkv.shape().str());
  const int64_t B = qkv.size(0), T = qkv.size(1), C3 = qkv.size(2), C = C3 / 3, NH = n_head, hs = C / NH;
  const bool noisy = m.training && dropout > 0.0;
  // nn.Dropout's noise: bernoulli_(1 - p) head after head, each (B, T, T) as the Head modules draw
  // it, kept as bits; a kept weight is multiplied by 1 / (1 - p) (the float the noise tensor holds)
  const float keep_scale = noisy ? (dropout >= 1.0 ? 0.0f : 1.0f / static_cast<float>(1.0 - dropout)) : 0.0f;
  std::vector<uint64_t> kept(noisy ? static_cast<size_t>((NH * B * T * T + 63) / 64) : 0, 0);
  if (wei) *wei = z2h::empty({NH, B, T, T});
  Tensor out = z2h::make_result({B, T, C}, "causal_attention", {qkv}, attention_backward);
  if (noisy && dropout < 1.0) {
    // the draws run in the order of the (NH, B, T, T) mask, before the heads are shared among the
    // threads; with p = 1 nothing is drawn and nothing kept, as nn.Dropout
    z2h::bernoulli_bits(kept.data(), 0, static_cast<size_t>(NH * B * T * T), 1.0 - dropout, *m.gen);
  }
  // each (head, batch row) writes its own columns of its own rows: shared among the threads (the
  // mask's bits are only read here)
  const int parts = worth_sharing(NH * B * T * T * hs) ? static_cast<int>(std::min<int64_t>(z2h::parallel::threads(), NH * B)) : 1;
  z2h::parallel::run(parts, [&](int part) {
    long begin, end;
    z2h::parallel::share(NH * B, parts, part, 1, begin, end);
    std::vector<float> w(T * T), wd(T * T);
    for (int64_t hb = begin; hb < end; ++hb) {
      const int64_t h = hb / B, b = hb % B;
      // this head's q, k, v (T, hs) in batch row b of qkv, rows C3 apart, read in place
      const float* q = qkv.data() + b * T * C3 + h * hs;
      const float *k = q + C, *v = q + 2 * C;
      attention_weights(q, k, T, hs, scale, w.data(), C3);
      if (wei) std::copy_n(w.data(), T * T, wei->data() + (h * B + b) * T * T);
      const float* wdrop = w.data();
      if (noisy) {
        const int64_t base = hb * T * T;
        for (int64_t i = 0; i < T * T; ++i) wd[i] = w[i] * (z2h::bit_at(kept.data(), base + i) ? keep_scale : 0.0f);
        wdrop = wd.data();
      }
      // wei @ v, written into this head's columns of the (T, C) output
      product(false, false, T, hs, T, wdrop, v, 0.0f, out.data() + b * T * C + h * hs, 0, C3, C);
    }
  });
  z2h::save_for_backward(out, AttentionSaved{NH, scale, noisy, std::move(kept), keep_scale});
  z2h::save_for_backward(out, {qkv});
  return out;
}

std::vector<Tensor> attention_maps(const MultiHeadAttention& sa, int64_t b) {
  std::vector<Tensor> maps;
  const int64_t NH = static_cast<int64_t>(sa.heads.size());
  for (int64_t h = 0; h < NH; ++h) {
    const Tensor& w = sa.attention == Attention::PerHead ? sa.heads[static_cast<size_t>(h)].wei : sa.wei;
    if (!w.defined()) throw std::logic_error("attention_maps: no forward has run with keep_weights set");
    const int64_t T = w.size(-1);
    const float* src = sa.attention == Attention::PerHead ? w.data() + b * T * T : w.data() + (h * w.size(1) + b) * T * T;
    maps.push_back(z2h::tensor(std::vector<float>(src, src + T * T), {T, T}));
  }
  return maps;
}

}  // namespace stage07
