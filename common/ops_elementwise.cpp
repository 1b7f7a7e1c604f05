// common/ops_elementwise.cpp — arithmetic with broadcasting, and element-wise functions.
// Each op: the forward, then its backward rule (a captureless lambda, so a plain function pointer).
// g++ 12 reports xsimd's AVX-512 exp/tanh as -Wuninitialized in sanitizer builds (the
// _mm512_undefined_* idiom of its own <avx512fintrin.h>): a false positive, silenced for this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <algorithm>
#include <cmath>

#include "common/ops_internal.hpp"

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
Tensor operator*(const Tensor& a, const Tensor& b) {
  return binary(a, b, "mul", [](Node& o) {
    const Tensor &a = o.inputs[0], &b = o.inputs[1];
    Tensor t = empty(o.shape);
    auto mul = [](float x, float y) { return x * y; };
    if (a.requires_grad()) {
      binary_kernel(o.grad.data(), o.shape, b.data(), b.shape(), t.data(), o.shape, mul);
      accumulate(a, t.data(), o.shape);
    }
    if (b.requires_grad()) {
      binary_kernel(o.grad.data(), o.shape, a.data(), a.shape(), t.data(), o.shape, mul);
      accumulate(b, t.data(), o.shape);
    }
  }, [](float x, float y) { return x * y; });
}

// ---- a / b ---------------------------------------------------------------------------------
// da += dout / b, db += -dout * a / b² = -(dout / b) * out
Tensor operator/(const Tensor& a, const Tensor& b) {
  return binary(a, b, "div", [](Node& o) {
    const Tensor &a = o.inputs[0], &b = o.inputs[1];
    Tensor t = empty(o.shape);  // dout / b
    binary_kernel(o.grad.data(), o.shape, b.data(), b.shape(), t.data(), o.shape,
                  [](float g, float y) { return g / y; });
    accumulate(a, t.data(), o.shape);
    if (b.requires_grad()) {
      float* tp = t.data();
      for (int64_t i = 0, n = o.shape.numel(); i < n; ++i) tp[i] = -tp[i] * o.data[i];
      accumulate(b, tp, o.shape);
    }
  }, [](float x, float y) { return x / y; });
}

// ---- with a number ---------------------------------------------------------------------------
// x + s: dx += dout.   floats[0] holds s where backward needs it.
Tensor operator+(const Tensor& a, float s) {
  Tensor out = make_result(a.shape(), "add", {a}, [](Node& o) {
    accumulate(o.inputs[0], o.grad.data(), o.shape);
  });
  flat(out) = flat(a) + s;
  return out;
}
Tensor operator+(float s, const Tensor& a) { return a + s; }
Tensor operator-(const Tensor& a, float s) {
  Tensor out = make_result(a.shape(), "sub", {a}, [](Node& o) {
    accumulate(o.inputs[0], o.grad.data(), o.shape);
  });
  flat(out) = flat(a) - s;
  return out;
}
Tensor operator-(float s, const Tensor& a) { return -a + s; }

// x * s: dx += dout * s
Tensor operator*(const Tensor& a, float s) {
  Tensor out = make_result(a.shape(), "mul", {a}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (x.requires_grad()) flat(x.node()->grad_data(), x.numel()) += flat(o.grad) * o.floats[0];
  });
  out.node()->floats[0] = s;
  flat(out) = flat(a) * s;
  return out;
}
Tensor operator*(float s, const Tensor& a) { return a * s; }

// x / s: dx += dout / s
Tensor operator/(const Tensor& a, float s) {
  Tensor out = make_result(a.shape(), "div", {a}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (x.requires_grad()) flat(x.node()->grad_data(), x.numel()) += flat(o.grad) / o.floats[0];
  });
  out.node()->floats[0] = s;
  flat(out) = flat(a) / s;
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
  flat(out) = -flat(a);
  return out;
}

// ---- x ** p --------------------------------------------------------------------------------
// dx += dout * p * x**(p-1).  Like PyTorch, the common exponents are computed exactly as
// x*x, 1/x, sqrt(x), ... rather than through std::pow.
namespace {
float pow_scalar(float x, float p) {
  if (p == 2.0f) return x * x;
  if (p == 3.0f) return x * x * x;
  if (p == 1.0f) return x;
  if (p == 0.5f) return std::sqrt(x);
  if (p == -0.5f) return 1.0f / std::sqrt(x);
  if (p == -1.0f) return 1.0f / x;
  if (p == -2.0f) return 1.0f / (x * x);
  return std::pow(x, p);
}
}  // namespace

Tensor pow(const Tensor& x, float p) {
  Tensor out = make_result(x.shape(), "pow", {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (!x.requires_grad()) return;
    const float p = o.floats[0];
    float* dx = x.node()->grad_data();
    const float *g = o.grad.data(), *xv = x.data();
    for (int64_t i = 0, n = x.numel(); i < n; ++i) dx[i] += g[i] * (p * pow_scalar(xv[i], p - 1.0f));
  });
  out.node()->floats[0] = p;
  const float* xv = x.data();
  float* y = out.data();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) y[i] = pow_scalar(xv[i], p);
  return out;
}

// ---- sqrt(x) -------------------------------------------------------------------------------
// dx += dout / (2 * out)
Tensor sqrt(const Tensor& x) {
  Tensor out = make_result(x.shape(), "sqrt", {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (x.requires_grad()) {
      auto y = flat(o.data, x.numel());
      flat(x.node()->grad_data(), x.numel()) += flat(o.grad) / (2.0f * y);
    }
  });
  flat(out) = xt::sqrt(flat(x));
  return out;
}

// ---- exp(x) --------------------------------------------------------------------------------
// dx += dout * out
Tensor exp(const Tensor& x) {
  Tensor out = make_result(x.shape(), "exp", {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (x.requires_grad())
      flat(x.node()->grad_data(), x.numel()) += flat(o.grad) * flat(o.data, x.numel());
  });
  flat(out) = xt::exp(flat(x));
  return out;
}

// ---- log(x) --------------------------------------------------------------------------------
// dx += dout / x
Tensor log(const Tensor& x) {
  Tensor out = make_result(x.shape(), "log", {x}, [](Node& o) {
    const Tensor& x = o.inputs[0];
    if (x.requires_grad()) flat(x.node()->grad_data(), x.numel()) += flat(o.grad) / flat(x);
  });
  // A plain loop: xsimd's AVX-512 log trips a false g++ 12 -Wuninitialized in <avx512fintrin.h>.
  const float* xv = x.data();
  float* y = out.data();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) y[i] = std::log(xv[i]);
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
    if (first) for (int64_t i = 0; i < n; ++i) dx[i] = g[i] * (1.0f - y[i] * y[i]);
    else for (int64_t i = 0; i < n; ++i) dx[i] += g[i] * (1.0f - y[i] * y[i]);
  });
  flat(out) = xt::tanh(flat(x));
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
