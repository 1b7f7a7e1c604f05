// common/tensor/ops_elementwise.cpp — arithmetic with broadcasting, and element-wise functions.
// Each op: the forward, then its backward rule (a captureless lambda, so a plain function pointer).
// g++ 12 reports xsimd's AVX-512 exp/tanh as -Wuninitialized in sanitizer builds (the
// _mm512_undefined_* idiom of its own <avx512fintrin.h>): a false positive, silenced for this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <algorithm>
#include <cmath>

#include "common/tensor/ops_internal.hpp"
#include "common/tensor/kernels/exact/vec_math.hpp"

namespace z2h {
using namespace detail;

namespace {

// out = f(a, b) over the broadcast of a and b (`out` already has the broadcast shape).
template <class F>
void binary_kernel(const float* a, const Shape& as, const float* b, const Shape& bs, float* out,
                   const Shape& os, F f) {
  Broadcast p = make_broadcast(os, as, bs);
  for_each_row(p, [&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
    float* y = out + o;
    const float* x = a + ia;
    const float* z = b + ib;
    if (sa && sb) {
      for (int64_t j = 0; j < n; ++j) y[j] = f(x[j], z[j]);
    } else if (sa) {
      const float zv = z[0];
      for (int64_t j = 0; j < n; ++j) y[j] = f(x[j], zv);
    } else if (sb) {
      const float xv = x[0];
      for (int64_t j = 0; j < n; ++j) y[j] = f(xv, z[j]);
    } else {
      const float v = f(x[0], z[0]);
      for (int64_t j = 0; j < n; ++j) y[j] = v;
    }
  });
}

template <class F>
Tensor binary(const Tensor& a, const Tensor& b, const char* op, BackwardFn fn, F f) {
  Shape s = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out = make_result(s, op, {a, b}, fn);
  binary_kernel(a.data(), a.shape(), b.data(), b.shape(), out.data(), s, f);
  return out;
}

// d(input) += t summed back to the input's shape (t has the output's shape).
void accumulate(const Tensor& input, const float* t, const Shape& ts, float sign = 1.0f) {
  if (!input.requires_grad()) return;
  if (input.shape() == ts) {
    bool first;
    float* g = input.node()->grad_data(&first);
    const int64_t n = ts.numel();
    if (first && sign == 1.0f) std::copy_n(t, n, g);
    else if (first) for (int64_t i = 0; i < n; ++i) g[i] = -t[i];
    else if (sign == 1.0f) for (int64_t i = 0; i < n; ++i) g[i] += t[i];
    else for (int64_t i = 0; i < n; ++i) g[i] -= t[i];
    return;
  }
  float* g = input.node()->grad_data();
  if (sign == 1.0f) {
    sum_to_add(t, ts, g, input.shape());
  } else {
    Tensor neg = empty(ts);
    for (int64_t i = 0; i < ts.numel(); ++i) neg.data()[i] = -t[i];
    sum_to_add(neg.data(), ts, g, input.shape());
  }
}

// ---- fused backward of a broadcasting binary op (mul, div) ----------------------------------
// Both input gradients come out of one walk over dout, row by row (in chunks of kChunk that stay
// in L1), with no out-shaped temporaries in the common cases. `GradOut` is one input's side:
//   direct — the input has the output's shape: each chunk is written (first contribution: no
//            zero-fill) or added straight into its grad;
//   rows   — the input is the output with its last dim 1, the (n, 1) divisor of a softmax:
//            each row's contribution is summed as it is made with torch_sum_row (PyTorch's
//            order, as sum_to_add would), then added — the same bits as the unfused rule, one pass;
//   other broadcasts (a bias row, …) gather the contribution in an out-shaped buffer and reduce
//            it with sum_to_add.
constexpr int64_t kChunk = 256;

struct GradOut {
  enum Mode { none, direct, rows, temp } mode = none;
  float* d = nullptr;  // the input's grad buffer
  bool first = false;  // direct: d is uninitialised, so assign instead of add
  Tensor tmp;          // temp: the out-shaped contribution
  Shape in_shape, out_shape;

  GradOut(const Tensor& in, const Shape& os) : in_shape(in.shape()), out_shape(os) {
    if (!in.requires_grad()) return;
    const Shape& is = in.shape();
    const int nd = os.ndim();
    bool last_reduced = nd >= 1 && is.ndim() == nd && is[nd - 1] == 1 && os[nd - 1] > 1 && os[nd - 1] <= kChunk;
    for (int i = 0; last_reduced && i + 1 < nd; ++i) last_reduced = is[i] == os[i];
    if (is == os && os.numel() > 1) {
      mode = direct;
      d = in.node()->grad_data(&first);
    } else if (last_reduced) {
      mode = rows;
      d = in.node()->grad_data();
    } else {
      mode = temp;
      tmp = empty(os);
      d = in.node()->grad_data();
    }
  }
  // Where the chunk of the contribution for output elements [off, off + m) is to be written:
  // straight into place (the grad, the out-shaped buffer) where it can be, else the scratch t.
  float* target(int64_t off, float* t) {
    if (mode == direct && first) return d + off;
    if (mode == temp) return tmp.data() + off;
    return t;
  }
  // After the chunk is written (t: what target returned): adds it in, or (rows: the chunk is one
  // whole row, m <= kChunk, for element in_off of the input) adds the row's sum.
  void take(const float* t, int64_t m, int64_t off, int64_t in_off) {
    if (mode == direct && !first) {
      for (int64_t j = 0; j < m; ++j) d[off + j] += t[j];
    } else if (mode == rows) {
      d[in_off] += torch_sum_row(t, m);
    }
  }
  void finish() {
    if (mode == temp) sum_to_add(tmp.data(), out_shape, d, in_shape);
  }
};

// Walks out's rows as the forward did; chunk(g, x, z, y, m, sa, sb, ta, tb) fills the chunk's
// contributions ta (to a) and tb (to b; either may be null: not needed) from dout g, the inputs'
// values x, z (x[0] / z[0] when the input is constant over the row: sa / sb == 0) and the output y.
template <class Chunk>
void binary_backward(Node& o, Chunk chunk) {
  const Tensor &a = o.inputs[0], &b = o.inputs[1];
  GradOut ga(a, o.shape), gb(b, o.shape);
  const float *g = o.grad.data(), *y = o.data, *av = a.data(), *bv = b.data();
  Broadcast p = make_broadcast(o.shape, a.shape(), b.shape());
  for_each_row(p, [&](int64_t off, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
    float ta[kChunk], tb[kChunk];
    for (int64_t j = 0; j < n; j += kChunk) {
      const int64_t m = std::min(kChunk, n - j);
      float* da = ga.mode ? ga.target(off + j, ta) : nullptr;
      float* db = gb.mode ? gb.target(off + j, tb) : nullptr;
      chunk(g + off + j, av + ia + j * sa, bv + ib + j * sb, y + off + j, m, sa, sb, da, db);
      if (da) ga.take(da, m, off + j, ia);
      if (db) gb.take(db, m, off + j, ib);
    }
  });
  ga.finish();
  gb.finish();
}

// Runs body(x_at, z_at) with x_at(j) / z_at(j) reading the row or its one value, chosen once per
// chunk so each of the four loops is plain and vectorises.
template <class Body>
void by_strides(const float* x, const float* z, int64_t sa, int64_t sb, Body body) {
  auto row = [](const float* p) { return [p](int64_t j) { return p[j]; }; };
  auto one = [](const float* p) { return [v = p[0]](int64_t) { return v; }; };
  if (sa && sb) body(row(x), row(z));
  else if (sa) body(row(x), one(z));
  else if (sb) body(one(x), row(z));
  else body(one(x), one(z));
}

}  // namespace

// ---- a + b ---------------------------------------------------------------------------------
// a, b: broadcastable -> out: broadcast shape.   da += dout, db += dout (each summed to its shape)
Tensor operator+(const Tensor& a, const Tensor& b) {
  return binary(a, b, "add", [](Node& o) {
    accumulate(o.inputs[0], o.grad.data(), o.shape);
    accumulate(o.inputs[1], o.grad.data(), o.shape);
  }, [](float x, float y) { return x + y; });
}

// ---- a - b ---------------------------------------------------------------------------------
// da += dout, db -= dout
Tensor operator-(const Tensor& a, const Tensor& b) {
  return binary(a, b, "sub", [](Node& o) {
    accumulate(o.inputs[0], o.grad.data(), o.shape);
    accumulate(o.inputs[1], o.grad.data(), o.shape, -1.0f);
  }, [](float x, float y) { return x - y; });
}

// ---- a * b ---------------------------------------------------------------------------------
// da += dout * b, db += dout * a
// One pass over dout (binary_backward): a's and b's gradients chunk by chunk, each summed back to
// its input's shape as it is produced.
Tensor operator*(const Tensor& a, const Tensor& b) {
  return binary(a, b, "mul", [](Node& o) {
    binary_backward(o, [](const float* g, const float* x, const float* z, const float*, int64_t m, int64_t sa,
                          int64_t sb, float* ta, float* tb) {
      by_strides(x, z, sa, sb, [&](auto xa, auto zb) {
        if (ta) for (int64_t j = 0; j < m; ++j) ta[j] = g[j] * zb(j);  // dout * b
        if (tb) for (int64_t j = 0; j < m; ++j) tb[j] = g[j] * xa(j);  // dout * a
      });
    });
  }, [](float x, float y) { return x * y; });
}

// ---- a / b ---------------------------------------------------------------------------------
// da += dout / b, db += -dout * a / b², rounded as PyTorch's autograd forms it
// (FunctionsManual.cpp, div_tensor_other_backward: -grad * ((self / other) / other)), where the
// recomputed self / other is exactly out: db += -(dout * (out / b)). Written as -(dout / b) * out
// it differs in the last bit for a third of 02-bigram's softmax divisors.
// One pass over dout, out and b (binary_backward): for counts / counts.sum(1, keepdim) — the
// lecture's softmax — that is one read of dout and out, one write of da, and the row sums db.
Tensor operator/(const Tensor& a, const Tensor& b) {
  return binary(a, b, "div", [](Node& o) {
    binary_backward(o, [](const float* g, const float* x, const float* z, const float* y, int64_t m, int64_t sa,
                          int64_t sb, float* ta, float* tb) {
      by_strides(x, z, sa, sb, [&](auto, auto zb) {
        float t[kChunk];  // dout / b
        float* q = ta ? ta : t;
        for (int64_t j = 0; j < m; ++j) q[j] = g[j] / zb(j);
        if (tb) for (int64_t j = 0; j < m; ++j) tb[j] = -(g[j] * (y[j] / zb(j)));  // -(dout * (out / b))
      });
    });
  }, [](float x, float y) { return x / y; });
}

// ---- with a number ---------------------------------------------------------------------------
// x + s: dx += dout.   floats[0] holds s where backward needs it.
Tensor operator+(const Tensor& a, float s) {
  Tensor out = make_result(a.shape(), "add", {a}, [](Node& o) {
    accumulate(o.inputs[0], o.grad.data(), o.shape);
  });
  xt::noalias(flat(out)) = flat(a) + s;
  return out;
}
Tensor operator+(float s, const Tensor& a) { return a + s; }
Tensor operator-(const Tensor& a, float s) {
  Tensor out = make_result(a.shape(), "sub", {a}, [](Node& o) {
    accumulate(o.inputs[0], o.grad.data(), o.shape);
  });
  xt::noalias(flat(out)) = flat(a) - s;
  return out;
}
Tensor operator-(float s, const Tensor& a) { return -a + s; }

// x * s: dx += dout * s
Tensor operator*(const Tensor& a, float s) {
  Tensor out = make_result(a.shape(), "mul", {a}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (x.requires_grad()) xt::noalias(flat(x.node()->grad_data(), x.numel())) += flat(o.grad) * o.floats[0];
  });
  out.node()->floats[0] = s;
  xt::noalias(flat(out)) = flat(a) * s;
  return out;
}
Tensor operator*(float s, const Tensor& a) { return a * s; }

// x / s: dx += dout / s
Tensor operator/(const Tensor& a, float s) {
  Tensor out = make_result(a.shape(), "div", {a}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (x.requires_grad()) xt::noalias(flat(x.node()->grad_data(), x.numel())) += flat(o.grad) / o.floats[0];
  });
  out.node()->floats[0] = s;
  xt::noalias(flat(out)) = flat(a) / s;
  return out;
}
// s / x = s * x**-1 (micrograd's derivation)
Tensor operator/(float s, const Tensor& a) { return pow(a, -1.0f) * s; }

// ---- -x ------------------------------------------------------------------------------------
// dx -= dout
Tensor operator-(const Tensor& a) {
  Tensor out = make_result(a.shape(), "neg", {a}, [](Node& o) {
    accumulate(o.inputs[0], o.grad.data(), o.shape, -1.0f);
  });
  xt::noalias(flat(out)) = -flat(a);
  return out;
}

// ---- x ** p --------------------------------------------------------------------------------
// dx += dout * p * x**(p-1).  Like PyTorch, the common exponents are computed exactly as
// x*x, 1/x, sqrt(x), ... and the others as ATen does (SLEEF's powf, 16 numbers at a time, and
// std::pow in double for the tail: vec::pow), in the backward too (pow_backward calls x.pow(p - 1)).
namespace {
bool special_exponent(float p) {
  return p == 2.0f || p == 3.0f || p == 1.0f || p == 0.5f || p == -0.5f || p == -1.0f || p == -2.0f;
}
float pow_scalar(float x, float p) {
  if (p == 2.0f) return x * x;
  if (p == 3.0f) return x * x * x;
  if (p == 1.0f) return x;
  if (p == 0.5f) return std::sqrt(x);
  if (p == -0.5f) return 1.0f / std::sqrt(x);
  if (p == -1.0f) return 1.0f / x;
  return 1.0f / (x * x);  // -2
}
// y = x ** p over n numbers
void pow_array(const float* x, float p, float* y, int64_t n) {
  if (special_exponent(p)) {
    for (int64_t i = 0; i < n; ++i) y[i] = pow_scalar(x[i], p);
  } else {
    vec::pow(x, p, y, n);
  }
}
}  // namespace

Tensor pow(const Tensor& x, float p) {
  Tensor out = make_result(x.shape(), "pow", {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (!x.requires_grad()) return;
    const float p = o.floats[0];
    if (p == 0.0f) return;  // x**0 = 1: no gradient (PyTorch's pow_backward gives zeros)
    float* dx = x.node()->grad_data();
    const float* g = o.grad.data();
    const int64_t n = x.numel();
    std::vector<float> xp(static_cast<size_t>(n));  // x ** (p - 1)
    if (p - 1.0f == 0.0f) std::fill(xp.begin(), xp.end(), 1.0f);
    else pow_array(x.data(), p - 1.0f, xp.data(), n);
    for (int64_t i = 0; i < n; ++i) dx[i] += g[i] * (p * xp[static_cast<size_t>(i)]);
  });
  out.node()->floats[0] = p;
  if (p == 0.0f) {
    std::fill_n(out.data(), x.numel(), 1.0f);
    return out;
  }
  pow_array(x.data(), p, out.data(), x.numel());
  return out;
}

// ---- sqrt(x) -------------------------------------------------------------------------------
// dx += dout / (2 * out)
Tensor sqrt(const Tensor& x) {
  Tensor out = make_result(x.shape(), "sqrt", {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (x.requires_grad()) {
      auto y = flat(o.data, x.numel());
      xt::noalias(flat(x.node()->grad_data(), x.numel())) += flat(o.grad) / (2.0f * y);
    }
  });
  xt::noalias(flat(out)) = xt::sqrt(flat(x));
  return out;
}

// ---- exp(x) --------------------------------------------------------------------------------
// dx += dout * out
Tensor exp(const Tensor& x) {
  Tensor out = make_result(x.shape(), "exp", {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (!x.requires_grad()) return;
    bool first;  // the first contribution is written, not added to a zero-filled buffer
    float* dx = x.node()->grad_data(&first);
    const float *g = o.grad.data(), *y = o.data;
    const int64_t n = x.numel();
    if (first) for (int64_t i = 0; i < n; ++i) dx[i] = g[i] * y[i];
    else for (int64_t i = 0; i < n; ++i) dx[i] += g[i] * y[i];
  });
  vec::exp(x.data(), out.data(), x.numel());  // PyTorch's SLEEF exp (vec_math.hpp)
  return out;
}

// ---- log(x) --------------------------------------------------------------------------------
// dx += dout / x
Tensor log(const Tensor& x) {
  Tensor out = make_result(x.shape(), "log", {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (!x.requires_grad()) return;
    bool first;
    float* dx = x.node()->grad_data(&first);
    const float *g = o.grad.data(), *xv = x.data();
    const int64_t n = x.numel();
    if (first) for (int64_t i = 0; i < n; ++i) dx[i] = g[i] / xv[i];
    else for (int64_t i = 0; i < n; ++i) dx[i] += g[i] / xv[i];
  });
  vec::log(x.data(), out.data(), x.numel());  // PyTorch's SLEEF log (vec_math.hpp)
  return out;
}

// ---- tanh(x) -------------------------------------------------------------------------------
// dx += dout * (1 - out²)            (lecture 1: "1 - t**2")
Tensor tanh(const Tensor& x) {
  Tensor out = make_result(x.shape(), "tanh", {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (!x.requires_grad()) return;
    bool first;
    float* dx = x.node()->grad_data(&first);
    const float *g = o.grad.data(), *y = o.data;
    const int64_t n = x.numel();
    // PyTorch's tanh_backward (cpu/BinaryOpsKernel.cpp, tanh_backward_kernel) is a * (1 - b * b)
    // on Vectorized<float>; GCC contracts 1 - b * b into one FMA there, so it is rounded once.
    if (first) for (int64_t i = 0; i < n; ++i) dx[i] = g[i] * std::fma(-y[i], y[i], 1.0f);
    else for (int64_t i = 0; i < n; ++i) dx[i] += g[i] * std::fma(-y[i], y[i], 1.0f);
  });
  vec::tanh(x.data(), out.data(), x.numel());  // PyTorch's SLEEF tanh (vec_math.hpp)
  return out;
}

// ---- relu(x) -------------------------------------------------------------------------------
// dx += dout where out > 0
Tensor relu(const Tensor& x) {
  Tensor out = make_result(x.shape(), "relu", {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (!x.requires_grad()) return;
    float* dx = x.node()->grad_data();
    const float *g = o.grad.data(), *y = o.data;
    for (int64_t i = 0, n = x.numel(); i < n; ++i) dx[i] += y[i] > 0.0f ? g[i] : 0.0f;
  });
  const float* xv = x.data();
  float* y = out.data();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) y[i] = xv[i] > 0.0f ? xv[i] : 0.0f;
  return out;
}

// ---- gelu(x) = x * Φ(x), Φ the standard normal CDF ------------------------------------------
// dx += dout * (Φ(x) + x * φ(x)),  φ(x) = exp(-x²/2) / √(2π)
Tensor gelu(const Tensor& x) {
  constexpr float kInvSqrt2 = 0.70710678118654752440f;
  Tensor out = make_result(x.shape(), "gelu", {x}, [](Node& o) {
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
  });
  const float* xv = x.data();
  float* y = out.data();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) y[i] = xv[i] * 0.5f * (1.0f + std::erf(xv[i] * kInvSqrt2));
  return out;
}

// ---- masked_fill(x, mask, value) -------------------------------------------------------------
// x: any shape, mask: broadcastable to x -> out: x's shape.   dx += dout where mask == 0
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
  Shape s = broadcast_shapes(x.shape(), mask.shape(), "masked_fill");
  if (s != x.shape())
    throw std::invalid_argument("masked_fill: mask of shape " + mask.shape().str() +
                                " does not broadcast to the input's shape " + x.shape().str());
  Tensor out = make_result(s, "masked_fill", {x, mask.detach()}, [](Node& o) {
    const Tensor &x = o.inputs[0], &m = o.inputs[1];
    if (!x.requires_grad()) return;
    Tensor t = empty(o.shape);
    binary_kernel(o.grad.data(), o.shape, m.data(), m.shape(), t.data(), o.shape,
                  [](float g, float mv) { return mv != 0.0f ? 0.0f : g; });
    accumulate(x, t.data(), o.shape);
  });
  binary_kernel(x.data(), x.shape(), mask.data(), mask.shape(), out.data(), s,
                [value](float xv, float mv) { return mv != 0.0f ? value : xv; });
  return out;
}

// eq: a 0/1 mask, outside the graph (comparisons have no gradient).
Tensor eq(const Tensor& x, float value) {
  Tensor out = empty(x.shape());
  const float* xv = x.data();
  float* y = out.data();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) y[i] = xv[i] == value ? 1.0f : 0.0f;
  return out;
}

}  // namespace z2h
