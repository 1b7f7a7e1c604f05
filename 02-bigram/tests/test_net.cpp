// The neural bigram on common/'s tensors: the "emma" numbers, training, sampling, other seeds.
#include "02-bigram/tests/support.hpp"

#include <cmath>

#include "02-bigram/net.hpp"
#include "common/tensor/blas.hpp"

using namespace bigram;
using bigram::test::golden;
using bigram::test::names;
using z2h::LongTensor;
using z2h::Shape;
using z2h::Tensor;

namespace {

Tensor init_W(uint64_t seed) {
  z2h::Generator g(seed);
  Tensor W = z2h::randn(Shape{V, V}, g);
  W.requires_grad_();
  return W;
}

std::vector<int64_t> first5(const std::vector<int64_t>& v) { return {v.begin(), v.begin() + 5}; }

std::vector<double> train_fresh(uint64_t seed, int64_t steps, Forward f, Tensor* W_out = nullptr) {
  // One OpenBLAS thread, as the program's default --threads 1 and the goldens' reference.py: the
  // (228146, 27) products sum over rows, and more threads split that sum in other places.
  z2h::blas::set_num_threads(1);
  Tensor W = init_W(seed);
  auto losses = train(W, as_long(names().ex.xs), as_long(names().ex.ys), steps, 50.0f, 0.01f, f);
  if (W_out) *W_out = W;
  return losses;
}

}  // namespace

TEST_CASE("emma: the untrained net's mean NLL is 3.7693049907684326, and each p and nll is torch's", "[net][lecture]") {
  const auto G = golden("lecture.json");
  const Breakdown b = breakdown(init_W(2147483647), first5(names().ex.xs), first5(names().ex.ys));
  CHECK(b.loss == 3.7693049907684326f);
  CHECK(double(b.loss) == 3.7693049907684326);
  // torch 1.13.1's numbers on x86 (AVX2 randn kernel), to the bit: common/'s exp and log are the
  // SLEEF functions torch calls and counts.sum(1, keepdims=True) adds each row in torch's
  // vectorised order, in float (common/tensor/kernels/exact/vec_math.hpp, ops_reduce.cpp).
  for (size_t i = 0; i < 5; ++i) {
    INFO("example " << i + 1 << " " << G["emma"][i]["bigram"].get<std::string>());
    CHECK(b.p[i] == G["emma"][i]["p"].get<float>());
    CHECK(b.nll[i] == G["emma"][i]["nll"].get<float>());
  }
}

TEST_CASE("the one-hot row times W is exactly row xs of W", "[net][E04]") {
  const Tensor W = init_W(2147483647);
  const LongTensor xs = as_long(names().ex.xs);
  const Tensor a = z2h::matmul(z2h::one_hot(xs, V), W);
  const Tensor b = W[xs];
  REQUIRE(a.shape() == b.shape());
  int64_t different = 0;
  for (int64_t i = 0; i < a.numel(); ++i) different += a.data()[i] != b.data()[i];
  CHECK(different == 0);
}

TEST_CASE("fused cross_entropy gives the unfused loss and the same gradient", "[net][E05]") {
  const LongTensor xs = as_long(names().ex.xs), ys = as_long(names().ex.ys);
  Tensor W1 = init_W(2147483647), W2 = init_W(2147483647);
  Tensor manual = loss_fn(W1, xs, ys, 0.01f, Forward::onehot);
  Tensor fused = loss_fn(W2, xs, ys, 0.01f, Forward::fused);
  CHECK(manual.item() == Approx(3.768618583679199).margin(1e-6));  // torch's step-0 loss
  CHECK(fused.item() == Approx(manual.item()).margin(1e-6));
  manual.backward();
  fused.backward();
  double max_diff = 0;
  for (int64_t i = 0; i < W1.numel(); ++i)
    max_diff = std::max(max_diff, std::abs(double(W1.grad().data()[i]) - double(W2.grad().data()[i])));
  // Not bit-equal: the one-hot path sums each gradient row over 228146 examples inside the BLAS
  // matmul, the fused path adds them one by one; float32 sums of that many terms differ by ~1e-5.
  CHECK(max_diff < 5e-5);
}

TEST_CASE("100 full-batch steps are PyTorch's losses to the bit, step 99 is 2.4901304244995117", "[net][lecture]") {
  const auto G = golden("lecture.json");
  const auto expected = G["losses"].get<std::vector<double>>();
  Tensor W;
  const auto losses = train_fresh(2147483647, 100, Forward::onehot, &W);
  REQUIRE(losses.size() == 100);
  // common/ computes PyTorch's kernels (SLEEF exp/log, ATen's sum orders, autograd's rounding of
  // each gradient), so every step's loss is the same float, not merely a close one.
  int differing = 0;
  for (size_t k = 0; k < 100; ++k) differing += losses[k] != expected[k];
  CHECK(differing == 0);
  CHECK(losses[99] == 2.4901304244995117);
  // The trained net samples PyTorch's names (the generator re-seeded, as the lecture does):
  // mor. axx. minaymoryles. kondmaisah. anchthizarie.
  z2h::Generator g(2147483647);
  CHECK(sample_net(W.detach(), 5, 1, g, names().vocab) == G["samples_neural"].get<std::vector<std::string>>());
  // And it has learned (nearly) the counts model's table: what follows '.' is within 0.01 of P[0].
  const auto P = probabilities(count(names().ex, V), 1.0);
  const Tensor probs = probs_of(W.detach(), as_long({0}));
  double worst_p = 0;
  for (int c = 0; c < V; ++c) worst_p = std::max(worst_p, std::abs(double(probs.data()[c]) - P[size_t(c)]));
  CHECK(worst_p < 0.01);
}

// (Their names from the net after 20 steps are checked through the program in test_cli.cpp.)
TEST_CASE("other seeds give PyTorch's names, emma loss and training losses", "[net][seeds]") {
  const auto G = golden("seeds.json");
  const auto P = probabilities(count(names().ex, V), 1.0);
  for (const auto& [seed_str, E] : G["seeds"].items()) {
    const uint64_t seed = std::stoull(seed_str);
    INFO("seed " << seed);
    z2h::Generator g(seed);
    CHECK(sample_names(10, 1, [&](int64_t r) { return P.data() + r * V; }, g, names().vocab) ==
          E["samples_counts"].get<std::vector<std::string>>());
    const Breakdown b = breakdown(init_W(seed), first5(names().ex.xs), first5(names().ex.ys));
    CHECK(b.loss == Approx(E["emma_loss"].get<double>()).margin(1e-6));
    const auto losses = train_fresh(seed, 10, Forward::onehot);  // the goldens have 20; 10 keep the test fast
    const auto expected = E["losses"].get<std::vector<double>>();
    for (size_t k = 0; k < losses.size(); ++k) CHECK(losses[k] == expected[k]);  // to the bit
  }
}
