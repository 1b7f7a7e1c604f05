// common/tensor/ops_shape.cpp — moving numbers around: transpose/permute, slicing, cat, integer indexing.
// All of these return contiguous copies (only Tensor::view shares storage); their backward rules
// move the gradient back to where each number came from, adding where a number was used twice.
#include <algorithm>

#include "common/tensor/ops_internal.hpp"

namespace z2h {
using namespace detail;

namespace {
// The backward rules, each defined right below its op.
void permute_backward(Node& o);
void slice_backward(Node& o);
void cat_backward(Node& o);
void index_backward(Node& o);
void gather_backward(Node& o);
void tril_backward(Node& o);
}  // namespace


namespace {

// Walks the output of a permutation in row-major order; calls f(out_pos, in_pos) per element.
template <class F>
void permute_walk(const Shape& in, const std::array<int, Shape::kMaxDims>& perm, F f) {
  const int nd = in.ndim();
  std::array<int64_t, Shape::kMaxDims> in_stride{}, size{}, stride{}, idx{};
  int64_t acc = 1;
  for (int i = nd - 1; i >= 0; --i) {
    in_stride[static_cast<size_t>(i)] = acc;
    acc *= in[i];
  }
  for (int i = 0; i < nd; ++i) {
    size[static_cast<size_t>(i)] = in[perm[static_cast<size_t>(i)]];
    stride[static_cast<size_t>(i)] = in_stride[static_cast<size_t>(perm[static_cast<size_t>(i)])];
  }
  const int64_t total = in.numel();
  if (total == 0) return;
  if (nd == 0) {
    f(0, 0);
    return;
  }
  const size_t last = static_cast<size_t>(nd - 1);
  const int64_t n = size[last], s = stride[last];
  int64_t in_pos = 0;
  for (int64_t out = 0; out < total; out += n) {
    for (int64_t j = 0; j < n; ++j) f(out + j, in_pos + j * s);
    for (int d = nd - 2; d >= 0; --d) {
      size_t u = static_cast<size_t>(d);
      in_pos += stride[u];
      if (++idx[u] < size[u]) break;
      in_pos -= stride[u] * size[u];
      idx[u] = 0;
    }
  }
}

}  // namespace

// ---- permute / transpose ---------------------------------------------------------------------
// x: (d0, d1, ..., dk) -> (d_perm[0], d_perm[1], ...).   dx[in_pos] += dout[out_pos]
namespace {
using Perm = std::array<int, Shape::kMaxDims>;
struct PermuteSaved {
  Perm perm;  // result dim i is x's dim perm[i]
};
}  // namespace
Tensor permute(const Tensor& x, Dims dims) {
  const int nd = x.ndim();
  if (dims.ndim() != nd)
    throw std::invalid_argument("permute(): " + std::to_string(dims.ndim()) + " dims given for a " +
                                std::to_string(nd) + "-D tensor");
  Perm perm{};
  std::array<bool, Shape::kMaxDims> seen{};
  Shape s;
  for (int i = 0; i < nd; ++i) {
    int d = wrap_dim(dims[i], nd);
    if (seen[static_cast<size_t>(d)]) throw std::invalid_argument("permute(): repeated dim in " + dims.str());
    seen[static_cast<size_t>(d)] = true;
    perm[static_cast<size_t>(i)] = d;
    s.push_back(x.shape()[d]);
  }
  Tensor out = make_result(s, "permute", {x}, permute_backward);
  save_for_backward(out, PermuteSaved{perm});
  const float* xv = x.data();
  float* y = out.data();
  permute_walk(x.shape(), perm, [&](int64_t op, int64_t ip) { y[op] = xv[ip]; });
  return out;
}
namespace {
void permute_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  const Perm& perm = saved<PermuteSaved>(o).perm;
  float* dx = x.node()->grad_data();
  const float* g = o.grad.data();
  permute_walk(x.shape(), perm, [&](int64_t op, int64_t ip) { dx[ip] += g[op]; });
}
}  // namespace

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  Dims dims;
  for (int i = 0; i < x.ndim(); ++i) dims.push_back(i);
  int a = wrap_dim(dim0, x.ndim()), b = wrap_dim(dim1, x.ndim());
  std::swap(dims[a], dims[b]);
  return permute(x, dims);
}

// ---- slice / select --------------------------------------------------------------------------
// x: (outer, n, inner) around dim -> (outer, end-start, inner).   dx[start:end] += dout
// start/end may be negative (counted from the end) and are clamped like Python's slices.
namespace {
struct SliceSaved {
  int dim;
  int64_t start, end;
};
}  // namespace
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end) {
  int d = wrap_dim(dim, x.ndim());
  int64_t n = x.shape()[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape s = x.shape();
  s[d] = end - start;
  Tensor out = make_result(s, "slice", {x}, slice_backward);
  save_for_backward(out, SliceSaved{d, start, end});
  AroundDim a = around(x.shape(), d);
  for (int64_t i = 0; i < a.outer; ++i)
    std::copy_n(x.data() + (i * a.n + start) * a.inner, (end - start) * a.inner,
                out.data() + i * (end - start) * a.inner);
  return out;
}
namespace {
void slice_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  const SliceSaved& s = saved<SliceSaved>(o);
  AroundDim a = around(x.shape(), s.dim);
  const int64_t start = s.start, len = s.end - s.start;
  float* dx = x.node()->grad_data();
  const float* g = o.grad.data();
  for (int64_t i = 0; i < a.outer; ++i) {
    float* dst = dx + (i * a.n + start) * a.inner;
    const float* src = g + i * len * a.inner;
    for (int64_t j = 0; j < len * a.inner; ++j) dst[j] += src[j];
  }
}
}  // namespace

// x[:, index]: a slice of length 1, then the dimension dropped (a view).
Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  int d = wrap_dim(dim, x.ndim());
  int64_t n = x.shape()[d];
  if (index < -n || index >= n)
    throw std::out_of_range("select(): index " + std::to_string(index) + " is out of range for size " +
                            std::to_string(n));
  if (index < 0) index += n;
  Shape s;
  for (int i = 0; i < x.ndim(); ++i)
    if (i != d) s.push_back(x.shape()[i]);
  return slice(x, d, index, index + 1).view(s);
}

Tensor Tensor::operator[](int64_t i) const { return select(*this, 0, i); }

// ---- cat -----------------------------------------------------------------------------------
// xs[k]: (outer, n_k, inner) -> (outer, Σ n_k, inner).   dx_k += its own block of dout
namespace {
struct CatSaved {
  int dim;
};
}  // namespace
Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) throw std::invalid_argument("cat(): expected a non-empty list of tensors");
  int d = wrap_dim(dim, xs[0].ndim());
  Shape s = xs[0].shape();
  s[d] = 0;
  for (const Tensor& x : xs) {
    Shape a = x.shape(), b = xs[0].shape();
    if (a.ndim() != b.ndim())
      throw std::invalid_argument("cat(): tensors of shapes " + a.str() + " and " + b.str() + " have different ranks");
    a[d] = b[d] = 0;
    if (a != b)
      throw std::invalid_argument("cat(): shapes " + x.shape().str() + " and " + xs[0].shape().str() +
                                  " differ outside dimension " + std::to_string(d));
    s[d] += x.shape()[d];
  }
  Tensor out = make_result(s, "cat", xs, cat_backward);
  save_for_backward(out, CatSaved{d});
  AroundDim a = around(s, d);
  int64_t offset = 0;
  for (const Tensor& x : xs) {
    const int64_t len = x.shape()[d];
    for (int64_t i = 0; i < a.outer; ++i)
      std::copy_n(x.data() + i * len * a.inner, len * a.inner, out.data() + (i * a.n + offset) * a.inner);
    offset += len;
  }
  return out;
}
namespace {
void cat_backward(Node& o) {
  const int d = saved<CatSaved>(o).dim;
  AroundDim a = around(o.shape, d);
  int64_t offset = 0;  // where this input's block starts along dim d
  for (const Tensor& x : o.inputs) {
    const int64_t len = x.shape()[d];
    if (x.requires_grad()) {
      float* dx = x.node()->grad_data();
      for (int64_t i = 0; i < a.outer; ++i) {
        const float* src = o.grad.data() + (i * a.n + offset) * a.inner;
        float* dst = dx + i * len * a.inner;
        for (int64_t j = 0; j < len * a.inner; ++j) dst[j] += src[j];
      }
    }
    offset += len;
  }
}
}  // namespace

// ---- integer indexing: C[X] -------------------------------------------------------------------
// weight: (V, ...rest), idx: any shape of ints in [0, V) -> idx.shape + rest.
// Backward scatter-adds: dweight[idx[k]] += dout[k] — a row used twice gets both contributions.
namespace {
struct IndexSaved {
  LongTensor index;  // embedding: the rows taken; gather: the columns taken
};
}  // namespace
Tensor embedding(const Tensor& weight, const LongTensor& idx) {
  if (weight.ndim() < 1) throw std::invalid_argument("indexing a 0-D tensor");
  const int64_t V = weight.shape()[0];
  const int64_t row = V ? weight.numel() / V : 0;
  Shape s = idx.shape;
  for (int i = 1; i < weight.ndim(); ++i) s.push_back(weight.shape()[i]);
  for (int64_t v : idx.data)
    if (v < 0 || v >= V)
      throw std::out_of_range("index " + std::to_string(v) + " is out of bounds for dimension 0 with size " +
                              std::to_string(V));
  Tensor out = make_result(s, "index", {weight}, index_backward);
  save_for_backward(out, IndexSaved{idx});
  const float* w = weight.data();
  float* y = out.data();
  for (size_t k = 0; k < idx.data.size(); ++k)
    std::copy_n(w + idx.data[k] * row, row, y + static_cast<int64_t>(k) * row);
  return out;
}
namespace {
void index_backward(Node& o) {
  const Tensor& w = o.inputs[0];
  if (!w.requires_grad()) return;
  const int64_t row = w.shape()[0] ? w.numel() / w.shape()[0] : 0;
  float* dw = w.node()->grad_data();
  const float* g = o.grad.data();
  const std::vector<int64_t>& idx = saved<IndexSaved>(o).index.data;
  for (size_t k = 0; k < idx.size(); ++k) {
    float* dst = dw + idx[k] * row;
    const float* src = g + static_cast<int64_t>(k) * row;
    for (int64_t j = 0; j < row; ++j) dst[j] += src[j];
  }
}
}  // namespace

Tensor Tensor::operator[](const LongTensor& idx) const { return embedding(*this, idx); }

// ---- gather along the last dimension -------------------------------------------------------------
// x: (..., C), index: (..., K) -> (..., K), out[r, k] = x[r, index[r, k]].   dx[r, index[r,k]] += dout[r,k]
Tensor gather(const Tensor& x, const LongTensor& index) {
  const int nd = x.ndim();
  if (nd < 1 || index.ndim() != nd)
    throw std::invalid_argument("gather(): index must have the same number of dims as the input");
  for (int i = 0; i + 1 < nd; ++i)
    if (index.shape[i] != x.shape()[i])
      throw std::invalid_argument("gather(): index shape " + index.shape.str() + " does not match input " +
                                  x.shape().str() + " outside the last dimension");
  const int64_t C = x.shape()[nd - 1], K = index.shape[nd - 1];
  for (int64_t v : index.data)
    if (v < 0 || v >= C) throw std::out_of_range("gather(): index " + std::to_string(v) + " out of range");
  Tensor out = make_result(index.shape, "gather", {x}, gather_backward);
  save_for_backward(out, IndexSaved{index});
  const int64_t rows = K ? index.numel() / K : 0;
  const float* xv = x.data();
  const int64_t* idx = index.data.data();
  float* y = out.data();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < K; ++k) y[r * K + k] = xv[r * C + idx[r * K + k]];
  return out;
}
namespace {
void gather_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  const int64_t C = x.shape()[x.ndim() - 1], K = o.shape[o.shape.ndim() - 1];
  const int64_t rows = K ? o.shape.numel() / K : 0;
  const int64_t* idx = saved<IndexSaved>(o).index.data.data();
  const float* g = o.grad.data();
  bool first;
  float* dx = x.node()->grad_data(&first);
  // The gradient is mostly zeros (probs[arange(n), ys] has one nonzero per row). On the first
  // contribution a block of rows is zeroed and scattered into while it is in L1: one pass over
  // dx instead of a zero-fill of the whole buffer followed by a second, scattered pass.
  constexpr int64_t kBlock = 256;  // rows
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
    const int64_t r1 = std::min(rows, r0 + kBlock);
    if (first) std::fill(dx + r0 * C, dx + r1 * C, 0.0f);
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t k = 0; k < K; ++k) dx[r * C + idx[r * K + k]] += g[r * K + k];
  }
}
}  // namespace

// ---- one_hot ---------------------------------------------------------------------------------
// idx: any shape -> idx.shape + (num_classes), 1.0 at each index (F.one_hot(...).float()).
Tensor one_hot(const LongTensor& idx, int64_t num_classes) {
  Shape s = idx.shape;
  s.push_back(num_classes);
  for (int64_t v : idx.data)
    if (v < 0 || v >= num_classes)
      throw std::out_of_range("one_hot(): class " + std::to_string(v) + " is not in [0, " +
                              std::to_string(num_classes) + ")");
  Tensor out = empty(s);
  // A block of rows at a time — zeros, then the ones, while the block is in L1 — so the
  // (n, num_classes) result is written in one pass over memory.
  constexpr int64_t kBlock = 256;  // rows
  float* y = out.data();
  const int64_t n = idx.numel();
  for (int64_t r0 = 0; r0 < n; r0 += kBlock) {
    const int64_t r1 = std::min(n, r0 + kBlock);
    std::fill(y + r0 * num_classes, y + r1 * num_classes, 0.0f);
    for (int64_t r = r0; r < r1; ++r) y[r * num_classes + idx.data[static_cast<size_t>(r)]] = 1.0f;
  }
  return out;
}

// ---- tril ------------------------------------------------------------------------------------
// x: (..., R, C) -> same, zero where column > row.   dx += dout where column <= row
Tensor tril(const Tensor& x) {
  if (x.ndim() < 2) throw std::invalid_argument("tril(): the input must have at least 2 dimensions");
  auto keep = [](const Shape& s, int64_t i) {
    const int64_t C = s[s.ndim() - 1], R = s[s.ndim() - 2];
    return (i % C) <= (i / C) % R;
  };
  Tensor out = make_result(x.shape(), "tril", {x}, tril_backward);
  for (int64_t i = 0; i < x.numel(); ++i) out.data()[i] = keep(x.shape(), i) ? x.data()[i] : 0.0f;
  return out;
}
namespace {
void tril_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  const int64_t C = o.shape[o.shape.ndim() - 1], R = o.shape[o.shape.ndim() - 2];
  float* dx = x.node()->grad_data();
  for (int64_t i = 0; i < o.shape.numel(); ++i)
    if ((i % C) <= (i / C) % R) dx[i] += o.grad.data()[i];
}
}  // namespace

}  // namespace z2h
