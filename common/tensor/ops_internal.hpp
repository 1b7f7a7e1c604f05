#pragma once
// common/tensor/ops_internal.hpp — helpers shared by the ops_*.cpp files (not for stage code):
// xtensor views of a Tensor's numbers, and the broadcasting loop.
#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/tensor/ops.hpp"

namespace z2h::detail {

// ---- xtensor views -------------------------------------------------------------------------
// The numbers of a tensor as a flat 1-D xtensor (no copy). Element-wise math on these goes
// through xtensor's SIMD (xsimd) loops: flat(out) = xt::tanh(flat(x)).
inline auto flat(float* p, int64_t n) {
  return xt::adapt(p, static_cast<size_t>(n), xt::no_ownership(),
                   std::array<size_t, 1>{static_cast<size_t>(n)});
}
inline auto flat(const Tensor& t) { return flat(t.data(), t.numel()); }
// The same numbers with the tensor's own shape (for learners' reading and slower, shaped code).
inline auto xview(const Tensor& t) {
  std::vector<size_t> s(t.shape().begin(), t.shape().end());
  return xt::adapt(t.data(), static_cast<size_t>(t.numel()), xt::no_ownership(), s);
}

inline std::string shape_error(const char* op, const Shape& a, const Shape& b) {
  return std::string(op) + ": shapes " + a.str() + " and " + b.str() + " cannot be broadcast together";
}

// ---- broadcasting --------------------------------------------------------------------------
// torch.broadcast_shapes: align on the right; each pair of sizes must be equal or one of them 1.
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  int nd = std::max(a.ndim(), b.ndim());
  Shape out;
  for (int i = 0; i < nd; ++i) {
    int ia = i - (nd - a.ndim()), ib = i - (nd - b.ndim());
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1) throw std::invalid_argument(shape_error(op, a, b));
    out.push_back(da == 1 ? db : da);
  }
  return out;
}

// How two operands of shapes a and b (each broadcastable to `out`) are read while `out` is walked
// in row-major order. Dimensions are collapsed where possible, so (32, 200) + (200) becomes 32
// rows of 200 where b's inner stride is 1 and its row stride 0. Strides are 0 or "contiguous".
struct Broadcast {
  int nd = 0;
  int64_t numel = 0;
  std::array<int64_t, Shape::kMaxDims> size{}, sa{}, sb{};
};

inline Broadcast make_broadcast(const Shape& out, const Shape& a, const Shape& b) {
  int nd = out.ndim();
  std::array<int64_t, Shape::kMaxDims> fa{}, fb{};
  auto strides = [&](const Shape& s, std::array<int64_t, Shape::kMaxDims>& st) {
    int64_t acc = 1;
    for (int i = nd - 1; i >= 0; --i) {
      int j = i - (nd - s.ndim());
      st[static_cast<size_t>(i)] = (j < 0 || s[j] == 1) ? 0 : acc;
      if (j >= 0) acc *= s[j];
    }
  };
  strides(a, fa);
  strides(b, fb);
  Broadcast p;
  p.numel = out.numel();
  for (int i = 0; i < nd; ++i) {
    size_t u = static_cast<size_t>(i);
    if (out[i] == 1) continue;
    if (p.nd > 0) {
      size_t l = static_cast<size_t>(p.nd - 1);
      if (p.sa[l] == fa[u] * out[i] && p.sb[l] == fb[u] * out[i]) {  // merge with the previous dim
        p.size[l] *= out[i];
        p.sa[l] = fa[u];
        p.sb[l] = fb[u];
        continue;
      }
    }
    size_t k = static_cast<size_t>(p.nd++);
    p.size[k] = out[i];
    p.sa[k] = fa[u];
    p.sb[k] = fb[u];
  }
  if (p.nd == 0) {
    p.nd = 1;
    p.size[0] = 1;
  }
  return p;
}

// Calls row(o, ia, ib, n, sa, sb) for each run of n output elements out[o .. o+n), which read
// a[ia + j*sa] and b[ib + j*sb] (sa, sb are 0 or 1). Kernels branch on (sa, sb) once per row,
// so the inner loops are plain and vectorise.
template <class Row>
inline void for_each_row(const Broadcast& p, Row&& row) {
  if (p.numel == 0) return;
  size_t last = static_cast<size_t>(p.nd - 1);
  int64_t n = p.size[last], sa = p.sa[last], sb = p.sb[last];
  int64_t rows = p.numel / n;
  std::array<int64_t, Shape::kMaxDims> idx{};
  int64_t ia = 0, ib = 0;
  for (int64_t r = 0; r < rows; ++r) {
    row(r * n, ia, ib, n, sa, sb);
    for (int d = p.nd - 2; d >= 0; --d) {
      size_t u = static_cast<size_t>(d);
      ia += p.sa[u];
      ib += p.sb[u];
      if (++idx[u] < p.size[u]) break;
      ia -= p.sa[u] * p.size[u];
      ib -= p.sb[u] * p.size[u];
      idx[u] = 0;
    }
  }
}

// dst (shape `to`) = the sum of src (shape `from`, which `to` broadcasts to) over the broadcast
// dimensions, in float and in PyTorch's order (ATen's cascade_sum as TensorIterator drives it;
// defined in ops_reduce.cpp), so the result has torch.sum's bits. `to` may have fewer dims.
void torch_sum(const float* src, const Shape& from, float* dst, const Shape& to);
// The same sum for one contiguous row of n floats: torch_sum of shape (n) to (), without the
// layout analysis (for kernels that reduce row after row, e.g. a softmax divisor's gradient).
float torch_sum_row(const float* x, int64_t n);

// dst (shape `to`) += src (shape `from`, which `to` broadcasts to), summing over the broadcast
// dimensions: the backward of broadcasting. As in PyTorch's autograd (grad.sum_to(shape), then
// accumulated), the sum is formed first and then added, so dst + sum rounds once per element.
inline void sum_to_add(const float* src, const Shape& from, float* dst, const Shape& to) {
  if (from == to) {  // nothing to sum
    for (int64_t i = 0, n = to.numel(); i < n; ++i) dst[i] += src[i];
    return;
  }
  thread_local std::vector<float> sum;
  sum.resize(static_cast<size_t>(to.numel()));
  torch_sum(src, from, sum.data(), to);
  for (size_t i = 0; i < sum.size(); ++i) dst[i] += sum[i];
}

// dst (shape `to`) += src (shape `from`) stretched to `to`: the backward of a reduction.
inline void broadcast_add(const float* src, const Shape& from, float* dst, const Shape& to) {
  Broadcast p = make_broadcast(to, to, from);
  for_each_row(p, [&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
    float* d = dst + o;
    const float* s = src + ib;
    if (sb) {
      for (int64_t j = 0; j < n; ++j) d[j] += s[j];
    } else {
      float v = s[0];
      for (int64_t j = 0; j < n; ++j) d[j] += v;
    }
  });
}

// A tensor's shape seen as (outer, n, inner) around dimension d: the layout of dim-wise kernels.
struct AroundDim {
  int64_t outer = 1, n = 1, inner = 1;
};
inline AroundDim around(const Shape& s, int d) {
  AroundDim r;
  for (int i = 0; i < d; ++i) r.outer *= s[i];
  r.n = s[d];
  for (int i = d + 1; i < s.ndim(); ++i) r.inner *= s[i];
  return r;
}

// The shape of a reduction's result with keepdim=true (reduced dims set to 1).
inline Shape keepdim_shape(const Shape& s, const std::array<bool, Shape::kMaxDims>& reduced) {
  Shape k = s;
  for (int i = 0; i < s.ndim(); ++i)
    if (reduced[static_cast<size_t>(i)]) k[i] = 1;
  return k;
}

}  // namespace z2h::detail
