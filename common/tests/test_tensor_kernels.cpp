// The tensor layer's fast paths on shapes the small golden cases (test_tensor_ops.cpp) do not
// reach: the fused broadcasting backward of * and / over many rows (a divisor constant over each
// row is summed 16 rows at a time) and over rows longer than one chunk, the tall-skinny matmul
// kernels — lecture 2's one-hot (n, 27) @ W (27, 27) and its weight gradient — and the products in
// OpenBLAS's summation order (gemm_openblas.cpp) over many shapes. References: central finite
// differences for the element-wise ops, OpenBLAS's cblas_sgemm (blas::sgemm) for matmul.
#include <cmath>
#include <cstring>
#include <limits>
#include <functional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "common/tensor/blas.hpp"
#include "common/tensor/kernels/kernels.hpp"
#if Z2H_EXACT_KERNELS
#include "common/tensor/kernels/exact/gemm_openblas.hpp"
#endif
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

// ---- the two kernel layers against each other ------------------------------------------------
// kernels::readable (xtensor) and kernels::exact (PyTorch's kernels) compute the same mathematics;
// they may differ in the last bits (sum order, exp's polynomial, a fused multiply-add). Each kernel
// of the interface is run through both on the same inputs and compared within float rounding:
// a relative 2e-6 per element (a few ulps) for element-wise kernels, 1e-5 for sums and products.
#if Z2H_EXACT_KERNELS
namespace {
std::vector<float> randn_vec(int64_t n, Generator& g, float scale = 1.0f) {
  std::vector<float> v(static_cast<size_t>(n));
  Tensor t = randn({n}, g);
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = t.data()[i] * scale;
  return v;
}
void check_close(const std::vector<float>& readable, const std::vector<float>& exact, double rtol, double atol) {
  REQUIRE(readable.size() == exact.size());
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < exact.size(); ++i) {
    const double err = std::abs(double(readable[i]) - double(exact[i])) - rtol * std::abs(double(exact[i]));
    if (err > worst) worst = err, at = i;
  }
  INFO("worst excess over rtol at [" << at << "]: readable " << readable[at] << " vs exact " << exact[at]);
  CHECK(worst <= atol);
}

// One product, C = op(A)·op(B) (+ C0 when accumulating), made by cblas_sgemm and by
// kernels::exact::gemm on random operands: how many of C's elements differ in their bits.
struct GemmCase {
  bool ta, tb;
  int64_t M, N, K;
};
int64_t gemm_bits_differ(const GemmCase& c, bool acc, Generator& g) {
  const auto A = randn_vec(c.M * c.K, g), B = randn_vec(c.K * c.N, g), C0 = randn_vec(c.M * c.N, g);
  std::vector<float> ref = C0, out = C0;
  blas::sgemm(c.ta, c.tb, c.M, c.N, c.K, 1.0f, A.data(), B.data(), acc ? 1.0f : 0.0f, ref.data());
  kernels::exact::gemm(c.ta, c.tb, c.M, c.N, c.K, A.data(), B.data(), acc, out.data());
  int64_t differ = 0;
  for (size_t k = 0; k < ref.size(); ++k) differ += std::memcmp(&ref[k], &out[k], sizeof(float)) != 0;
  return differ;
}
}  // namespace

TEST_CASE("readable and exact kernels agree: element-wise functions and tanh's backward", "[kernels][layers]") {
  Generator g(11);
  const int64_t n = 1037;  // whole vectors and a tail
  auto x = randn_vec(n, g, 3.0f), dy = randn_vec(n, g);
  std::vector<float> ax(x.size()), r(x.size()), e(x.size());
  for (size_t i = 0; i < x.size(); ++i) ax[i] = std::abs(x[i]) + 1e-3f;
  for (auto [name, fr, fe] : {std::tuple{"exp", &kernels::readable::exp, &kernels::exact::exp},
                              std::tuple{"log", &kernels::readable::log, &kernels::exact::log},
                              std::tuple{"tanh", &kernels::readable::tanh, &kernels::exact::tanh}}) {
    INFO(name);
    const float* in = std::string(name) == "log" ? ax.data() : x.data();
    fr(in, r.data(), n);
    fe(in, e.data(), n);
    check_close(r, e, 2e-6, 1e-30);
  }
  for (float p : {2.0f, -0.5f, 1.7f, 0.0f}) {
    INFO("pow " << p);
    kernels::readable::pow(ax.data(), p, r.data(), n);
    kernels::exact::pow(ax.data(), p, e.data(), n);
    check_close(r, e, 2e-6, 1e-30);
  }
  std::vector<float> y(x.size());
  kernels::exact::tanh(x.data(), y.data(), n);
  kernels::readable::tanh_backward(dy.data(), y.data(), r.data(), n, true);
  kernels::exact::tanh_backward(dy.data(), y.data(), e.data(), n, true);
  check_close(r, e, 2e-6, 1e-7);
}

TEST_CASE("readable and exact kernels agree: broadcasting ops and their backward", "[kernels][layers]") {
  Generator g(12);
  const Shape ys{64, 3, 27}, as{64, 3, 27}, bs{3, 1};  // b broadcasts over rows and columns
  auto a = randn_vec(as.numel(), g), b = randn_vec(bs.numel(), g), dy = randn_vec(ys.numel(), g);
  for (float& v : b) v = std::abs(v) + 0.5f;  // a divisor away from 0
  for (auto op : {kernels::BinaryOp::add, kernels::BinaryOp::sub, kernels::BinaryOp::mul, kernels::BinaryOp::div}) {
    std::vector<float> r(static_cast<size_t>(ys.numel())), e(r.size());
    kernels::readable::binary(op, a.data(), as, b.data(), bs, r.data(), ys);
    kernels::exact::binary(op, a.data(), as, b.data(), bs, e.data(), ys);
    CHECK(r == e);  // one rounding per element: the same bits
  }
  std::vector<float> y(static_cast<size_t>(ys.numel()));
  kernels::exact::binary(kernels::BinaryOp::div, a.data(), as, b.data(), bs, y.data(), ys);
  for (bool div : {false, true}) {
    INFO((div ? "div" : "mul") << " backward");
    std::vector<float> ra(a.size(), 0.5f), rb(b.size(), 0.5f), ea = ra, eb = rb;  // add to what is there
    auto run = [&](auto mul_bw, auto div_bw, std::vector<float>& da, std::vector<float>& db) {
      kernels::GradTarget ta{da.data(), as, false}, tb{db.data(), bs, false};
      if (div) div_bw(dy.data(), y.data(), ys, a.data(), as, b.data(), bs, ta, tb);
      else mul_bw(dy.data(), ys, a.data(), as, b.data(), bs, ta, tb);
    };
    run(kernels::readable::mul_backward, kernels::readable::div_backward, ra, rb);
    run(kernels::exact::mul_backward, kernels::exact::div_backward, ea, eb);
    check_close(ra, ea, 2e-6, 1e-6);
    check_close(rb, eb, 1e-5, 1e-4);  // sums of 1728 contributions, in two orders
  }
}

TEST_CASE("readable and exact kernels agree: sums, softmax rows, the nll and its backward", "[kernels][layers]") {
  Generator g(13);
  const Shape from{40, 7, 33};
  auto x = randn_vec(from.numel(), g);
  for (const Shape& to : {Shape{}, Shape{33}, Shape{40, 1, 1}, Shape{1, 7, 1}, Shape{7, 33}}) {
    INFO("sum to " << to.str());
    std::vector<float> r(static_cast<size_t>(to.numel())), e(r.size());
    kernels::readable::sum_to(x.data(), from, r.data(), to);
    kernels::exact::sum_to(x.data(), from, e.data(), to);
    check_close(r, e, 1e-5, 1e-4);
  }
  const int64_t R = 70, C = 27;
  auto logits = randn_vec(R * C, g, 4.0f), dy = randn_vec(R * C, g);
  std::vector<int64_t> t(static_cast<size_t>(R));
  for (int64_t i = 0; i < R; ++i) t[static_cast<size_t>(i)] = i % 9 == 4 ? -100 : (i * 7) % C;
  std::vector<float> r(static_cast<size_t>(R * C)), e(r.size()), lp(r.size());
  kernels::readable::softmax(logits.data(), r.data(), R, C);
  kernels::exact::softmax(logits.data(), e.data(), R, C);
  check_close(r, e, 1e-5, 1e-7);
  kernels::readable::log_softmax(logits.data(), r.data(), R, C);
  kernels::exact::log_softmax(logits.data(), e.data(), R, C);
  check_close(r, e, 1e-5, 1e-6);
  kernels::exact::log_softmax(logits.data(), lp.data(), R, C);
  CHECK(kernels::readable::nll_sum(lp.data(), t.data(), R, C, -100) ==
        Approx(kernels::exact::nll_sum(lp.data(), t.data(), R, C, -100)).epsilon(1e-5));
  kernels::readable::log_softmax_backward(dy.data(), lp.data(), r.data(), R, C, true);
  kernels::exact::log_softmax_backward(dy.data(), lp.data(), e.data(), R, C, true);
  check_close(r, e, 1e-5, 1e-5);
  kernels::readable::nll_log_softmax_backward(lp.data(), t.data(), 0.03f, r.data(), R, C, -100, true);
  kernels::exact::nll_log_softmax_backward(lp.data(), t.data(), 0.03f, e.data(), R, C, -100, true);
  check_close(r, e, 1e-5, 1e-8);
}

TEST_CASE("readable and exact kernels agree: products, plain and transposed, set and accumulated", "[kernels][layers]") {
  Generator g(14);
  struct Case {
    bool ta, tb;
    int64_t M, N, K;
  };
  for (const Case c : {Case{false, false, 32, 200, 30}, Case{false, true, 32, 30, 200}, Case{true, false, 30, 200, 32},
                       Case{false, false, 5000, 27, 27}, Case{true, false, 27, 27, 5000}}) {
    INFO("trans " << c.ta << c.tb << " M " << c.M << " N " << c.N << " K " << c.K);
    auto A = randn_vec(c.M * c.K, g), B = randn_vec(c.K * c.N, g);
    for (bool acc : {false, true}) {
      std::vector<float> r(static_cast<size_t>(c.M * c.N), 1.0f), e = r;
      kernels::readable::gemm(c.ta, c.tb, c.M, c.N, c.K, A.data(), B.data(), acc, r.data());
      kernels::exact::gemm(c.ta, c.tb, c.M, c.N, c.K, A.data(), B.data(), acc, e.data());
      check_close(r, e, 1e-5, 1e-3);  // sums of up to 5000 products of unit size
    }
  }
}

TEST_CASE("exact products have single-threaded OpenBLAS's bits on the kernel set in use", "[kernels][matmul]") {
  // kernels::exact::gemm computes some products itself, in the summation order of the OpenBLAS
  // kernel set in use (gemm_openblas.cpp: every shape on Prescott), and gives the rest to
  // cblas_sgemm. Either way each product must have cblas_sgemm's bits — PyTorch's, since ATen calls
  // the same OpenBLAS. Shapes as the stages use them (forward, dout · Wᵀ, xᵀ · dout) and random ones
  // that cover every leftover tile (M, N mod 8), the K blocks (K > 128, > 256: split in halves) and
  // OpenBLAS's column blocks (N > 896); set and accumulated. Run the suite with
  // OPENBLAS_CORETYPE=Prescott / Haswell / SkylakeX / Cooperlake to see each path.
  const int threads = blas::num_threads();
  blas::set_num_threads(1);
  const char* own = kernels::exact::gemm_openblas_order_kernel();
  INFO("OpenBLAS kernel set: " << blas::core_name() << ", own kernels: " << (own ? own : "none"));
  // With the OpenBLAS whose order they reproduce (0.3.21, Debian 12's), the own kernels must be in
  // use on these kernel sets, so that they are what is tested here; with another version they may
  // have found the order changed (gemm_openblas.cpp checks once) and left every product to BLAS.
  const std::string core = blas::core_name();
  INFO(blas::config());
  if ((core == "Prescott" || core == "Haswell") && blas::config().rfind("OpenBLAS 0.3.21 ", 0) == 0)
    CHECK(own != nullptr);
  std::vector<GemmCase> cases;
  for (const auto& [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{512, 64, 64}, {512, 65, 64}, {512, 256, 64},
                               {32, 27, 128}, {128, 128, 48}, {1024, 384, 1536}, {40, 1000, 300}}) {
    cases.push_back({false, true, M, N, K});   // x · Wᵀ (linear forward)
    cases.push_back({false, false, M, K, N});  // dout · W
    cases.push_back({true, false, N, K, M});   // doutᵀ · x
  }
  std::mt19937 pick(2024);
  for (int i = 0; i < 60; ++i) {
    auto upto = [&](int64_t n) { return 1 + static_cast<int64_t>(pick() % static_cast<uint32_t>(n)); };
    const bool small = i % 3 == 0;
    cases.push_back({(pick() & 1) != 0, (pick() & 1) != 0, upto(small ? 40 : 600), upto(small ? 40 : 400),
                     upto(small ? 300 : 700)});
  }
  Generator g(15);
  for (const GemmCase& c : cases)
    for (bool acc : {false, true}) {
      INFO("trans " << c.ta << c.tb << " M " << c.M << " N " << c.N << " K " << c.K << " accumulate " << acc);
      CHECK(gemm_bits_differ(c, acc, g) == 0);
    }
  blas::set_num_threads(threads);
}

TEST_CASE("exact products on two OpenBLAS threads have two-thread OpenBLAS's bits", "[kernels][matmul]") {
  // With several threads OpenBLAS cuts a large product among them, and an element at the edge of a
  // thread's share can sum in another order than on one thread (a 65-wide side does). kernels::exact
  // checks each shape once against cblas_sgemm and computes the shapes that agree itself, their rows
  // shared among the threads: the first call and every later one must have cblas_sgemm's bits.
  // 07's shapes on 2048 rows (the cpu config: a 4-head, 128-wide model, 32 × 64 tokens, a 65-character
  // vocabulary) and a few odd ones.
  const int threads = blas::num_threads();
  blas::set_num_threads(2);
  std::vector<GemmCase> cases;
  for (const auto& [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{2048, 128, 128}, {2048, 65, 128}, {2048, 512, 128},
                               {2048, 32, 128}, {1000, 77, 300}, {37, 500, 400}}) {
    cases.push_back({false, true, M, N, K});   // x · Wᵀ (linear forward)
    cases.push_back({false, false, M, K, N});  // dout · W
    cases.push_back({true, false, N, K, M});   // doutᵀ · x
  }
  Generator g(16);
  for (const GemmCase& c : cases)
    for (bool acc : {false, true})
      for (int call = 0; call < 2; ++call) {  // the shape's check, then its verdict
        INFO("trans " << c.ta << c.tb << " M " << c.M << " N " << c.N << " K " << c.K << " accumulate " << acc
                      << " call " << call);
        CHECK(gemm_bits_differ(c, acc, g) == 0);
      }
  blas::set_num_threads(threads);
}

TEST_CASE("gemm_ld on blocks of wider matrices has gemm's bits and writes only its block", "[kernels][matmul]") {
  // 07's batched attention reads each head's q, k, v as columns of a wider matrix and writes each
  // product into its columns of another: the product's bits must not depend on where it lives.
  // Shapes as 07 uses them (a (512, 16) slice of (512, 192), q kᵀ and wei @ v per head) and random
  // ones; on one and on two OpenBLAS threads (the threaded path shares C's rows).
  const int threads = blas::num_threads();
  std::vector<GemmCase> cases{{false, true, 512, 16, 64}, {true, false, 16, 64, 512}, {false, false, 512, 64, 16},
                              {false, false, 32, 32, 16}, {false, false, 32, 16, 32}, {false, true, 2048, 128, 128}};
  std::mt19937 pick(7);
  for (int i = 0; i < 30; ++i) {
    auto upto = [&](int64_t n) { return 1 + static_cast<int64_t>(pick() % static_cast<uint32_t>(n)); };
    cases.push_back({(pick() & 1) != 0, (pick() & 1) != 0, upto(300), upto(200), upto(300)});
  }
  Generator g(17);
  for (int t : {1, 2}) {
    blas::set_num_threads(t);
    for (const GemmCase& c : cases)
      for (bool acc : {false, true}) {
        INFO(t << " thread(s), trans " << c.ta << c.tb << " M " << c.M << " N " << c.N << " K " << c.K << " accumulate " << acc);
        // the stored matrices: A (M, K) or (K, M), B (K, N) or (N, K), C (M, N); each also inside a
        // wider one, 3 to 17 columns more, at a column offset, its other entries NaN
        const int64_t ar = c.ta ? c.K : c.M, ac = c.ta ? c.M : c.K, br = c.tb ? c.N : c.K, bc = c.tb ? c.K : c.N;
        const auto A = randn_vec(ar * ac, g), B = randn_vec(br * bc, g), C0 = randn_vec(c.M * c.N, g);
        const int64_t lda = ac + 3 + static_cast<int64_t>(pick() % 15), ldb = bc + 3 + static_cast<int64_t>(pick() % 15),
                      ldc = c.N + 3 + static_cast<int64_t>(pick() % 15), off = 2;
        auto widen = [&](const std::vector<float>& m, int64_t rows, int64_t cols, int64_t ld) {
          std::vector<float> w(static_cast<size_t>(rows * ld + off), std::numeric_limits<float>::quiet_NaN());
          for (int64_t r = 0; r < rows; ++r)
            std::copy_n(m.begin() + r * cols, cols, w.begin() + r * ld + off);
          return w;
        };
        const auto Aw = widen(A, ar, ac, lda), Bw = widen(B, br, bc, ldb);
        for (const bool exact : {true, false}) {
          INFO((exact ? "exact" : "readable"));
          std::vector<float> ref = C0, Cw = widen(C0, c.M, c.N, ldc);
          const auto gemm = exact ? kernels::exact::gemm : kernels::readable::gemm;
          const auto gemm_ld = exact ? kernels::exact::gemm_ld : kernels::readable::gemm_ld;
          gemm(c.ta, c.tb, c.M, c.N, c.K, A.data(), B.data(), acc, ref.data());
          gemm_ld(c.ta, c.tb, c.M, c.N, c.K, Aw.data() + off, lda, Bw.data() + off, ldb, acc, Cw.data() + off, ldc);
          int64_t differ = 0, touched = 0;
          for (int64_t i = 0; i < static_cast<int64_t>(Cw.size()); ++i) {
            const int64_t r = (i - off) / ldc, j = (i - off) % ldc;
            if (i >= off && j < c.N) differ += std::memcmp(&Cw[static_cast<size_t>(i)], &ref[static_cast<size_t>(r * c.N + j)], sizeof(float)) != 0;
            else touched += !std::isnan(Cw[static_cast<size_t>(i)]);
          }
          CHECK(differ == 0);
          CHECK(touched == 0);
        }
      }
  }
  blas::set_num_threads(threads);
}

TEST_CASE("exact softmax: a row's first n >= 8 entries have the bits of the row continued by -inf", "[kernels][softmax]") {
  // 07's causal attention runs the softmax on each row's unmasked prefix (at least 8 long) and sets
  // the rest to 0: that must give the bits of PyTorch's kernel on the whole row, -inf past the prefix.
  Generator g(18);
  for (int64_t n = 8; n <= 70; ++n)
    for (int64_t more : {1, 7, 8, 9, 23})
      for (int64_t masked : {0, 5}) {  // the prefix's last entries may be masked too (a causal row i < 7)
        INFO("prefix " << n << " of " << n + more << ", its last " << masked << " masked");
        auto row = randn_vec(n + more, g, 3.0f);
        for (int64_t j = n - masked; j < n + more; ++j) row[static_cast<size_t>(j)] = -std::numeric_limits<float>::infinity();
        std::vector<float> whole(row.size()), prefix(row.size(), 0.0f);
        kernels::exact::softmax(row.data(), whole.data(), 1, n + more);
        kernels::exact::softmax(row.data(), prefix.data(), 1, n);
        CHECK(std::memcmp(whole.data(), prefix.data(), whole.size() * sizeof(float)) == 0);
      }
}
#endif
