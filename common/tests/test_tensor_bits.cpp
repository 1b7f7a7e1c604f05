// common/tests/test_tensor_bits.cpp — the kernels that reproduce PyTorch 1.13.1's CPU arithmetic
// give its bits: exp/log/tanh (SLEEF, vec_math.hpp), sum/mean (SumKernel.cpp's cascade), the
// gradient of a broadcast bias, softmax/log_softmax and cross_entropy, forward and backward.
// Goldens: /usr/bin/python3 common/tests/make_bits_goldens.py (goldens/tensor_bits.json). The
// inputs are drawn again here with common/'s PyTorch generator; their float64 sums are checked
// first, so a failure below is the kernel's, not the input's.
#include <catch2/catch.hpp>

#include <cstring>
#include <sstream>

#include "common/rng/generator.hpp"
#include "common/tensor/ops.hpp"
#include "tensor_test_support.hpp"

using namespace z2h;
using z2h::test::json;

namespace {

const json& goldens() {
  static const json j = z2h::test::load_golden("tensor_bits.json");
  return j;
}

double sum_of(const Tensor& t) {
  double s = 0;
  for (int64_t i = 0; i < t.numel(); ++i) s += t.data()[i];
  return s;
}

// "" when every float of `actual` has the bits of the golden's; otherwise the first differences.
std::string bit_diff(const Tensor& actual, const json& expected) {
  if (!actual.defined()) return "undefined tensor";
  if (static_cast<size_t>(actual.numel()) != expected.size())
    return "size " + std::to_string(actual.numel()) + " vs golden " + std::to_string(expected.size());
  std::ostringstream os;
  int bad = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const float a = actual.data()[i], e = expected[i].get<float>();
    if (std::memcmp(&a, &e, sizeof a) != 0 && ++bad <= 3)
      os << " [" << i << "] " << a << " vs torch " << e << ";";
  }
  if (bad == 0) return "";
  return std::to_string(bad) + " of " + std::to_string(expected.size()) + " differ:" + os.str();
}

Tensor randn_scaled(Shape s, Generator& g, float scale) {
  Tensor t = randn(s, g);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] *= scale;  // randn(...) * scale, in float
  return t;
}

}  // namespace

TEST_CASE("exp, log and tanh have PyTorch's bits (SLEEF), and so has tanh's backward", "[tensor][bits]") {
  for (const json& c : goldens()["elementwise"]) {
    const int64_t n = c["n"];
    INFO("n = " << n);
    Generator g(c["seed"].get<uint64_t>());
    Tensor x = randn_scaled(Shape{n}, g, 3.0f);
    Tensor w = randn(Shape{n}, g);
    REQUIRE(sum_of(x) == c["x_sum"].get<double>());
    REQUIRE(sum_of(w) == c["w_sum"].get<double>());
    CHECK(bit_diff(exp(x), c["exp"]) == "");
    Tensor ax = empty(x.shape());
    for (int64_t i = 0; i < n; ++i) ax.data()[i] = std::abs(x.data()[i]) + 1e-3f;
    CHECK(bit_diff(log(ax), c["log"]) == "");
    Tensor xg = x.detach().requires_grad_();
    Tensor y = tanh(xg);
    CHECK(bit_diff(y, c["tanh"]) == "");
    y.backward(w);
    CHECK(bit_diff(xg.grad(), c["tanh_grad"]) == "");
  }
}

TEST_CASE("sum and mean add in PyTorch's order, in float (every cascade_sum kernel)", "[tensor][bits]") {
  for (const json& c : goldens()["sums"]) {
    const Shape s(c["shape"].get<std::vector<int64_t>>());
    const Dims dims(c["dims"].get<std::vector<int64_t>>());
    const bool keepdim = c["keepdim"], is_mean = c["mean"];
    INFO((is_mean ? "mean" : "sum") << " of " << s.str() << " over " << dims.str() << (keepdim ? " keepdim" : ""));
    Generator g(c["seed"].get<uint64_t>());
    Tensor x = randn_scaled(s, g, 2.0f);
    REQUIRE(sum_of(x) == c["x_sum"].get<double>());
    Tensor y = dims.ndim() == 0 ? (is_mean ? mean(x) : sum(x))
                                : (is_mean ? mean(x, dims, keepdim) : sum(x, dims, keepdim));
    CHECK(bit_diff(y, c["out"]) == "");
  }
}

TEST_CASE("a broadcast bias gets PyTorch's gradient bits (grad.sum(0))", "[tensor][bits]") {
  for (const json& c : goldens()["bias_grads"]) {
    const int64_t n = c["n"], k = c["c"];
    INFO("(" << n << ", " << k << ") + (" << k << ")");
    Generator g(c["seed"].get<uint64_t>());
    Tensor x = randn(Shape{n, k}, g);
    Tensor b = randn(Shape{k}, g).requires_grad_();
    Tensor w = randn(Shape{n, k}, g);
    REQUIRE(sum_of(w) == c["w_sum"].get<double>());
    (x + b).backward(w);
    CHECK(bit_diff(b.grad(), c["grad"]) == "");
  }
}

TEST_CASE("softmax and log_softmax have PyTorch's bits; log_softmax's backward too", "[tensor][bits]") {
  for (const json& c : goldens()["softmax"]) {
    const int64_t r = c["r"], k = c["c"];
    INFO("(" << r << ", " << k << ")");
    Generator g(c["seed"].get<uint64_t>());
    Tensor x = randn_scaled(Shape{r, k}, g, 4.0f);
    Tensor w = randn(Shape{r, k}, g);
    REQUIRE(sum_of(x) == c["x_sum"].get<double>());
    REQUIRE(sum_of(w) == c["w_sum"].get<double>());
    CHECK(bit_diff(softmax(x, 1), c["softmax"]) == "");
    Tensor xl = x.detach().requires_grad_();
    Tensor y = log_softmax(xl, 1);
    CHECK(bit_diff(y, c["log_softmax"]) == "");
    y.backward(w);
    CHECK(bit_diff(xl.grad(), c["log_softmax_grad"]) == "");
  }
}

TEST_CASE("cross_entropy's loss and gradient have PyTorch's bits, ignored targets included", "[tensor][bits]") {
  for (const json& c : goldens()["cross_entropy"]) {
    const int64_t n = c["n"], k = c["c"], ignored = c["ignored"];
    INFO("(" << n << ", " << k << "), " << ignored << " ignored");
    Generator g(c["seed"].get<uint64_t>());
    Tensor x = randn_scaled(Shape{n, k}, g, 3.0f).requires_grad_();
    LongTensor t = randint(0, k, Shape{n}, g);
    REQUIRE(sum_of(x) == c["x_sum"].get<double>());
    for (int64_t i = 0; i < ignored; ++i) t.data[static_cast<size_t>(i)] = -100;
    REQUIRE(t.data == c["targets"].get<std::vector<int64_t>>());
    Tensor loss = cross_entropy(x, t);
    CHECK(bit_diff(loss, json::array({c["loss"]})) == "");
    loss.backward(scalar_tensor(0.75f));
    CHECK(bit_diff(x.grad(), c["grad"]) == "");
  }
}
