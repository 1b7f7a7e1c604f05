// common/tests/test_tensor_bits_nn.cpp — layer_norm (forward and backward), softmax's backward and
// AdamW's update give PyTorch 1.13.1's bits: the kernels of common/tensor/kernels/exact/layer_norm.cpp,
// directly and through the autograd ops z2h::layer_norm / z2h::softmax, and optim::AdamW.
// Goldens: /usr/bin/python3 common/tests/make_bits_nn_goldens.py (goldens/tensor_bits_nn.json).
// The inputs are drawn again here with common/'s PyTorch generator; their float64 sums are checked
// first, so a failure below is the kernel's, not the input's.
#include <catch2/catch.hpp>

#include <cstring>
#include <sstream>
#include <vector>

#include "common/rng/generator.hpp"
#include "common/tensor/kernels/exact/layer_norm.hpp"
#include "common/nn/optim.hpp"
#include "common/tensor/ops.hpp"
#include "tensor_test_support.hpp"

using namespace z2h;
using z2h::test::json;

namespace {

const json& goldens() {
  static const json j = z2h::test::load_golden("tensor_bits_nn.json");
  return j;
}

double sum_of(const float* p, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += p[i];
  return s;
}

// "" when every float has the golden's bits; otherwise how many differ and the first few.
std::string bit_diff(const float* actual, int64_t n, const json& expected) {
  if (static_cast<size_t>(n) != expected.size())
    return "size " + std::to_string(n) + " vs golden " + std::to_string(expected.size());
  std::ostringstream os;
  int bad = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const float a = actual[i], e = expected[i].get<float>();
    if (std::memcmp(&a, &e, sizeof a) != 0 && ++bad <= 3) os << " [" << i << "] " << a << " vs torch " << e << ";";
  }
  if (bad == 0) return "";
  return std::to_string(bad) + " of " + std::to_string(expected.size()) + " differ:" + os.str();
}
std::string bit_diff(const Tensor& t, const json& expected) {
  if (!t.defined()) return "undefined tensor";
  return bit_diff(t.data(), t.numel(), expected);
}

// randn(shape) * scale + shift, in float, as the golden script's tensor arithmetic
Tensor drawn(Shape s, Generator& g, float scale, float shift) {
  Tensor t = randn(s, g);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float v = t.data()[i] * scale;
    t.data()[i] = v + shift;
  }
  return t;
}

}  // namespace

TEST_CASE("layer_norm's kernel has PyTorch's bits: y, then dx, dgamma and dbeta", "[tensor][bits][layer_norm]") {
  for (const json& c : goldens()["layer_norm"]) {
    const int64_t R = c["r"], C = c["c"];
    INFO("(" << R << ", " << C << ")");
    Generator g(c["seed"].get<uint64_t>());
    Tensor x = drawn(Shape{R, C}, g, 2.0f, 0.5f), w = drawn(Shape{C}, g, 0.3f, 1.0f), b = drawn(Shape{C}, g, 0.1f, 0.0f);
    Tensor dy = randn(Shape{R, C}, g);
    REQUIRE(sum_of(x.data(), x.numel()) == c["x_sum"].get<double>());
    REQUIRE(sum_of(w.data(), C) == c["w_sum"].get<double>());
    REQUIRE(sum_of(b.data(), C) == c["b_sum"].get<double>());
    REQUIRE(sum_of(dy.data(), dy.numel()) == c["dy_sum"].get<double>());
    std::vector<float> y(static_cast<size_t>(R * C)), mean(static_cast<size_t>(R)), rstd(static_cast<size_t>(R));
    kernels::exact::layer_norm_forward(x.data(), w.data(), b.data(), R, C, 1e-5f, y.data(), mean.data(), rstd.data());
    CHECK(bit_diff(y.data(), R * C, c["y"]) == "");
    std::vector<float> dx(static_cast<size_t>(R * C)), dw(static_cast<size_t>(C)), db(static_cast<size_t>(C));
    kernels::exact::layer_norm_backward(dy.data(), x.data(), mean.data(), rstd.data(), w.data(), R, C, dx.data(),
                                        dw.data(), db.data());
    CHECK(bit_diff(dx.data(), R * C, c["dx"]) == "");
    CHECK(bit_diff(dw.data(), C, c["dw"]) == "");
    CHECK(bit_diff(db.data(), C, c["db"]) == "");
  }
}

TEST_CASE("z2h::layer_norm has PyTorch's bits, forward and every gradient", "[tensor][bits][layer_norm]") {
  for (const json& c : goldens()["layer_norm"]) {
    const int64_t R = c["r"], C = c["c"];
    INFO("(" << R << ", " << C << ")");
    Generator g(c["seed"].get<uint64_t>());
    Tensor x = drawn(Shape{R, C}, g, 2.0f, 0.5f).requires_grad_();
    Tensor w = drawn(Shape{C}, g, 0.3f, 1.0f).requires_grad_();
    Tensor b = drawn(Shape{C}, g, 0.1f, 0.0f).requires_grad_();
    Tensor dy = randn(Shape{R, C}, g);
    REQUIRE(sum_of(dy.data(), dy.numel()) == c["dy_sum"].get<double>());
    Tensor y = layer_norm(x, w, b, 1e-5f);
    CHECK(bit_diff(y, c["y"]) == "");
    y.backward(dy);
    CHECK(bit_diff(x.grad(), c["dx"]) == "");
    CHECK(bit_diff(w.grad(), c["dw"]) == "");
    CHECK(bit_diff(b.grad(), c["db"]) == "");
  }
}

TEST_CASE("softmax's backward has PyTorch's bits (map2_reduce_all's order, fused)", "[tensor][bits][softmax]") {
  for (const json& c : goldens()["softmax_backward"]) {
    const int64_t R = c["r"], C = c["c"];
    INFO("(" << R << ", " << C << ")");
    Generator g(c["seed"].get<uint64_t>());
    Tensor x = drawn(Shape{R, C}, g, 3.0f, 0.0f);
    Tensor dy = randn(Shape{R, C}, g);
    REQUIRE(sum_of(x.data(), x.numel()) == c["x_sum"].get<double>());
    REQUIRE(sum_of(dy.data(), dy.numel()) == c["dy_sum"].get<double>());
    Tensor y = softmax(x, -1);
    REQUIRE(bit_diff(y, c["y"]) == "");  // the forward was already PyTorch's (test_tensor_bits.cpp)
    std::vector<float> dx(static_cast<size_t>(R * C));
    for (int64_t i = 0; i < R; ++i)
      kernels::exact::softmax_backward_row(dy.data() + i * C, y.data() + i * C, dx.data() + i * C, C);
    CHECK(bit_diff(dx.data(), R * C, c["dx"]) == "");
    Tensor xg = x.detach().requires_grad_();
    softmax(xg, -1).backward(dy);
    CHECK(bit_diff(xg.grad(), c["dx"]) == "");
  }
}

TEST_CASE("AdamW's update has PyTorch's bits: parameters and both moments, every step", "[optim][adamw][bits]") {
  for (const json& c : goldens()["adamw"]) {
    const int64_t n = c["n"];
    const json& o = c["options"];
    INFO("n = " << n << ", weight decay " << o["weight_decay"]);
    Generator g(c["seed"].get<uint64_t>());
    Tensor p = randn(Shape{n}, g);
    REQUIRE(sum_of(p.data(), n) == c["p0_sum"].get<double>());
    p.requires_grad_();
    optim::AdamW opt({p}, o["lr"].get<double>(), o["betas"][0].get<double>(), o["betas"][1].get<double>(),
                     o["eps"].get<double>(), o["weight_decay"].get<double>());
    int step = 0;
    for (const json& s : c["steps"]) {
      INFO("step " << ++step);
      Tensor grad = drawn(Shape{n}, g, 0.1f, 0.0f);
      p.zero_grad();
      sum(p * grad).backward();  // p.grad = grad
      opt.step();
      CHECK(bit_diff(p, s["p"]) == "");
      CHECK(bit_diff(opt.exp_avg[0], s["exp_avg"]) == "");
      CHECK(bit_diff(opt.exp_avg_sq[0], s["exp_avg_sq"]) == "");
    }
  }
}
