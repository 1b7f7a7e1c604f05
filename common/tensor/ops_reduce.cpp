// common/tensor/ops_reduce.cpp — sum, mean, max, var, std over chosen dimensions (keepdim or not).
// sum and mean are float sums by kernels::sum_to (in an exact build PyTorch's, to the bit);
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
// The backward rules, each defined right below its op.
void max_backward(Node& o);
void variance_backward(Node& o);
}  // namespace


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
Shape result_shape(const Shape& s, const DimMask& m, bool keepdim) {
  Shape r;
  for (int i = 0; i < s.ndim(); ++i) {
    if (!m[static_cast<size_t>(i)]) r.push_back(s[i]);
    else if (keepdim) r.push_back(1);
  }
  return r;
}

}  // namespace


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

struct SumSaved {
  Shape kept;   // the result's shape with the reduced dims kept as 1
  float count;  // how many numbers each result sums
};

// Backward of sum/mean: dx += dout (stretched back over the reduced dims) * scale.
void stretch_backward(Node& o, float scale) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  const Shape& k = saved<SumSaved>(o).kept;
  float* dx = x.node()->grad_data();
  if (scale == 1.0f) {
    broadcast_add(o.grad.data(), k, dx, x.shape());
  } else {
    Tensor g = o.grad / scale;  // dout / n, as PyTorch's mean backward
    broadcast_add(g.data(), k, dx, x.shape());
  }
}

// sum: dx += dout;  mean: dx += dout / n
void sum_backward(Node& o) { stretch_backward(o, 1.0f); }
void mean_backward(Node& o) { stretch_backward(o, saved<SumSaved>(o).count); }

Tensor reduce_sum(const Tensor& x, const Dims& dims, bool keepdim, bool is_mean) {
  const char* op = is_mean ? "mean" : "sum";
  DimMask m = parse_dims(dims, x.ndim(), op);
  Shape k = keepdim_shape(x.shape(), m);
  BackwardFn fn = is_mean ? mean_backward : sum_backward;
  Tensor out = make_result(result_shape(x.shape(), m, keepdim), op, {x}, fn);
  const float count = static_cast<float>(k.numel() ? x.numel() / k.numel() : 0);
  save_for_backward(out, SumSaved{k, count});
  // The float sum (kernels::sum_to); mean is that sum divided by the count in float, as
  // ATen's mean_out computes it on the CPU (at::sum_out(...).div_(dim_prod)).
  float* y = out.data();
  kernels::sum_to(x.data(), x.shape(), y, k);
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
namespace {
struct MaxSaved {
  LongTensor where;  // per result: the flat position in x of the maximum
};
}  // namespace
Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  int d = wrap_dim(dim, x.ndim());
  DimMask m{};
  m[static_cast<size_t>(d)] = true;
  AroundDim a = around(x.shape(), d);
  if (a.n == 0) throw std::invalid_argument("max(): cannot reduce a dimension of size 0");
  Tensor out = make_result(result_shape(x.shape(), m, keepdim), "max", {x}, max_backward);
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
  save_for_backward(out, MaxSaved{std::move(where)});
  return out;
}
namespace {
void max_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  float* dx = x.node()->grad_data();
  const float* g = o.grad.data();
  const LongTensor& where = saved<MaxSaved>(o).where;
  for (int64_t k = 0; k < where.numel(); ++k) dx[where.data[static_cast<size_t>(k)]] += g[k];
}
}  // namespace

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
namespace {
struct VarianceSaved {
  Tensor mean;         // x.mean(dims, keepdim=True) in float, as mean() computes it
  float two_over_dof;  // float(2 / (n - 1)), or 2 / n when biased
  bool is_std;
};

Tensor variance(const Tensor& x, const Dims& dims, bool keepdim, bool unbiased, bool take_sqrt) {
  const char* op = take_sqrt ? "std" : "var";
  DimMask m = parse_dims(dims, x.ndim(), op);
  Shape k = keepdim_shape(x.shape(), m);
  Tensor out = make_result(result_shape(x.shape(), m, keepdim), op, {x}, variance_backward);
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
  if (out.node()->backward_fn) {
    Tensor mf = empty(k);
    kernels::sum_to(x.data(), x.shape(), mf.data(), k);
    for (int64_t i = 0; i < k.numel(); ++i) mf.data()[i] /= static_cast<float>(n);
    save_for_backward(out, VarianceSaved{mf, static_cast<float>(2.0 / denom), take_sqrt});
    save_for_backward(out, {x, out});
  }
  return out;
}

// Backward as PyTorch's var_backward rounds it (FunctionsManual.cpp):
//   var: dx += (float(2 / (n - 1)) * dout) * (x - mean)
//   std: dout becomes dout / (2 * std) (0 where std == 0) first, then the same.
void variance_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  const VarianceSaved& s = saved<VarianceSaved>(o);
  const Shape& k = s.mean.shape();
  Tensor f = empty(k);  // per output element: the factor that multiplies (x - mean)
  for (int64_t i = 0; i < k.numel(); ++i) {
    float g = o.grad.data()[i];
    if (s.is_std) g = o.data()[i] == 0.0f ? 0.0f : g / (o.data()[i] * 2.0f);
    f.data()[i] = s.two_over_dof * g;
  }
  const float *xv = x.data(), *mv = s.mean.data(), *fv = f.data();
  float* dx = x.node()->grad_data();
  for_each_row(make_broadcast(x.shape(), x.shape(), k),
               [&](int64_t r, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
                 for (int64_t j = 0; j < n; ++j) dx[r + j] += fv[ib + j * sb] * (xv[r + j] - mv[ib + j * sb]);
               });
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
