// common/ops_matmul.cpp — matrix products through cblas_sgemm (common/blas.hpp).
//
// For C = A·B the chain rule gives dA = dC·Bᵀ and dB = Aᵀ·dC. BLAS reads Bᵀ and Aᵀ through its
// transpose flags, so backward costs two more products of the same size and no transposed copies;
// beta = 1 makes each product add into the gradient buffer directly.
#include "common/blas.hpp"
#include "common/ops_internal.hpp"

namespace z2h {
using namespace detail;

namespace {

// How a matmul's operands are laid out: `batch` products of (M,K)·(K,N); an operand with batch
// stride 0 is shared by every product (a 2-D operand against a batched one).
struct MatmulPlan {
  int64_t batch = 1, M = 0, K = 0, N = 0, stride_a = 0, stride_b = 0;
};

MatmulPlan plan_of(const Shape& a, const Shape& b, Shape* out) {
  auto fail = [&](const std::string& why) {
    return std::invalid_argument("matmul: cannot multiply " + a.str() + " by " + b.str() + ": " + why);
  };
  if (a.ndim() < 2 || b.ndim() < 2) throw fail("both operands need at least 2 dimensions");
  MatmulPlan p;
  p.M = a[a.ndim() - 2];
  p.K = a[a.ndim() - 1];
  p.N = b[b.ndim() - 1];
  if (b[b.ndim() - 2] != p.K)
    throw fail("the inner sizes differ (" + std::to_string(p.K) + " vs " + std::to_string(b[b.ndim() - 2]) + ")");
  Shape batch_a, batch_b;
  for (int i = 0; i < a.ndim() - 2; ++i) batch_a.push_back(a[i]);
  for (int i = 0; i < b.ndim() - 2; ++i) batch_b.push_back(b[i]);
  Shape batch = b.ndim() == 2 ? batch_a : (a.ndim() == 2 ? batch_b : batch_a);
  if (a.ndim() > 2 && b.ndim() > 2 && batch_a != batch_b)
    throw fail("the batch dimensions differ (broadcasting batch dims is not supported)");
  *out = batch;
  out->push_back(p.M);
  out->push_back(p.N);
  if (b.ndim() == 2) {  // (..., M, K) @ (K, N): one product with all leading dims folded into M
    p.M = a.numel() / std::max<int64_t>(p.K, 1);
    if (p.K == 0) p.M = batch.numel() * a[a.ndim() - 2];
  } else {
    p.batch = batch.numel();
    p.stride_a = a.ndim() == 2 ? 0 : p.M * p.K;
    p.stride_b = p.K * p.N;
  }
  return p;
}

}  // namespace

// a: (M,K) or (...,M,K); b: (K,N) or (...,K,N) -> (...,M,N)
// da += dout · bᵀ,  db += aᵀ · dout  (per batch)
Tensor matmul(const Tensor& a, const Tensor& b) {
  Shape s;
  MatmulPlan p = plan_of(a.shape(), b.shape(), &s);
  Tensor out = make_result(s, "matmul", {a, b}, [](Node& o) {
    const Tensor &a = o.inputs[0], &b = o.inputs[1];
    Shape s;
    MatmulPlan p = plan_of(a.shape(), b.shape(), &s);
    const float* g = o.grad.data();
    // A first contribution is written with beta = 0 (no zero-fill); a shared (batch stride 0)
    // operand accumulates over the batch, so it is written once and added to after that.
    bool first_a = false, first_b = false;
    float* da = a.requires_grad() ? a.node()->grad_data(&first_a) : nullptr;
    float* db = b.requires_grad() ? b.node()->grad_data(&first_b) : nullptr;
    for (int64_t i = 0; i < p.batch; ++i) {
      const float* gi = g + i * p.M * p.N;
      const float beta_a = first_a && (p.stride_a != 0 || i == 0) ? 0.0f : 1.0f;
      const float beta_b = first_b && (p.stride_b != 0 || i == 0) ? 0.0f : 1.0f;
      if (da) blas::sgemm(false, true, p.M, p.K, p.N, 1.0f, gi, b.data() + i * p.stride_b, beta_a, da + i * p.stride_a);
      if (db) blas::sgemm(true, false, p.K, p.N, p.M, 1.0f, a.data() + i * p.stride_a, gi, beta_b, db + i * p.stride_b);
    }
  });
  for (int64_t i = 0; i < p.batch; ++i)
    blas::sgemm(false, false, p.M, p.N, p.K, 1.0f, a.data() + i * p.stride_a, b.data() + i * p.stride_b, 0.0f,
                out.data() + i * p.M * p.N);
  return out;
}

// x: (..., in), weight: (out, in), bias: (out) or undefined -> (..., out)
// out = x · weightᵀ + bias.   dx += dout · weight,  dweight += doutᵀ · x,  dbias += Σ_rows dout
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (weight.ndim() != 2 || x.ndim() < 1 || x.size(-1) != weight.size(1))
    throw std::invalid_argument("linear: input " + x.shape().str() + " does not fit weight " +
                                weight.shape().str() + " (expected (..., in) and (out, in))");
  const int64_t in = weight.size(1), outf = weight.size(0), rows = x.numel() / std::max<int64_t>(in, 1);
  if (bias.defined() && (bias.ndim() != 1 || bias.size(0) != outf))
    throw std::invalid_argument("linear: bias " + bias.shape().str() + " does not match weight " + weight.shape().str());
  Shape s = x.shape();
  s[s.ndim() - 1] = outf;
  BackwardFn fn = [](Node& o) {
    const Tensor &x = o.inputs[0], &w = o.inputs[1];
    const int64_t in = w.size(1), outf = w.size(0), rows = o.shape.numel() / std::max<int64_t>(outf, 1);
    const float* g = o.grad.data();
    bool first;
    if (x.requires_grad()) {
      float* dx = x.node()->grad_data(&first);
      blas::sgemm(false, false, rows, in, outf, 1.0f, g, w.data(), first ? 0.0f : 1.0f, dx);
    }
    if (w.requires_grad()) {
      float* dw = w.node()->grad_data(&first);
      blas::sgemm(true, false, outf, in, rows, 1.0f, g, x.data(), first ? 0.0f : 1.0f, dw);
    }
    if (o.inputs.size() > 2 && o.inputs[2].requires_grad()) {
      float* db = o.inputs[2].node()->grad_data();
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < outf; ++j) db[j] += g[r * outf + j];
    }
  };
  Tensor out = bias.defined() ? make_result(s, "linear", {x, weight, bias}, fn)
                              : make_result(s, "linear", {x, weight}, fn);
  float* y = out.data();
  if (bias.defined())
    for (int64_t r = 0; r < rows; ++r) std::copy_n(bias.data(), outf, y + r * outf);
  blas::sgemm(false, true, rows, outf, in, 1.0f, x.data(), weight.data(), bias.defined() ? 1.0f : 0.0f, y);
  return out;
}

}  // namespace z2h
