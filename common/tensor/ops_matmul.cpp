// common/tensor/ops_matmul.cpp — matrix products: matmul (2-D, 3-D @ 2-D, batched) and linear.
// The products themselves are kernels::gemm (xtensor-blas, or OpenBLAS as PyTorch calls it).
#include <algorithm>
#include <string>

#include "common/tensor/ops_internal.hpp"

namespace z2h {
using namespace detail;

namespace {

void matmul_backward(Node& o);
void linear_backward(Node& o);

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

// ---- matmul --------------------------------------------------------------------------------
// a: (M,K) or (...,M,K); b: (K,N) or (...,K,N) -> (...,M,N)
Tensor matmul(const Tensor& a, const Tensor& b) {
  Shape s;
  MatmulPlan p = plan_of(a.shape(), b.shape(), &s);
  Tensor out = make_result(s, "matmul", {a, b}, matmul_backward);
  save_for_backward(out, {a, b});
  for (int64_t i = 0; i < p.batch; ++i)
    kernels::gemm(false, false, p.M, p.N, p.K, a.data() + i * p.stride_a, b.data() + i * p.stride_b, false,
                  out.data() + i * p.M * p.N);
  return out;
}
namespace {
// da += dout · bᵀ,  db += aᵀ · dout  (per batch)
void matmul_backward(Node& o) {
  const Tensor &a = o.inputs[0], &b = o.inputs[1];
  Shape s;
  MatmulPlan p = plan_of(a.shape(), b.shape(), &s);
  const float* g = o.grad.data();
  // A first contribution is written directly (no zero-fill); a shared (batch stride 0) operand
  // accumulates over the batch, so it is written once and added to after that.
  // If the input's grad already holds another contribution (a weight used twice, like 02's W in
  // `xenc @ W` and `(W**2).mean()`), the product goes to its own buffer and is added afterwards,
  // as PyTorch's autograd adds the two tensors: accumulating inside the product would fold the old
  // value into its block sums, another rounding when a long K is summed in blocks.
  bool first_a = false, first_b = false;
  float* grad_a = a.requires_grad() ? a.node()->grad_data(&first_a) : nullptr;
  float* grad_b = b.requires_grad() ? b.node()->grad_data(&first_b) : nullptr;
  Tensor own_a = grad_a && !first_a ? empty(a.shape()) : Tensor();
  Tensor own_b = grad_b && !first_b ? empty(b.shape()) : Tensor();
  float* da = own_a.defined() ? own_a.data() : grad_a;
  float* db = own_b.defined() ? own_b.data() : grad_b;
  for (int64_t i = 0; i < p.batch; ++i) {
    const float* gi = g + i * p.M * p.N;
    const bool add_a = p.stride_a == 0 && i > 0, add_b = p.stride_b == 0 && i > 0;
    const float *ai = a.data() + i * p.stride_a, *bi = b.data() + i * p.stride_b;
    if (da) kernels::gemm(false, true, p.M, p.K, p.N, gi, bi, add_a, da + i * p.stride_a);  // dout · bᵀ
    if (db) kernels::gemm(true, false, p.K, p.N, p.M, ai, gi, add_b, db + i * p.stride_b);  // aᵀ · dout
  }
  if (own_a.defined()) for (int64_t j = 0, n = a.numel(); j < n; ++j) grad_a[j] += da[j];
  if (own_b.defined()) for (int64_t j = 0, n = b.numel(); j < n; ++j) grad_b[j] += db[j];
}
}  // namespace

// ---- linear --------------------------------------------------------------------------------
// x: (..., in), weight: (out, in), bias: (out) or undefined -> (..., out)
// out = x · weightᵀ + bias
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (weight.ndim() != 2 || x.ndim() < 1 || x.size(-1) != weight.size(1))
    throw std::invalid_argument("linear: input " + x.shape().str() + " does not fit weight " +
                                weight.shape().str() + " (expected (..., in) and (out, in))");
  const int64_t in = weight.size(1), outf = weight.size(0), rows = x.numel() / std::max<int64_t>(in, 1);
  if (bias.defined() && (bias.ndim() != 1 || bias.size(0) != outf))
    throw std::invalid_argument("linear: bias " + bias.shape().str() + " does not match weight " + weight.shape().str());
  Shape s = x.shape();
  s[s.ndim() - 1] = outf;
  Tensor out = bias.defined() ? make_result(s, "linear", {x, weight, bias}, linear_backward)
                              : make_result(s, "linear", {x, weight}, linear_backward);
  float* y = out.data();
  if (bias.defined())
    for (int64_t r = 0; r < rows; ++r) std::copy_n(bias.data(), outf, y + r * outf);
  kernels::gemm(false, true, rows, outf, in, x.data(), weight.data(), bias.defined(), y);
  save_for_backward(out, {x, weight});
  return out;
}
namespace {
// dx += dout · weight,  dweight += doutᵀ · x,  dbias += Σ_rows dout
void linear_backward(Node& o) {
  const Tensor &x = o.inputs[0], &w = o.inputs[1];
  const int64_t in = w.size(1), outf = w.size(0), rows = o.shape.numel() / std::max<int64_t>(outf, 1);
  const float* g = o.grad.data();
  bool first;
  if (x.requires_grad()) {
    float* dx = x.node()->grad_data(&first);
    kernels::gemm(false, false, rows, in, outf, g, w.data(), !first, dx);
  }
  if (w.requires_grad()) {
    float* dw = w.node()->grad_data(&first);
    kernels::gemm(true, false, outf, in, rows, g, x.data(), !first, dw);
  }
  if (o.inputs.size() > 2 && o.inputs[2].requires_grad()) {
    // the bias was broadcast over the rows: its gradient is their sum (torch.sum's order when exact)
    float* db = o.inputs[2].node()->grad_data();
    sum_to_add(g, Shape{rows, outf}, db, Shape{outf});
  }
}
}  // namespace

}  // namespace z2h
