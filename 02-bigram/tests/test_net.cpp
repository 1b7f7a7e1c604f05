// The neural bigram on common/'s tensors: the "emma" numbers, training, sampling, other seeds.
#include "02-bigram/tests/support.hpp"

#include <cmath>

#include "02-bigram/net.hpp"

using namespace bigram;
using bigram::test::golden;
using bigram::test::goldens;
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
  Tensor W = init_W(seed);
  auto losses = train(W, as_long(names().ex.xs), as_long(names().ex.ys), steps, 50.0f, 0.01f, f);
  if (W_out) *W_out = W;
  return losses;
}

}  // namespace

TEST_CASE("emma: the untrained net's mean NLL is 3.7693049907684326, and each p and nll is torch's", "[net][lecture]") {
  const auto G = golden("lecture.json");
  const Breakdown b = breakdown(init_W(2147483647), first5(names().ex.xs), first5(names().ex.ys));
  // torch 1.13.1's numbers on x86 (AVX2 randn kernel), to the bit: common/'s exp and log are the
  // SLEEF functions torch calls and counts.sum(1, keepdims=True) adds each row in torch's
  // vectorised order, in float (common/tensor/kernels/exact/vec_math.hpp, ops_reduce.cpp). The one-hot product goes
  // through OpenBLAS: on another kernel set than the goldens', within 1e-6 (measured: identical).
  z2h::test::check_value(b.loss, G["emma_loss"], goldens(), 1e-6, "emma loss");
  z2h::test::check_value(b.loss, 3.7693049907684326, goldens(), 1e-6, "emma loss, the lecture's");
  for (size_t i = 0; i < 5; ++i) {
    const std::string bigram = G["emma"][i]["bigram"].get<std::string>();
    z2h::test::check_value(b.p[i], G["emma"][i]["p"].get<float>(), goldens(), 1e-6, "p of " + bigram);
    z2h::test::check_value(b.nll[i], G["emma"][i]["nll"].get<float>(), goldens(), 1e-6, "nll of " + bigram);
  }
}

TEST_CASE("emma: gradient descent on its 5 bigrams alone gives the lecture's losses", "[net][lecture]") {
  // The lecture's first training loop, on xs = [0, 5, 13, 13, 1], ys = [5, 13, 13, 1, 0] only, lr 0.1:
  // loss.item() before each update, as the notebook printed them (cell 52 shows the fifth).
  Tensor W = init_W(2147483647);
  W.requires_grad_();
  const auto losses = train(W, as_long(first5(names().ex.xs)), as_long(first5(names().ex.ys)), 5, 0.1f, 0.0f,
                            Forward::onehot);
  const double lecture[] = {3.7693049907684326, 3.7492127418518066, 3.7291626930236816, 3.7091546058654785,
                            3.6891887187957764};
  REQUIRE(losses.size() == 5);
  for (size_t k = 0; k < 5; ++k)
    z2h::test::check_value(losses[k], lecture[k], goldens(), 1e-6, "emma loss before update " + std::to_string(k));
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
  // each gradient), so every step's loss is the same float, not merely a close one — on the same
  // OpenBLAS kernel set. On another, within 1e-5 (measured between Prescott, Haswell and SkylakeX:
  // at most 4.8e-7; full-batch descent does not amplify it).
  z2h::test::check_losses(losses, G["losses"], goldens(), {.steps = 100, .tol = 1e-5}, "100 full-batch steps");
  z2h::test::check_value(losses[99], 2.4901304244995117, goldens(), 1e-5, "step 99, the lecture's");
  // The trained net samples PyTorch's names (the generator re-seeded, as the lecture does):
  // mor. axx. minaymoryles. kondmaisah. anchthizarie.
  z2h::Generator g(2147483647);
  z2h::test::check_samples(sample_net(W.detach(), 5, 1, g, names().vocab), G["samples_neural"], goldens(), 5, "5 names");
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
    auto first10 = E["losses"].get<std::vector<double>>();
    first10.resize(losses.size());
    z2h::test::check_losses(losses, nlohmann::json(first10), goldens(), {.steps = 10, .tol = 1e-5}, "seed " + seed_str);
  }
}
