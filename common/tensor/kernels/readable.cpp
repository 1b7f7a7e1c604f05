// common/tensor/kernels/readable.cpp — every kernel as xtensor expressions (kernels.hpp).
//
// This is the mathematics of the ops, written the way numpy code reads: whole arrays at once,
// broadcasting, reductions along an axis. It runs on any CPU (xsimd vectorises the element-wise
// parts), and its results equal PyTorch's up to float rounding — sums are taken in xtensor's
// order, exp/log/tanh are xsimd's — which the tests bound op by op.
//
// Two xtensor rules kept here (TOOLCHAIN.md): a keep_dims reduction is evaluated into its own array
// before it is broadcast against its input (a lazy one gives wrong numbers, xtensor #2737), and
// intermediates are typed arrays, never `auto` expressions that would be recomputed or dangle.
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xtensor.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/tensor/kernels/kernels.hpp"

namespace z2h::kernels::readable {

namespace {

using Array = xt::xarray<float>;
using DArray = xt::xarray<double>;
using Matrix = xt::xtensor<float, 2>;

// A buffer seen as an xtensor array of the given shape (no copy).
std::vector<size_t> dims(const Shape& s) { return {s.begin(), s.end()}; }
auto view(const float* p, const Shape& s) {
  return xt::adapt(p, static_cast<size_t>(s.numel()), xt::no_ownership(), dims(s));
}
auto view(float* p, const Shape& s) {
  return xt::adapt(p, static_cast<size_t>(s.numel()), xt::no_ownership(), dims(s));
}
auto flat(const float* p, int64_t n) { return view(p, Shape{n}); }
auto flat(float* p, int64_t n) { return view(p, Shape{n}); }
auto rows(const float* p, int64_t r, int64_t c) { return view(p, Shape{r, c}); }
auto rows(float* p, int64_t r, int64_t c) { return view(p, Shape{r, c}); }

// y = value, or y += value where the target already holds a contribution.
template <class Y, class E>
void put(Y&& y, const E& value, bool first) {
  if (first) xt::noalias(y) = value;
  else xt::noalias(y) += value;
}

// The axes of `from` that a sum down to `to` removes: those `to` lacks (it is aligned on the
// right) or holds as 1.
std::vector<size_t> summed_axes(const Shape& from, const Shape& to) {
  std::vector<size_t> axes;
  const int lead = from.ndim() - to.ndim();
  for (int i = 0; i < from.ndim(); ++i)
    if (i < lead || (to[i - lead] == 1 && from[i] != 1)) axes.push_back(static_cast<size_t>(i));
  return axes;
}

// The gradient `g` (shape `gs`, an op's output) summed back to the target's shape and put there.
void put_summed(GradTarget t, const Array& g, const Shape& gs) {
  if (t.shape == gs) return put(view(t.data, t.shape), g, t.first);
  DArray s = xt::sum<double>(g, summed_axes(gs, t.shape));  // accumulated in double (see sum_to)
  put(flat(t.data, t.shape.numel()), xt::flatten(s), t.first);
}

}  // namespace

void exp(const float* x, float* y, int64_t n) { flat(y, n) = xt::exp(flat(x, n)); }
void log(const float* x, float* y, int64_t n) { flat(y, n) = xt::log(flat(x, n)); }
void tanh(const float* x, float* y, int64_t n) { flat(y, n) = xt::tanh(flat(x, n)); }
void pow(const float* x, float p, float* y, int64_t n) { flat(y, n) = xt::pow(flat(x, n), p); }

void tanh_backward(const float* dy, const float* y, float* dx, int64_t n, bool first) {
  put(flat(dx, n), flat(dy, n) * (1.0f - flat(y, n) * flat(y, n)), first);
}

void binary(BinaryOp op, const float* a, const Shape& as, const float* b, const Shape& bs, float* y,
            const Shape& ys) {
  auto Y = view(y, ys);
  switch (op) {
    case BinaryOp::add: Y = view(a, as) + view(b, bs); break;
    case BinaryOp::sub: Y = view(a, as) - view(b, bs); break;
    case BinaryOp::mul: Y = view(a, as) * view(b, bs); break;
    case BinaryOp::div: Y = view(a, as) / view(b, bs); break;
  }
}

void mul_backward(const float* dy, const Shape& ys, const float* a, const Shape& as, const float* b,
                  const Shape& bs, GradTarget da, GradTarget db) {
  if (da) put_summed(da, view(dy, ys) * view(b, bs), ys);  // dout * b
  if (db) put_summed(db, view(dy, ys) * view(a, as), ys);  // dout * a
}

void div_backward(const float* dy, const float* y, const Shape& ys, const float*, const Shape&,
                  const float* b, const Shape& bs, GradTarget da, GradTarget db) {
  if (da) put_summed(da, view(dy, ys) / view(b, bs), ys);                     // dout / b
  if (db) put_summed(db, -(view(dy, ys) * (view(y, ys) / view(b, bs))), ys);  // -dout * a / b²
}

void sum_to(const float* x, const Shape& from, float* y, const Shape& to) {
  // xtensor adds one number after the other in the accumulator's type: in float, a sum over
  // 228146 rows (02-bigram) would lose ~3 digits, so it accumulates in double and rounds once.
  DArray s = xt::sum<double>(view(x, from), summed_axes(from, to));  // assigned: evaluated here
  flat(y, to.numel()) = xt::flatten(s);
}

void softmax(const float* x, float* y, int64_t r, int64_t c) {
  auto X = rows(x, r, c);
  Matrix m = xt::amax(X, {1}, xt::keep_dims);  // the row maxima: exp never overflows
  Matrix e = xt::exp(X - m);
  Matrix s = xt::sum(e, {1}, xt::keep_dims);
  rows(y, r, c) = e / s;
}

void log_softmax(const float* x, float* y, int64_t r, int64_t c) {
  auto X = rows(x, r, c);
  Matrix m = xt::amax(X, {1}, xt::keep_dims);
  Matrix lse = xt::log(xt::sum(xt::exp(X - m), {1}, xt::keep_dims));
  rows(y, r, c) = X - m - lse;
}

void log_softmax_backward(const float* dy, const float* y, float* dx, int64_t r, int64_t c, bool first) {
  Matrix s = xt::sum(rows(dy, r, c), {1}, xt::keep_dims);
  put(rows(dx, r, c), rows(dy, r, c) - xt::exp(rows(y, r, c)) * s, first);
}

void softmax_backward(const float* dy, const float* y, float* dx, int64_t r, int64_t c) {
  Matrix dot = xt::sum(rows(dy, r, c) * rows(y, r, c), {1}, xt::keep_dims);
  rows(dx, r, c) = rows(y, r, c) * (rows(dy, r, c) - dot);
}

void layer_norm(const float* x, const float* gamma, const float* beta, int64_t r, int64_t c, float eps, float* y,
                float* mean, float* rstd) {
  auto X = rows(x, r, c);
  Matrix mu = xt::mean(X, {1}, xt::keep_dims);
  Matrix var = xt::mean(xt::square(X - mu), {1}, xt::keep_dims);  // biased
  Matrix rs = 1.0f / xt::sqrt(var + eps);
  rows(y, r, c) = (X - mu) * rs * flat(gamma, c) + flat(beta, c);
  flat(mean, r) = xt::flatten(mu);
  flat(rstd, r) = xt::flatten(rs);
}

void layer_norm_backward(const float* dy, const float* x, const float* mean, const float* rstd, const float* gamma,
                         int64_t r, int64_t c, float* dx, float* dgamma, float* dbeta) {
  auto DY = rows(dy, r, c);
  const Matrix mu = xt::reshape_view(flat(mean, r), {size_t(r), size_t(1)});
  const Matrix rs = xt::reshape_view(flat(rstd, r), {size_t(r), size_t(1)});
  Matrix xhat = (rows(x, r, c) - mu) * rs;
  if (dx) {
    Matrix d = DY * flat(gamma, c);  // dy·γ
    Matrix m1 = xt::mean(d, {1}, xt::keep_dims), m2 = xt::mean(d * xhat, {1}, xt::keep_dims);
    rows(dx, r, c) = rs * (d - m1 - xhat * m2);
  }
  if (dgamma) flat(dgamma, c) = xt::sum(DY * xhat, {0});
  if (dbeta) flat(dbeta, c) = xt::sum(DY, {0});
}

float nll_sum(const float* logp, const int64_t* t, int64_t r, int64_t c, int64_t ignore_index) {
  double total = 0.0;  // in double, as sum_to: the rows can be many
  for (int64_t i = 0; i < r; ++i)
    if (t[i] != ignore_index) total -= logp[i * c + t[i]];
  return static_cast<float>(total);
}

void nll_log_softmax_backward(const float* logp, const int64_t* t, float g, float* dx, int64_t r, int64_t c,
                              int64_t ignore_index, bool first) {
  Matrix d = g * xt::exp(rows(logp, r, c));  // g · softmax
  for (int64_t i = 0; i < r; ++i) {
    if (t[i] == ignore_index) xt::row(d, i) = 0.0f;
    else d(i, t[i]) -= g;  // − g · onehot
  }
  put(rows(dx, r, c), d, first);
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, const float* B,
          bool accumulate, float* C) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // an empty sum
    if (!accumulate) std::fill_n(C, M * N, 0.0f);
    return;
  }
  Matrix a = trans_a ? Matrix(xt::transpose(rows(A, K, M))) : Matrix(rows(A, M, K));
  Matrix b = trans_b ? Matrix(xt::transpose(rows(B, N, K))) : Matrix(rows(B, K, N));
  put(rows(C, M, N), xt::linalg::dot(a, b), !accumulate);
}

void gemm_ld(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
             int64_t ldb, bool accumulate, float* C, int64_t ldc) {
  detail::gemm_ld_packed(gemm, trans_a, trans_b, M, N, K, A, lda, B, ldb, accumulate, C, ldc);
}

}  // namespace z2h::kernels::readable
