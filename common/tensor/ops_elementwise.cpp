// common/tensor/ops_elementwise.cpp — arithmetic with broadcasting, and element-wise functions.
// Each op: the forward, then right below it its backward rule. The numbers come from the kernels
// (kernels/kernels.hpp): an xtensor expression each, or PyTorch's own kernels in an exact build.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/rng/generator.hpp"
#include "common/tensor/ops_internal.hpp"
#include "common/tensor/parallel.hpp"

namespace z2h {
using namespace detail;

namespace {

// The backward rules, each defined right below its op.
void add_backward(Node& o);
void sub_backward(Node& o);
void mul_backward(Node& o);
void div_backward(Node& o);
void scale_backward(Node& o);
void neg_backward(Node& o);
void pow_backward(Node& o);
void sqrt_backward(Node& o);
void exp_backward(Node& o);
void log_backward(Node& o);
void tanh_backward(Node& o);
void relu_backward(Node& o);
void gelu_backward(Node& o);
void masked_fill_backward(Node& o);

// A large output is shared among the threads (parallel.hpp) along its first dimension, when each
// input either runs along that dimension with it or is the same for every index of it (fewer
// dimensions, or size 1 there): each element is one rounding of one operation, whichever thread
// computes it, so the bits do not depend on the cut.
Tensor binary(const Tensor& a, const Tensor& b, const char* op, BackwardFn fn, kernels::BinaryOp k) {
  Shape s = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out = make_result(s, op, {a, b}, fn);
  const int64_t n = s.numel();
  auto along = [&](const Shape& in) { return in.ndim() == s.ndim() && in[0] == s[0] && s[0] > 1; };
  auto fixed = [&](const Shape& in) { return in.ndim() < s.ndim() || in[0] == 1; };
  const bool split = n >= parallel::kMinElements && s.ndim() >= 1 && (along(a.shape()) || fixed(a.shape())) &&
                     (along(b.shape()) || fixed(b.shape()));
  if (!split) {
    kernels::binary(k, a.data(), a.shape(), b.data(), b.shape(), out.data(), s);
    return out;
  }
  // elements per index of the first dimension: of the output, and of each input that runs along it
  // (0 for one that does not: every share reads it whole)
  const int64_t row = n / s[0], row_a = along(a.shape()) ? a.numel() / s[0] : 0,
                row_b = along(b.shape()) ? b.numel() / s[0] : 0;
  parallel::for_shares(s[0], 0, 1, [&](long r0, long r1) {
    Shape ps = s, as = a.shape(), bs = b.shape();
    ps[0] = r1 - r0;
    if (row_a) as[0] = r1 - r0;
    if (row_b) bs[0] = r1 - r0;
    kernels::binary(k, a.data() + r0 * row_a, as, b.data() + r0 * row_b, bs, out.data() + r0 * row, ps);
  });
  return out;
}

// d(input) += sign · t, summed back to the input's shape (t has the output's shape ts).
void accumulate(const Tensor& input, const float* t, const Shape& ts, float sign = 1.0f) {
  if (!input.requires_grad()) return;
  if (input.shape() == ts) {
    bool first;
    float* g = input.node()->grad_data(&first);
    parallel::for_shares(ts.numel(), parallel::kMinElements, 16, [&](long i0, long i1) {
      if (first && sign == 1.0f) std::copy(t + i0, t + i1, g + i0);
      else if (first) for (long i = i0; i < i1; ++i) g[i] = -t[i];
      else if (sign == 1.0f) for (long i = i0; i < i1; ++i) g[i] += t[i];
      else for (long i = i0; i < i1; ++i) g[i] -= t[i];
    });
    return;
  }
  float* g = input.node()->grad_data();
  if (sign == 1.0f) {
    sum_to_add(t, ts, g, input.shape());
  } else {
    Tensor neg = empty(ts);
    float* nd = neg.data();
    const int64_t n = ts.numel();
    for (int64_t i = 0; i < n; ++i) nd[i] = -t[i];
    sum_to_add(nd, ts, g, input.shape());
  }
}

// An input's gradient buffer as a kernel's target (nothing if it needs no gradient).
kernels::GradTarget grad_target(const Tensor& t) {
  kernels::GradTarget g;
  if (!t.requires_grad()) return g;
  g.data = t.node()->grad_data(&g.first);
  g.shape = t.shape();
  return g;
}

// out = value where mask != 0, else x; mask broadcasts to shape s (x's).
void select_where(const Tensor& mask, const float* x, float value, float* out, const Shape& s) {
  const float* m = mask.data();
  for_each_row(make_broadcast(s, s, mask.shape()), [&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
    for (int64_t j = 0; j < n; ++j) out[o + j] = m[ib + j * sb] != 0.0f ? value : x[o + j];
  });
}

}  // namespace

// ---- a + b ---------------------------------------------------------------------------------
// a, b: broadcastable -> out: broadcast shape
Tensor operator+(const Tensor& a, const Tensor& b) { return binary(a, b, "add", add_backward, kernels::BinaryOp::add); }
namespace {
// da += dout, db += dout (each summed to its shape); x + s, x - s: dx += dout
void add_backward(Node& o) {
  for (const Tensor& in : o.inputs) accumulate(in, o.grad.data(), o.shape);
}
}  // namespace

// ---- a - b ---------------------------------------------------------------------------------
Tensor operator-(const Tensor& a, const Tensor& b) { return binary(a, b, "sub", sub_backward, kernels::BinaryOp::sub); }
namespace {
// da += dout, db -= dout
void sub_backward(Node& o) {
  accumulate(o.inputs[0], o.grad.data(), o.shape);
  accumulate(o.inputs[1], o.grad.data(), o.shape, -1.0f);
}
}  // namespace

// ---- a * b ---------------------------------------------------------------------------------
Tensor operator*(const Tensor& a, const Tensor& b) {
  Tensor out = binary(a, b, "mul", mul_backward, kernels::BinaryOp::mul);
  save_for_backward(out, {a, b});
  return out;
}
namespace {
// da += dout * b, db += dout * a (each summed to its shape)
void mul_backward(Node& o) {
  const Tensor &a = o.inputs[0], &b = o.inputs[1];
  // a's target first: for a * a both are one buffer, and only the first write may assign.
  const kernels::GradTarget da = grad_target(a), db = grad_target(b);
  kernels::mul_backward(o.grad.data(), o.shape, a.data(), a.shape(), b.data(), b.shape(), da, db);
}
}  // namespace

// ---- a / b ---------------------------------------------------------------------------------
Tensor operator/(const Tensor& a, const Tensor& b) {
  Tensor out = binary(a, b, "div", div_backward, kernels::BinaryOp::div);
  save_for_backward(out, {a, b, out});
  return out;
}
namespace {
// da += dout / b, db += -dout * a / b²  (each summed to its shape)
void div_backward(Node& o) {
  const Tensor &a = o.inputs[0], &b = o.inputs[1];
  const kernels::GradTarget da = grad_target(a), db = grad_target(b);  // in this order (see mul)
  kernels::div_backward(o.grad.data(), o.data(), o.shape, a.data(), a.shape(), b.data(), b.shape(), da, db);
}
}  // namespace

// ---- with a number ---------------------------------------------------------------------------
// x + s, x - s: dx += dout
Tensor operator+(const Tensor& a, float s) {
  Tensor out = make_result(a.shape(), "add", {a}, add_backward);
  xt::noalias(flat(out)) = flat(a) + s;
  return out;
}
Tensor operator+(float s, const Tensor& a) { return a + s; }
Tensor operator-(const Tensor& a, float s) {
  Tensor out = make_result(a.shape(), "sub", {a}, add_backward);
  xt::noalias(flat(out)) = flat(a) - s;
  return out;
}
Tensor operator-(float s, const Tensor& a) { return -a + s; }

// x * s, x / s
namespace {
struct ScaleSaved {
  float s;
  bool divide;  // x / s (else x * s)
};
}  // namespace
Tensor operator*(const Tensor& a, float s) {
  Tensor out = make_result(a.shape(), "mul", {a}, scale_backward);
  save_for_backward(out, ScaleSaved{s, false});
  xt::noalias(flat(out)) = flat(a) * s;
  return out;
}
Tensor operator*(float s, const Tensor& a) { return a * s; }
Tensor operator/(const Tensor& a, float s) {
  Tensor out = make_result(a.shape(), "div", {a}, scale_backward);
  save_for_backward(out, ScaleSaved{s, true});
  xt::noalias(flat(out)) = flat(a) / s;
  return out;
}
// s / x = s * x**-1 (micrograd's derivation)
Tensor operator/(float s, const Tensor& a) { return pow(a, -1.0f) * s; }
namespace {
// x * s: dx += dout * s;   x / s: dx += dout / s
void scale_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  auto dx = flat(x.node()->grad_data(), x.numel());
  const ScaleSaved& k = saved<ScaleSaved>(o);
  if (k.divide) xt::noalias(dx) += flat(o.grad) / k.s;
  else xt::noalias(dx) += flat(o.grad) * k.s;
}
}  // namespace

// ---- -x ------------------------------------------------------------------------------------
Tensor operator-(const Tensor& a) {
  Tensor out = make_result(a.shape(), "neg", {a}, neg_backward);
  xt::noalias(flat(out)) = -flat(a);
  return out;
}
namespace {
// dx -= dout
void neg_backward(Node& o) { accumulate(o.inputs[0], o.grad.data(), o.shape, -1.0f); }
}  // namespace

// ---- x ** p --------------------------------------------------------------------------------
namespace {
struct PowSaved {
  float p;
};
}  // namespace
Tensor pow(const Tensor& x, float p) {
  Tensor out = make_result(x.shape(), "pow", {x}, pow_backward);
  save_for_backward(out, PowSaved{p});
  save_for_backward(out, {x});
  kernels::pow(x.data(), p, out.data(), x.numel());
  return out;
}
namespace {
// dx += dout * p * x**(p-1)   (x**0 = 1: no gradient, as PyTorch's pow_backward gives zeros)
void pow_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  const float p = saved<PowSaved>(o).p;
  if (!x.requires_grad() || p == 0.0f) return;
  float* dx = x.node()->grad_data();
  const float* g = o.grad.data();
  const int64_t n = x.numel();
  std::vector<float> xp(static_cast<size_t>(n));  // x ** (p - 1)
  kernels::pow(x.data(), p - 1.0f, xp.data(), n);
  for (int64_t i = 0; i < n; ++i) dx[i] += g[i] * (p * xp[static_cast<size_t>(i)]);
}
}  // namespace

// ---- sqrt(x) -------------------------------------------------------------------------------
Tensor sqrt(const Tensor& x) {
  Tensor out = make_result(x.shape(), "sqrt", {x}, sqrt_backward);
  xt::noalias(flat(out)) = xt::sqrt(flat(x));
  save_for_backward(out, {out});
  return out;
}
namespace {
// dx += dout / (2 * out)
void sqrt_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  auto y = flat(o.data(), x.numel());
  xt::noalias(flat(x.node()->grad_data(), x.numel())) += flat(o.grad) / (2.0f * y);
}
}  // namespace

// ---- exp(x) --------------------------------------------------------------------------------
Tensor exp(const Tensor& x) {
  Tensor out = make_result(x.shape(), "exp", {x}, exp_backward);
  kernels::exp(x.data(), out.data(), x.numel());
  save_for_backward(out, {out});
  return out;
}
namespace {
// dx += dout * out
void exp_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  bool first;  // the first contribution is written, not added to a zero-filled buffer
  float* dx = x.node()->grad_data(&first);
  const float *g = o.grad.data(), *y = o.data();
  const int64_t n = x.numel();
  if (first) for (int64_t i = 0; i < n; ++i) dx[i] = g[i] * y[i];
  else for (int64_t i = 0; i < n; ++i) dx[i] += g[i] * y[i];
}
}  // namespace

// ---- log(x) --------------------------------------------------------------------------------
Tensor log(const Tensor& x) {
  Tensor out = make_result(x.shape(), "log", {x}, log_backward);
  kernels::log(x.data(), out.data(), x.numel());
  save_for_backward(out, {x});
  return out;
}
namespace {
// dx += dout / x
void log_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  bool first;
  float* dx = x.node()->grad_data(&first);
  const float *g = o.grad.data(), *xv = x.data();
  const int64_t n = x.numel();
  if (first) for (int64_t i = 0; i < n; ++i) dx[i] = g[i] / xv[i];
  else for (int64_t i = 0; i < n; ++i) dx[i] += g[i] / xv[i];
}
}  // namespace

// ---- tanh(x) -------------------------------------------------------------------------------
Tensor tanh(const Tensor& x) {
  Tensor out = make_result(x.shape(), "tanh", {x}, tanh_backward);
  kernels::tanh(x.data(), out.data(), x.numel());
  save_for_backward(out, {out});
  return out;
}
namespace {
// dx += dout * (1 - out²)            (lecture 1: "1 - t**2")
void tanh_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  bool first;
  float* dx = x.node()->grad_data(&first);
  kernels::tanh_backward(o.grad.data(), o.data(), dx, x.numel(), first);
}
}  // namespace

// ---- relu(x) -------------------------------------------------------------------------------
// dx += dout where out > 0
//
// A large output (2^22 elements and more: gpt.py's (64, 256, 1536) hidden layer, 100 MB) whose
// positive part is at most 7/8 of it is kept compressed for backward: which elements are positive,
// one bit each, and the positive values in order. The next op (the Linear after it) then keeps a
// recipe (Node::recompute, autograd.hpp), its backward unpacks the same numbers, and this rule reads
// the bits. About half of a ReLU's outputs are zero, so that is about half the memory.
namespace {
constexpr int64_t kCompressReluFrom = int64_t{1} << 22;
struct ReluSaved {
  std::vector<uint64_t> positive;  // bit i of word i / 64: out[i] > 0
  std::vector<float> values;       // the positive outputs, in order
};
void relu_unpack(Node& o) {
  const ReluSaved& s = saved<ReluSaved>(o);
  o.allocate_numbers();
  float* y = o.storage->data;
  const float* v = s.values.data();
  for (int64_t i = 0, n = o.shape.numel(); i < n; ++i)
    y[i] = bit_at(s.positive.data(), i) ? *v++ : 0.0f;
}
}  // namespace

Tensor relu(const Tensor& x) {
  Tensor out = make_result(x.shape(), "relu", {x}, relu_backward);
  const float* xv = x.data();
  float* y = out.data();
  const int64_t n = x.numel();
  parallel::for_shares(n, parallel::kMinElements, 16, [&](long i0, long i1) {
    for (long i = i0; i < i1; ++i) y[i] = xv[i] > 0.0f ? xv[i] : 0.0f;
  });
  const int64_t positive = out.node()->backward_fn && n >= kCompressReluFrom ? std::count_if(y, y + n, [](float v) { return v > 0.0f; }) : n;
  if (positive <= n / 8 * 7) {
    ReluSaved s{std::vector<uint64_t>(static_cast<size_t>((n + 63) / 64), 0), {}};
    s.values.reserve(static_cast<size_t>(positive));
    for (int64_t i = 0; i < n; ++i)
      if (y[i] > 0.0f) {
        s.positive[static_cast<size_t>(i >> 6)] |= uint64_t{1} << (i & 63);
        s.values.push_back(y[i]);
      }
    save_for_backward(out, std::move(s));
    out.node()->recompute = relu_unpack;
  } else {
    save_for_backward(out, {out});
  }
  return out;
}
namespace {
void relu_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  const int64_t n = x.numel();
  const ReluSaved* packed = o.recompute ? &saved<ReluSaved>(o) : nullptr;
  const float* y = packed ? nullptr : o.data();
  auto kept = [&](int64_t i) {  // out[i] > 0
    return packed ? bit_at(packed->positive.data(), i) : y[i] > 0.0f;
  };
  if (!x.node()->grad.defined() && !o.retains_grad) {
    // The first contribution to dx: computed in dout's buffer, which then becomes dx's (dout is
    // freed after this rule anyway) — one buffer of the input's size instead of two. The same
    // float sums as adding into zeros.
    float* g = o.grad.data();
    parallel::for_shares(n, parallel::kMinElements, 16, [&](long i0, long i1) {
      for (long i = i0; i < i1; ++i) g[i] = 0.0f + (kept(i) ? g[i] : 0.0f);
    });
    x.node()->grad = std::move(o.grad);
    return;
  }
  float* dx = x.node()->grad_data();
  const float* g = o.grad.data();
  parallel::for_shares(n, parallel::kMinElements, 16, [&](long i0, long i1) {
    for (long i = i0; i < i1; ++i) dx[i] += kept(i) ? g[i] : 0.0f;
  });
}
}  // namespace

// ---- gelu(x) = x * Φ(x), Φ the standard normal CDF ------------------------------------------
// The exact (erf) form, torch.nn.GELU()'s default.
constexpr float kInvSqrt2 = 0.70710678118654752440f;
Tensor gelu(const Tensor& x) {
  Tensor out = make_result(x.shape(), "gelu", {x}, gelu_backward);
  const float* xv = x.data();
  float* y = out.data();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) y[i] = xv[i] * 0.5f * (1.0f + std::erf(xv[i] * kInvSqrt2));
  save_for_backward(out, {x});
  return out;
}
namespace {
// dx += dout * (Φ(x) + x * φ(x)),  φ(x) = exp(-x²/2) / √(2π)
void gelu_backward(Node& o) {
  const Tensor& x = o.inputs[0];
  if (!x.requires_grad()) return;
  constexpr float kInvSqrt2Pi = 0.39894228040143267794f;
  float* dx = x.node()->grad_data();
  const float *g = o.grad.data(), *xv = x.data();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) {
    float cdf = 0.5f * (1.0f + std::erf(xv[i] * kInvSqrt2));
    float pdf = std::exp(-0.5f * xv[i] * xv[i]) * kInvSqrt2Pi;
    dx[i] += g[i] * (cdf + xv[i] * pdf);
  }
}
}  // namespace

// ---- masked_fill(x, mask, value) -------------------------------------------------------------
// x: any shape, mask: broadcastable to x -> out: x's shape.   dx += dout where mask == 0
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
  Shape s = broadcast_shapes(x.shape(), mask.shape(), "masked_fill");
  if (s != x.shape())
    throw std::invalid_argument("masked_fill: mask of shape " + mask.shape().str() +
                                " does not broadcast to the input's shape " + x.shape().str());
  const Tensor m = mask.detach();
  Tensor out = make_result(s, "masked_fill", {x, m}, masked_fill_backward);
  select_where(mask, x.data(), value, out.data(), s);
  save_for_backward(out, {m});
  return out;
}
namespace {
void masked_fill_backward(Node& o) {
  const Tensor &x = o.inputs[0], &m = o.inputs[1];
  if (!x.requires_grad()) return;
  Tensor t = empty(o.shape);
  select_where(m, o.grad.data(), 0.0f, t.data(), o.shape);
  accumulate(x, t.data(), o.shape);
}
}  // namespace

// eq: a 0/1 mask, outside the graph (comparisons have no gradient).
Tensor eq(const Tensor& x, float value) {
  Tensor out = empty(x.shape());
  const float* xv = x.data();
  float* y = out.data();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) y[i] = xv[i] == value ? 1.0f : 0.0f;
  return out;
}

}  // namespace z2h
