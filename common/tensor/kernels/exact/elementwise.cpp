// common/tensor/kernels/exact/elementwise.cpp — element-wise kernels as PyTorch computes them, and
// the fused backward of broadcasting products and quotients.
//   exp, log, tanh: SLEEF, as ATen's AVX2 kernels call it (vec_math.hpp);
//   pow: x*x, 1/x, sqrt(x), ... for the exponents ATen special-cases, SLEEF's powf for the others;
//   tanh_backward: 1 - y*y contracted into one FMA, as GCC builds ATen's tanh_backward;
//   binary: broadcasting as row loops that vectorise (the bits of any correct implementation);
//   mul_backward, div_backward: both gradients from one pass over dout, each summed back to its
//   input's shape in ATen's order as it is produced — the bits of the unfused rule, in one pass.
// g++ 12 reports xsimd's AVX-512 code as -Wuninitialized in sanitizer builds (the
// _mm512_undefined_* idiom of its own <avx512fintrin.h>): a false positive, silenced for this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <algorithm>
#include <cmath>
#include <vector>

#include "common/tensor/broadcast.hpp"
#include "common/tensor/kernels/exact/exact.hpp"

namespace z2h::kernels::exact {
using namespace z2h::detail;

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
  std::vector<float> tmp;  // temp: the out-shaped contribution
  Shape in_shape, out_shape;

  GradOut(GradTarget t, const Shape& os) : in_shape(t.shape), out_shape(os) {
    if (!t) return;
    const Shape& is = t.shape;
    const int nd = os.ndim();
    bool last_reduced = nd >= 1 && is.ndim() == nd && is[nd - 1] == 1 && os[nd - 1] > 1 && os[nd - 1] <= kChunk;
    for (int i = 0; last_reduced && i + 1 < nd; ++i) last_reduced = is[i] == os[i];
    d = t.data;
    if (is == os && os.numel() > 1) {
      mode = direct;
      first = t.first;
      return;
    }
    mode = last_reduced ? rows : temp;
    if (mode == temp) tmp.resize(static_cast<size_t>(os.numel()));
    if (t.first) std::fill_n(d, is.numel(), 0.0f);  // rows and temp add into the buffer
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
  void finish() {  // temp: the sum over the broadcast dims, formed first and then added (as autograd)
    if (mode != temp) return;
    std::vector<float> sum(static_cast<size_t>(in_shape.numel()));
    sum_to(tmp.data(), out_shape, sum.data(), in_shape);
    for (size_t i = 0; i < sum.size(); ++i) d[i] += sum[i];
  }
};

// Walks out's rows as the forward did; chunk(g, x, z, y, m, sa, sb, ta, tb) fills the chunk's
// contributions ta (to a) and tb (to b; either may be null: not needed) from dout g, the inputs'
// values x, z (x[0] / z[0] when the input is constant over the row: sa / sb == 0) and the output y.
template <class Chunk>
void binary_backward(const float* g, const float* y, const Shape& ys, const float* av, const Shape& as,
                     const float* bv, const Shape& bs, GradTarget da_t, GradTarget db_t, Chunk chunk) {
  GradOut ga(da_t, ys), gb(db_t, ys);
  Broadcast p = make_broadcast(ys, as, bs);
  for_each_row(p, [&](int64_t off, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
    float ta[kChunk], tb[kChunk];
    for (int64_t j = 0; j < n; j += kChunk) {
      const int64_t m = std::min(kChunk, n - j);
      float* da = ga.mode ? ga.target(off + j, ta) : nullptr;
      float* db = gb.mode ? gb.target(off + j, tb) : nullptr;
      chunk(g + off + j, av + ia + j * sa, bv + ib + j * sb, y ? y + off + j : nullptr, m, sa, sb, da, db);
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


// ATen's pow_tensor_scalar_optimized_kernel computes these exponents exactly as written here.
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

}  // namespace

void exp(const float* x, float* y, int64_t n) { vec::exp(x, y, n); }
void log(const float* x, float* y, int64_t n) { vec::log(x, y, n); }
void tanh(const float* x, float* y, int64_t n) { vec::tanh(x, y, n); }
void pow(const float* x, float p, float* y, int64_t n) {
  if (p == 0.0f) std::fill_n(y, n, 1.0f);  // x ** 0 = 1, as ATen (also for 0 and nan)
  else if (special_exponent(p)) for (int64_t i = 0; i < n; ++i) y[i] = pow_scalar(x[i], p);
  else vec::pow(x, p, y, n);
}

// PyTorch's tanh_backward (cpu/BinaryOpsKernel.cpp, tanh_backward_kernel) is a * (1 - b * b) on
// Vectorized<float>; GCC contracts 1 - b * b into one FMA there, so it is rounded once.
void tanh_backward(const float* dy, const float* y, float* dx, int64_t n, bool first) {
  if (first) for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * std::fma(-y[i], y[i], 1.0f);
  else for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * std::fma(-y[i], y[i], 1.0f);
}

void binary(BinaryOp op, const float* a, const Shape& as, const float* b, const Shape& bs, float* y,
            const Shape& ys) {
  switch (op) {
    case BinaryOp::add: return binary_kernel(a, as, b, bs, y, ys, [](float x, float z) { return x + z; });
    case BinaryOp::sub: return binary_kernel(a, as, b, bs, y, ys, [](float x, float z) { return x - z; });
    case BinaryOp::mul: return binary_kernel(a, as, b, bs, y, ys, [](float x, float z) { return x * z; });
    case BinaryOp::div: return binary_kernel(a, as, b, bs, y, ys, [](float x, float z) { return x / z; });
  }
}

// da += dout * b, db += dout * a
void mul_backward(const float* dy, const Shape& ys, const float* a, const Shape& as, const float* b,
                  const Shape& bs, GradTarget da, GradTarget db) {
  binary_backward(dy, nullptr, ys, a, as, b, bs, da, db,
                  [](const float* g, const float* x, const float* z, const float*, int64_t m, int64_t sa,
                     int64_t sb, float* ta, float* tb) {
                    by_strides(x, z, sa, sb, [&](auto xa, auto zb) {
                      if (ta) for (int64_t j = 0; j < m; ++j) ta[j] = g[j] * zb(j);  // dout * b
                      if (tb) for (int64_t j = 0; j < m; ++j) tb[j] = g[j] * xa(j);  // dout * a
                    });
                  });
}

// da += dout / b, db += -dout * a / b², rounded as PyTorch's autograd forms it
// (FunctionsManual.cpp, div_tensor_other_backward: -grad * ((self / other) / other)), where the
// recomputed self / other is exactly out: db += -(dout * (out / b)). Written as -(dout / b) * out
// it differs in the last bit for a third of 02-bigram's softmax divisors. For counts /
// counts.sum(1, keepdim) — the lecture's softmax — this is one read of dout and out, one write of
// da, and the row sums db.
void div_backward(const float* dy, const float* y, const Shape& ys, const float* a, const Shape& as,
                  const float* b, const Shape& bs, GradTarget da, GradTarget db) {
  binary_backward(dy, y, ys, a, as, b, bs, da, db,
                  [](const float* g, const float* x, const float* z, const float* y, int64_t m, int64_t sa,
                     int64_t sb, float* ta, float* tb) {
                    by_strides(x, z, sa, sb, [&](auto, auto zb) {
                      float t[kChunk];  // dout / b
                      float* q = ta ? ta : t;
                      for (int64_t j = 0; j < m; ++j) q[j] = g[j] / zb(j);
                      if (tb) for (int64_t j = 0; j < m; ++j) tb[j] = -(g[j] * (y[j] / zb(j)));
                    });
                  });
}

}  // namespace z2h::kernels::exact
