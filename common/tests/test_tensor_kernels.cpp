// The tensor layer's fast paths on shapes the small golden cases (test_tensor_ops.cpp) do not
// reach: the fused broadcasting backward of * and / over many rows (a divisor constant over each
// row is summed 16 rows at a time) and over rows longer than one chunk, and the tall-skinny matmul
// kernels — lecture 2's one-hot (n, 27) @ W (27, 27) and its weight gradient. References: central
// finite differences for the element-wise ops, OpenBLAS's cblas_sgemm (blas::sgemm) for matmul.
#include <cstring>
#include <functional>

#include "common/tensor/blas.hpp"
#include "common/rng/generator.hpp"
#include "common/tests/tensor_test_support.hpp"

using namespace z2h;

namespace {

using BinaryFn = std::function<Tensor(const Tensor&, const Tensor&)>;

double weighted_sum(const Tensor& out, const Tensor& w) {
  double s = 0.0;
  for (int64_t i = 0; i < out.numel(); ++i) s += static_cast<double>(out.data()[i]) * w.data()[i];
  return s;
}

// d sum(f(a, b) * w) / d x by central differences, x being a or b (changed in place and restored).
Tensor finite_diff(const BinaryFn& f, const Tensor& a, const Tensor& b, const Tensor& x, const Tensor& w) {
  NoGradGuard no_grad;
  const float h = 1e-3f;
  Tensor fd = zeros(x.shape());
  for (int64_t k = 0; k < x.numel(); ++k) {
    float& v = x.data()[k];
    const float v0 = v;
    v = v0 + h;
    const double up = weighted_sum(f(a, b), w);
    v = v0 - h;
    const double down = weighted_sum(f(a, b), w);
    v = v0;
    fd.data()[k] = static_cast<float>((up - down) / (2.0 * static_cast<double>(h)));
  }
  return fd;
}

}  // namespace

TEST_CASE("mul and div backward over many and long broadcast rows match finite differences",
          "[ops][finite-difference][kernels]") {
  struct Pair {
    Shape a, b;
  };
  const std::vector<Pair> pairs = {
      {{100, 27}, {100, 1}},    // counts / counts.sum(1, keepdim): 6 groups of 16 rows and 4 more
      {{100, 27}, {27}},        // a row vector over every row
      {{2, 600}, {2, 1}},       // rows longer than one 256-element chunk, constant divisor
      {{2, 600}, {1, 600}},     // long rows, the divisor running along them
      {{40, 1, 27}, {40, 5, 1}},  // both operands broadcast: both gradients are sums
      {{50, 27}, {50, 27}},     // same shapes: first contributions written without a zero-fill
  };
  const std::vector<std::pair<const char*, BinaryFn>> ops = {
      {"mul", [](const Tensor& x, const Tensor& y) { return x * y; }},
      {"div", [](const Tensor& x, const Tensor& y) { return x / y; }},
  };
  Generator g(42);
  for (const auto& [name, f] : ops)
    for (const Pair& p : pairs) {
      INFO(name << " " << p.a.str() << " by " << p.b.str());
      Tensor a = randn(p.a, g).requires_grad_();
      Tensor b = (rand(p.b, g) + 0.5f).detach().requires_grad_();  // a divisor in [0.5, 1.5)
      Tensor out = f(a, b);
      Tensor w = randn(out.shape(), g);
      sum(out * w).backward();
      Z2H_CHECK_CLOSE(finite_diff(f, a, b, a, w), a.grad(), 3e-3, 3e-3);
      Z2H_CHECK_CLOSE(finite_diff(f, a, b, b, w), b.grad(), 3e-3, 3e-3);
    }
}

TEST_CASE("counts / counts.sum(1, keepdim): the fused backward has the unfused rule's bits",
          "[ops][kernels]") {
  // d counts = dout / s and d s = sum(-(dout * ((counts / s) / s)), 1, keepdim): PyTorch's rule
  // (FunctionsManual.cpp, div_tensor_other_backward) written out with ops, whose sum is torch_sum
  // (PyTorch's order). The fused kernel sums each row as it makes it with the same order, so the
  // two must agree exactly, over many rows.
  Generator g(3);
  Tensor counts = (rand({1000, 27}, g) + 0.5f).detach();
  Tensor s = sum(counts, {1}, true).detach().requires_grad_();
  Tensor c = counts.detach().requires_grad_();
  Tensor out = c / s;
  Tensor w = randn({1000, 27}, g);
  sum(out * w).backward();
  NoGradGuard no_grad;
  Z2H_CHECK_CLOSE(w / s, c.grad(), 0.0, 0.0);
  Z2H_CHECK_CLOSE(sum(-(w * ((c / s) / s)), {1}, true), s.grad(), 0.0, 0.0);
}

TEST_CASE("x * x and x / x over many rows: both gradient contributions land in one buffer",
          "[ops][kernels]") {
  Generator g(7);
  Tensor x = (rand({64, 27}, g) + 0.5f).detach().requires_grad_();
  sum(x * x).backward();
  Tensor expected = x.detach() * 2.0f;  // d(x²)/dx
  Z2H_CHECK_CLOSE(expected, x.grad(), 1e-6, 1e-6);
  x.zero_grad();
  sum(x / x).backward();  // d(x/x)/dx = 1/x - x/x² = 0, up to rounding
  Z2H_CHECK_CLOSE(zeros({64, 27}), x.grad(), 1e-6, 0.0);
}

TEST_CASE("tall-skinny matmul and its gradients match OpenBLAS", "[ops][matmul][kernels]") {
  struct Dims3 {
    int64_t M, K, N;
  };
  // 4100: rows left over after groups of 4 and a last 320-row block split in two; 5001 × 5 × 20:
  // partial vectors on both sides; 32 × 32: the largest small matrix the kernels take.
  for (const Dims3 d : {Dims3{4100, 27, 27}, Dims3{5001, 5, 20}, Dims3{4096, 32, 32}}) {
    INFO("(" << d.M << ", " << d.K << ") @ (" << d.K << ", " << d.N << ")");
    Generator g(d.M);
    Tensor a = randn({d.M, d.K}, g).requires_grad_();
    Tensor b = randn({d.K, d.N}, g).requires_grad_();
    Tensor w = randn({d.M, d.N}, g);
    Tensor out = matmul(a, b);
    Tensor ref = empty({d.M, d.N}), da = empty({d.M, d.K}), db = empty({d.K, d.N});
    blas::sgemm(false, false, d.M, d.N, d.K, 1.0f, a.data(), b.data(), 0.0f, ref.data());
    blas::sgemm(false, true, d.M, d.K, d.N, 1.0f, w.data(), b.data(), 0.0f, da.data());  // w · bᵀ
    blas::sgemm(true, false, d.K, d.N, d.M, 1.0f, a.data(), w.data(), 0.0f, db.data());  // aᵀ · w
    Z2H_CHECK_CLOSE(ref, out, 1e-5, 1e-5);
    sum(out * w).backward();
    Z2H_CHECK_CLOSE(da, a.grad(), 1e-5, 1e-5);
    // db sums ~5000 products of unit size: float rounding, in whatever order each side sums, stays
    // far below 2e-3 (a wrong row or column would be off by ~1).
    Z2H_CHECK_CLOSE(db, b.grad(), 2e-3, 1e-5);
    // A second product adds into the same grads (the accumulate path of both kernels).
    sum(matmul(a, b) * w).backward();
    Z2H_CHECK_CLOSE(da * 2.0f, a.grad(), 1e-5, 1e-5);
    Z2H_CHECK_CLOSE(db * 2.0f, b.grad(), 4e-3, 1e-5);
  }
}

TEST_CASE("tall-skinny matmul has single-threaded OpenBLAS's bits on every kernel set", "[ops][matmul][kernels]") {
  // Lecture 2's shapes. Where the own kernels reproduce this OpenBLAS kernel set's order they are
  // used, elsewhere cblas_sgemm itself: either way forward and both gradients are OpenBLAS's bits,
  // which is what makes 02-bigram PyTorch's on every machine. (Run the suite with
  // OPENBLAS_CORETYPE=Haswell / SkylakeX / Cooperlake / Prescott to see each path.)
  const int threads = blas::num_threads();
  blas::set_num_threads(1);
  INFO("OpenBLAS kernel set: " << blas::core_name());
  const int64_t M = 20000, K = 27, N = 27;
  Generator g(7);
  Tensor a = randn({M, K}, g).requires_grad_();
  Tensor b = randn({K, N}, g).requires_grad_();
  Tensor w = randn({M, N}, g);
  Tensor out = matmul(a, b);
  sum(out * w).backward();
  std::vector<float> ref(M * N), da(M * K), db(K * N);
  blas::sgemm(false, false, M, N, K, 1.0f, a.data(), b.data(), 0.0f, ref.data());
  blas::sgemm(false, true, M, K, N, 1.0f, w.data(), b.data(), 0.0f, da.data());
  blas::sgemm(true, false, K, N, M, 1.0f, a.data(), w.data(), 0.0f, db.data());
  blas::set_num_threads(threads);
  CHECK(std::memcmp(ref.data(), out.data(), ref.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(da.data(), a.grad().data(), da.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(db.data(), b.grad().data(), db.size() * sizeof(float)) == 0);
}

TEST_CASE("one_hot(xs) @ W picks rows of W exactly; gather's backward scatters into zeros",
          "[ops][matmul][kernels]") {
  Generator g(2147483647);
  const int64_t n = 5000;
  LongTensor xs = randint(0, 27, {n}, g), ys = randint(0, 27, {n, 2}, g);
  Tensor W = randn({27, 27}, g).requires_grad_();
  Tensor logits = matmul(one_hot(xs, 27), W);
  for (int64_t i = 0; i < n; i += 97)
    for (int64_t j = 0; j < 27; ++j) REQUIRE(logits.at({i, j}) == W.at({xs.data[size_t(i)], j}));
  // gather(logits, ys): two picks per row, sometimes the same column twice.
  Tensor picked = gather(logits, ys);
  sum(picked).backward();
  // d sum / d logits counts each row's picks; then dW[k] = Σ over rows with xs == k of those counts.
  std::vector<float> dW(27 * 27, 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < 2; ++k) dW[size_t(xs.data[size_t(i)] * 27 + ys.data[size_t(2 * i + k)])] += 1.0f;
  Z2H_CHECK_CLOSE(tensor(dW, {27, 27}), W.grad(), 0.0, 0.0);
}
