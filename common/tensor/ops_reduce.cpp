// common/tensor/ops_reduce.cpp — sum, mean, max, var, std over chosen dimensions (keepdim or not).
// sum and mean are PyTorch's float sums to the bit (torch_sum, below, also behind sum_to_add);
// var and std accumulate in double.
//
// xtensor pitfall #1 (TOOLCHAIN.md): `x - xt::sum(x, {1}, xt::keep_dims)` — a lazy keep_dims
// reducer inside a broadcasting expression — silently computes wrong numbers (xtensor #2737).
// Reductions here are evaluated into their own buffer first and only then broadcast against x;
// tests/test_tensor_ops.cpp pins the case "x - sum(x, 1, keepdim)".
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common/tensor/ops_internal.hpp"

namespace z2h {
using namespace detail;

namespace {

using DimMask = std::array<bool, Shape::kMaxDims>;

// Which dimensions a reduction removes; an empty list means all of them.
DimMask parse_dims(const Dims& dims, int ndim, const char* op) {
  DimMask m{};
  if (dims.ndim() == 0) {
    for (int i = 0; i < ndim; ++i) m[static_cast<size_t>(i)] = true;
    return m;
  }
  for (int64_t d : dims) {
    size_t u = static_cast<size_t>(wrap_dim(d, ndim));
    if (m[u]) throw std::invalid_argument(std::string(op) + ": dimension " + std::to_string(d) + " listed twice");
    m[u] = true;
  }
  return m;
}
int64_t pack(const DimMask& m) {
  int64_t bits = 0;
  for (size_t i = 0; i < m.size(); ++i)
    if (m[i]) bits |= int64_t{1} << i;
  return bits;
}
DimMask unpack(int64_t bits) {
  DimMask m{};
  for (size_t i = 0; i < m.size(); ++i) m[i] = (bits >> i) & 1;
  return m;
}
Shape result_shape(const Shape& s, const DimMask& m, bool keepdim) {
  Shape r;
  for (int i = 0; i < s.ndim(); ++i) {
    if (!m[static_cast<size_t>(i)]) r.push_back(s[i]);
    else if (keepdim) r.push_back(1);
  }
  return r;
}

}  // namespace

// ---- PyTorch's float sum --------------------------------------------------------------------
// torch.sum on a float CPU tensor accumulates in float, in an order fixed by two pieces of ATen
// (1.13): TensorIterator lays the reduction out as at most two loops (reduced dims first, dims
// merged where memory allows; TensorIterator.cpp reorder_dimensions / coalesce_dimensions), and
// cascade_sum (cpu/SumKernel.cpp) sums each such block with one of four kernels. Every kernel is
// built from row_sum: 4 interleaved partial sums (ILP), each a cascade of 4 levels that flushes
// every 16 (or more, for very long rows) additions, so only numbers of similar size meet. Vector
// kernels do the same with 8 independent lanes. The code below follows those functions one to one,
// with L = 8 lanes standing for a Vectorized<float> and L = 1 for a scalar.
namespace {

// L lanes in one GCC/Clang vector (a register, like Vectorized<float>): each lane adds on its own.
template <int L>
struct Lanes {
  typedef float V __attribute__((vector_size(sizeof(float) * L)));
  V v{};
  void add(const float* p) {
    V t;
    std::memcpy(&t, p, sizeof t);  // an unaligned load
    v += t;
  }
  void add(const Lanes& o) { v += o.v; }
};

// utils::CeilLog2 (native/cpu/utils.h).
int64_t ceil_log2(int64_t x) { return x <= 2 ? 1 : 64 - __builtin_clzll(static_cast<uint64_t>(x - 1)); }

// SumKernel.cpp multi_row_sum: nrows sums at once; sum k adds in[i * row_stride + k * col_stride]
// for i < size through the level cascade.
template <int L, int nrows>
std::array<Lanes<L>, nrows> multi_row_sum(const float* in, int64_t row_stride, int64_t col_stride, int64_t size) {
  constexpr int kLevels = 4;
  const int64_t level_power = std::max<int64_t>(4, ceil_log2(size) / kLevels);
  const int64_t level_step = int64_t{1} << level_power, level_mask = level_step - 1;
  std::array<std::array<Lanes<L>, nrows>, kLevels> acc{};
  int64_t i = 0;
  for (; i + level_step <= size;) {
    for (int64_t j = 0; j < level_step; ++j, ++i)
      for (int k = 0; k < nrows; ++k) acc[0][k].add(in + i * row_stride + k * col_stride);
    for (int j = 1; j < kLevels; ++j) {
      for (int k = 0; k < nrows; ++k) {
        acc[j][k].add(acc[j - 1][k]);
        acc[j - 1][k] = Lanes<L>{};
      }
      if ((i & (level_mask << (j * level_power))) != 0) break;
    }
  }
  for (; i < size; ++i)
    for (int k = 0; k < nrows; ++k) acc[0][k].add(in + i * row_stride + k * col_stride);
  for (int j = 1; j < kLevels; ++j)
    for (int k = 0; k < nrows; ++k) acc[0][k].add(acc[j][k]);
  return acc[0];
}

// SumKernel.cpp row_sum: in[i * stride] for i < size, as 4 interleaved multi_row_sums.
// Always inlined: a softmax row of 27 is 3 vectors and 3 numbers, less work than a call.
template <int L>
[[gnu::always_inline]] inline Lanes<L> row_sum(const float* in, int64_t stride, int64_t size) {
  constexpr int kIlp = 4;
  const int64_t size_ilp = size / kIlp;
  std::array<Lanes<L>, kIlp> partial{};
  if (size_ilp < 16) {
    // Short rows (e.g. 27 logits, 3 vectors): fewer additions than the smallest cascade step (16),
    // so no level is ever flushed and multi_row_sum reduces to four plain running sums (adding its
    // untouched zero levels changes nothing: an accumulator that starts at +0 is never -0). The
    // same numbers, without zeroing and folding 16 accumulators per row.
    for (int64_t i = 0; i < size_ilp; ++i)
      for (int k = 0; k < kIlp; ++k) partial[static_cast<size_t>(k)].add(in + (i * kIlp + k) * stride);
  } else {
    partial = multi_row_sum<L, kIlp>(in, stride * kIlp, stride, size_ilp);
  }
  for (int64_t i = size_ilp * kIlp; i < size; ++i) partial[0].add(in + i * stride);
  for (int k = 1; k < kIlp; ++k) partial[0].add(partial[k]);
  return partial[0];
}

// The four kernels of cascade_sum. Dimension 0 (size0, stride is0) is summed; dimension 1
// (size1, stride is1) is kept, its sums land at out[j * os] (added: the output starts at 0).
// One contiguous row of n >= 8 numbers, as vectorized_inner_sum sums each of its rows: whole
// vectors in row_sum's lanes, then the tail, then the lanes one by one.
[[gnu::always_inline]] inline float inner_row_sum(const float* row, int64_t n) {
  const int64_t nvec = n / 8;
  Lanes<8> lanes = row_sum<8>(row, 8, nvec);
  float acc = 0.0f;
  for (int64_t k = nvec * 8; k < n; ++k) acc += row[k];  // the tail first, then the lanes
  for (int l = 0; l < 8; ++l) acc += lanes.v[l];
  return acc;
}
void vectorized_inner_sum(const float* in, int64_t is1, float* out, int64_t os, int64_t size0, int64_t size1) {
  for (int64_t j = 0; j < size1; ++j) out[j * os] += inner_row_sum(in + j * is1, size0);
}
void vectorized_outer_sum(const float* in, int64_t is0, float* out, int64_t os, int64_t size0, int64_t size1) {
  int64_t j = 0;
  for (; j + 32 <= size1; j += 32) {  // 4 vectors of columns at once
    auto sums = multi_row_sum<8, 4>(in + j, is0, 8, size0);
    for (int i = 0; i < 4; ++i)
      for (int l = 0; l < 8; ++l) out[(j + i * 8 + l) * os] += sums[static_cast<size_t>(i)].v[static_cast<size_t>(l)];
  }
  for (; j + 8 <= size1; j += 8) {  // then one vector
    Lanes<8> s = row_sum<8>(in + j, is0, size0);
    for (int l = 0; l < 8; ++l) out[(j + l) * os] += s.v[static_cast<size_t>(l)];
  }
  for (; j < size1; ++j) out[j * os] += row_sum<1>(in + j, is0, size0).v[0];  // then single columns
}
void scalar_inner_sum(const float* in, int64_t is0, int64_t is1, float* out, int64_t os, int64_t size0, int64_t size1) {
  for (int64_t j = 0; j < size1; ++j) out[j * os] += row_sum<1>(in + j * is1, is0, size0).v[0];
}
void scalar_outer_sum(const float* in, int64_t is0, int64_t is1, float* out, int64_t os, int64_t size0, int64_t size1) {
  int64_t j = 0;
  for (; j + 3 < size1; j += 4) {
    auto sums = multi_row_sum<1, 4>(in + j * is1, is0, is1, size0);
    for (int k = 0; k < 4; ++k) out[(j + k) * os] += sums[static_cast<size_t>(k)].v[0];
  }
  for (; j < size1; ++j) out[j * os] += row_sum<1>(in + j * is1, is0, size0).v[0];
}

// cascade_sum's choice of kernel for one 2-D block (the reduced dimension is dimension 0).
void sum_block(const float* in, const int64_t is[2], float* out, int64_t os, int64_t size0, int64_t size1) {
  if (is[0] == 1 && size0 >= 8) vectorized_inner_sum(in, is[1], out, os, size0, size1);
  else if (is[1] == 1 && size1 >= 8) vectorized_outer_sum(in, is[0], out, os, size0, size1);
  else if (is[0] < is[1]) scalar_inner_sum(in, is[0], is[1], out, os, size0, size1);
  else scalar_outer_sum(in, is[0], is[1], out, os, size0, size1);
}

}  // namespace

namespace detail {
float torch_sum_row(const float* x, int64_t n) {
  // sum_block's choice for one contiguous row: the vector kernel from 8 numbers on, else scalar.
  return 0.0f + (n >= 8 ? inner_row_sum(x, n) : row_sum<1>(x, 1, n).v[0]);
}

void torch_sum(const float* src, const Shape& from, float* dst, const Shape& to) {
  const int nd = from.ndim();
  const int64_t out_numel = to.numel();
  std::fill_n(dst, out_numel, 0.0f);  // cascade_sum: iter.output().fill_(0), then +=
  if (from.numel() == 0) return;
  // The dimensions, fastest first, without the size-1 ones: (size, input stride, output stride).
  struct Dim {
    int64_t size = 1, in = 0, out = 0;
  };
  std::array<Dim, Shape::kMaxDims> dims{};
  int nd_dims = 0;
  int64_t in_stride = 1, out_stride = 1;
  for (int i = nd - 1; i >= 0; --i) {
    const int j = i - (nd - to.ndim());
    const int64_t kept = j >= 0 ? to[j] : 1;
    if (from[i] != 1) dims[static_cast<size_t>(nd_dims++)] = {from[i], in_stride, kept == 1 ? 0 : out_stride};
    in_stride *= from[i];
    out_stride *= kept;
  }
  // reorder_dimensions: reduced dims (output stride 0) first; each group keeps its stride order.
  std::stable_partition(dims.begin(), dims.begin() + nd_dims, [](const Dim& d) { return d.out == 0; });
  // coalesce_dimensions: merge neighbours that are one run of memory in both tensors.
  std::array<Dim, Shape::kMaxDims> m{};
  int nm = 0;
  for (int i = 0; i < nd_dims; ++i) {
    const Dim& d = dims[static_cast<size_t>(i)];
    Dim* last = nm ? &m[static_cast<size_t>(nm - 1)] : nullptr;
    if (last && last->in * last->size == d.in && last->out * last->size == d.out) last->size *= d.size;
    else m[static_cast<size_t>(nm++)] = d;
  }
  if (nm == 0 || m[0].out != 0) {  // nothing is reduced: the sum of one number is itself
    for (int64_t i = 0; i < out_numel; ++i) dst[i] = 0.0f + src[i];
    return;
  }
  const int64_t is[2] = {m[0].in, m[1].in};  // m[1] is (1, 0, 0) when there is no second dim
  // Dimensions beyond the first two: one 2-D block per index, the fastest of them innermost.
  std::array<int64_t, Shape::kMaxDims> idx{};
  int64_t in_off = 0, out_off = 0;
  while (true) {
    sum_block(src + in_off, is, dst + out_off, m[1].out, m[0].size, m[1].size);
    int d = 2;
    for (; d < nm; ++d) {
      const Dim& o = m[static_cast<size_t>(d)];
      in_off += o.in;
      out_off += o.out;
      if (++idx[static_cast<size_t>(d)] < o.size) break;
      in_off -= o.in * o.size;
      out_off -= o.out * o.size;
      idx[static_cast<size_t>(d)] = 0;
    }
    if (d >= nm) break;
  }
}
}  // namespace detail

namespace {

// Sums of x over the reduced dims, accumulated in double (shape: keepdim form, k): var/std's mean.
std::vector<double> sums(const Tensor& x, const Shape& k) {
  std::vector<double> acc(static_cast<size_t>(k.numel()), 0.0);
  const float* xv = x.data();
  Broadcast p = make_broadcast(x.shape(), x.shape(), k);
  for_each_row(p, [&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
    if (sb) {
      for (int64_t j = 0; j < n; ++j) acc[static_cast<size_t>(ib + j)] += xv[o + j];
    } else {
      double a = 0.0;
      for (int64_t j = 0; j < n; ++j) a += xv[o + j];
      acc[static_cast<size_t>(ib)] += a;
    }
  });
  return acc;
}

// Backward of sum/mean: dx += dout (stretched back over the reduced dims) * scale.
void sum_backward(Node& o, float scale) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  Shape k = keepdim_shape(x.shape(), unpack(o.ints[0]));
  float* dx = x.node()->grad_data();
  if (scale == 1.0f) {
    broadcast_add(o.grad.data(), k, dx, x.shape());
  } else {
    Tensor g = o.grad / scale;  // dout / n, as PyTorch's mean backward
    broadcast_add(g.data(), k, dx, x.shape());
  }
}

Tensor reduce_sum(const Tensor& x, const Dims& dims, bool keepdim, bool is_mean) {
  const char* op = is_mean ? "mean" : "sum";
  DimMask m = parse_dims(dims, x.ndim(), op);
  Shape k = keepdim_shape(x.shape(), m);
  BackwardFn fn = is_mean ? BackwardFn([](Node& o) { sum_backward(o, o.floats[0]); })
                          : BackwardFn([](Node& o) { sum_backward(o, 1.0f); });
  Tensor out = make_result(result_shape(x.shape(), m, keepdim), op, {x}, fn);
  const float count = static_cast<float>(k.numel() ? x.numel() / k.numel() : 0);
  out.node()->ints[0] = pack(m);
  out.node()->floats[0] = count;
  // PyTorch's float sum (torch_sum, above); mean is that sum divided by the count in float, as
  // ATen's mean_out computes it on the CPU (at::sum_out(...).div_(dim_prod)).
  float* y = out.data();
  torch_sum(x.data(), x.shape(), y, k);
  if (is_mean)
    for (int64_t i = 0; i < k.numel(); ++i) y[i] /= count;
  return out;
}

}  // namespace

// ---- sum / mean ----------------------------------------------------------------------------
// x: (..., n, ...) -> the reduced dims removed (or kept as 1).   dx += dout  (mean: dout / n)
Tensor sum(const Tensor& x) { return reduce_sum(x, Dims{}, false, false); }
Tensor sum(const Tensor& x, Dims dims, bool keepdim) { return reduce_sum(x, dims, keepdim, false); }
Tensor mean(const Tensor& x) { return reduce_sum(x, Dims{}, false, true); }
Tensor mean(const Tensor& x, Dims dims, bool keepdim) { return reduce_sum(x, dims, keepdim, true); }

// ---- max over one dimension ------------------------------------------------------------------
// x: (outer, n, inner) around dim -> (outer, inner).   dx[argmax] += dout
Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  int d = wrap_dim(dim, x.ndim());
  DimMask m{};
  m[static_cast<size_t>(d)] = true;
  AroundDim a = around(x.shape(), d);
  if (a.n == 0) throw std::invalid_argument("max(): cannot reduce a dimension of size 0");
  Tensor out = make_result(result_shape(x.shape(), m, keepdim), "max", {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (!x.requires_grad()) return;
    float* dx = x.node()->grad_data();
    const float* g = o.grad.data();
    for (int64_t k = 0; k < o.index.numel(); ++k) dx[o.index.data[static_cast<size_t>(k)]] += g[k];
  });
  LongTensor where;
  where.data.resize(static_cast<size_t>(a.outer * a.inner));
  const float* xv = x.data();
  float* y = out.data();
  for (int64_t o = 0; o < a.outer; ++o)
    for (int64_t i = 0; i < a.inner; ++i) {
      int64_t best = o * a.n * a.inner + i;
      for (int64_t j = 1; j < a.n; ++j) {
        int64_t at = (o * a.n + j) * a.inner + i;
        if (xv[at] > xv[best] || std::isnan(xv[at])) best = at;
      }
      y[o * a.inner + i] = xv[best];
      where.data[static_cast<size_t>(o * a.inner + i)] = best;  // flat position in x
    }
  where.shape = Shape{a.outer * a.inner};
  out.node()->index = std::move(where);
  return out;
}

LongTensor argmax(const Tensor& x, int64_t dim) {
  int d = wrap_dim(dim, x.ndim());
  AroundDim a = around(x.shape(), d);
  DimMask m{};
  m[static_cast<size_t>(d)] = true;
  LongTensor out;
  out.shape = result_shape(x.shape(), m, false);
  out.data.resize(static_cast<size_t>(a.outer * a.inner));
  const float* xv = x.data();
  for (int64_t o = 0; o < a.outer; ++o)
    for (int64_t i = 0; i < a.inner; ++i) {
      int64_t best = 0;
      for (int64_t j = 1; j < a.n; ++j)
        if (xv[(o * a.n + j) * a.inner + i] > xv[(o * a.n + best) * a.inner + i]) best = j;
      out.data[static_cast<size_t>(o * a.inner + i)] = best;
    }
  return out;
}

// ---- var / std -----------------------------------------------------------------------------
// var = Σ (x - mean)² / (n - 1)   (unbiased; / n when biased), accumulated in double like PyTorch.
// dx += dout * 2 (x - mean) / (n - 1)          std: dx += dout * (x - mean) / ((n - 1) * std)
namespace {
Tensor variance(const Tensor& x, const Dims& dims, bool keepdim, bool unbiased, bool take_sqrt) {
  const char* op = take_sqrt ? "std" : "var";
  DimMask m = parse_dims(dims, x.ndim(), op);
  Shape k = keepdim_shape(x.shape(), m);
  Tensor out = make_result(result_shape(x.shape(), m, keepdim), op, {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (!x.requires_grad()) return;
    const float denom = o.floats[0];
    const bool is_std = o.ints[1] != 0;
    Shape k = keepdim_shape(x.shape(), unpack(o.ints[0]));
    // per output element: the factor that multiplies (x - mean)
    Tensor f = empty(k);
    for (int64_t i = 0; i < k.numel(); ++i)
      f.data()[i] = is_std ? o.grad.data()[i] / (denom * o.data[i]) : o.grad.data()[i] * 2.0f / denom;
    const float *xv = x.data(), *mv = o.saved.data(), *fv = f.data();
    float* dx = x.node()->grad_data();
    for_each_row(make_broadcast(x.shape(), x.shape(), k),
                 [&](int64_t r, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
                   for (int64_t j = 0; j < n; ++j)
                     dx[r + j] += fv[ib + j * sb] * (xv[r + j] - mv[ib + j * sb]);
                 });
  });
  const int64_t n = k.numel() ? x.numel() / k.numel() : 0;
  const double denom = static_cast<double>(unbiased ? n - 1 : n);
  std::vector<double> mean = sums(x, k);
  for (double& v : mean) v /= static_cast<double>(n);
  std::vector<double> ss(mean.size(), 0.0);
  const float* xv = x.data();
  for_each_row(make_broadcast(x.shape(), x.shape(), k),
               [&](int64_t r, int64_t, int64_t ib, int64_t len, int64_t, int64_t sb) {
                 for (int64_t j = 0; j < len; ++j) {
                   double dlt = xv[r + j] - mean[static_cast<size_t>(ib + j * sb)];
                   ss[static_cast<size_t>(ib + j * sb)] += dlt * dlt;
                 }
               });
  float* y = out.data();
  for (size_t i = 0; i < ss.size(); ++i) {
    double v = ss[i] / denom;
    y[i] = static_cast<float>(take_sqrt ? std::sqrt(v) : v);
  }
  Node* node = out.node();
  if (node->backward_fn) {
    node->ints[0] = pack(m);
    node->ints[1] = take_sqrt;
    node->floats[0] = static_cast<float>(denom);
    node->saved = empty(k);
    for (size_t i = 0; i < mean.size(); ++i) node->saved.data()[i] = static_cast<float>(mean[i]);
  }
  return out;
}
}  // namespace

Tensor var(const Tensor& x, bool unbiased) { return variance(x, Dims{}, false, unbiased, false); }
Tensor var(const Tensor& x, Dims dims, bool keepdim, bool unbiased) {
  return variance(x, dims, keepdim, unbiased, false);
}
Tensor std(const Tensor& x, bool unbiased) { return variance(x, Dims{}, false, unbiased, true); }
Tensor std(const Tensor& x, Dims dims, bool keepdim, bool unbiased) {
  return variance(x, dims, keepdim, unbiased, true);
}

}  // namespace z2h
