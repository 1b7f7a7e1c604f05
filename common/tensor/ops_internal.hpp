#pragma once
// common/tensor/ops_internal.hpp — helpers shared by the ops_*.cpp files (not for stage code):
// xtensor views of a Tensor's numbers, gradient accumulation, shapes around a dimension.
#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/tensor/broadcast.hpp"
#include "common/tensor/kernels/kernels.hpp"
#include "common/tensor/autograd.hpp"
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
  kernels::sum_to(src, from, sum.data(), to);
  for (size_t i = 0; i < sum.size(); ++i) dst[i] += sum[i];
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
