// The ops that share large inputs among the threads (parallel.hpp: element-wise arithmetic and
// relu, dropout, softmax, log_softmax, cross_entropy, layer_norm, AdamW): one, two and three
// threads give the same bits, forward and backward, on shapes above the sharing threshold whose
// rows and elements do not divide evenly among the threads; and dropout's mask is bernoulli_'s
// stream, element by element. (The one-thread results are the ones the golden tests check.)
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/nn/optim.hpp"
#include "common/rng/generator.hpp"
#include "common/tensor/blas.hpp"
#include "common/tensor/parallel.hpp"
#include "common/tests/tensor_test_support.hpp"

using namespace z2h;

namespace {

using Results = std::vector<std::vector<float>>;

std::vector<float> copy_of(const Tensor& t) { return std::vector<float>(t.data(), t.data() + t.numel()); }

// Runs f (which builds its inputs from a fixed seed and returns the tensors to compare) on
// `threads` threads, then restores the thread count.
Results run_on(int threads, const std::function<Results()>& f) {
  const int before = blas::num_threads();
  blas::set_num_threads(threads);
  Results r = f();
  blas::set_num_threads(before);
  return r;
}

// The number of elements whose bits differ between one thread and n threads, over all results.
void check_same_bits(const std::string& what, const std::function<Results()>& f) {
  const Results one = run_on(1, f);
  for (int n : {2, 3}) {
    const Results many = run_on(n, f);
    INFO(what << " on " << n << " threads");
    REQUIRE(many.size() == one.size());
    for (size_t k = 0; k < one.size(); ++k) {
      INFO("result " << k);
      REQUIRE(many[k].size() == one[k].size());
      size_t differ = 0;
      for (size_t i = 0; i < one[k].size(); ++i)
        differ += std::memcmp(&one[k][i], &many[k][i], sizeof(float)) != 0;
      CHECK(differ == 0);
    }
  }
}

// Rows and widths chosen so that every op is above the threshold and no share is even.
constexpr int64_t kB = 7, kT = 131, kC = 97;  // 7 · 131 · 97 = 88949 elements

}  // namespace

TEST_CASE("threads: the shared ops are large enough to be shared", "[threads]") {
  CHECK(kB * kT * kC >= parallel::kMinElements);
  const int before = blas::num_threads();
  blas::set_num_threads(3);
  CHECK(parallel::threads() == 3);  // otherwise the 3-thread runs below would test nothing new
  blas::set_num_threads(before);
}

TEST_CASE("threads: broadcasting arithmetic and relu give the same bits on 1, 2 and 3 threads", "[threads]") {
  using Op = Tensor (*)(const Tensor&, const Tensor&);
  const std::vector<std::pair<const char*, Op>> ops = {
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }},
      {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }},
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }},
      {"div", [](const Tensor& a, const Tensor& b) { return a / b; }}};
  // (a's shape, b's shape): the same shape, a row of the last dims, a column per row, a leading 1.
  const std::vector<std::pair<Shape, Shape>> shapes = {{Shape{kB, kT, kC}, Shape{kB, kT, kC}},
                                                       {Shape{kB, kT, kC}, Shape{kT, kC}},
                                                       {Shape{kB * kT, 1}, Shape{kB * kT, kC}},
                                                       {Shape{1, kC}, Shape{kB * kT, kC}},
                                                       {Shape{kB, 1, kC}, Shape{kB, kT, kC}},
                                                       {Shape{kB * kT * kC}, Shape{}}};
  for (const auto& [name, op] : ops)
    for (const auto& [as, bs] : shapes)
      check_same_bits(std::string(name) + " " + as.str() + " " + bs.str(), [&, op = op, as = as, bs = bs] {
        Generator g(11);
        Tensor a = randn(as, g).requires_grad_(), b = (randn(bs, g) + 3.0f).detach().requires_grad_();
        Tensor y = op(a, b);
        Tensor w = randn(y.shape(), g);
        sum(relu(y) * w).backward();
        return Results{copy_of(y), copy_of(a.grad()), copy_of(b.grad())};
      });
  // relu's backward adding into a gradient that already holds something (x used twice)
  check_same_bits("relu(x) + x", [] {
    Generator g(12);
    Tensor x = randn({kB, kT, kC}, g).requires_grad_();
    Tensor y = relu(x) + x;
    sum(y * randn(y.shape(), g)).backward();
    return Results{copy_of(y), copy_of(x.grad())};
  });
}

TEST_CASE("threads: dropout is bernoulli_'s stream, and the same bits on 1, 2 and 3 threads", "[threads]") {
  const float p = 0.2f;
  check_same_bits("dropout", [p] {
    Generator g(13), draws(99);
    Tensor x = randn({kB, kT, kC}, g).requires_grad_();
    Tensor y = dropout(x, p, true, draws);
    Tensor y2 = dropout(y, p, true, draws);  // a second mask from where the first left the stream
    sum(y2 * randn(y.shape(), g)).backward();
    return Results{copy_of(y), copy_of(y2), copy_of(x.grad())};
  });
  // element by element: y = x · (1/(1-p) where bernoulli_(1 - p) drew 1, else 0)
  Generator g(13), draws(99), ref(99);
  Tensor x = randn({kB, kT, kC}, g);
  Tensor y = dropout(x, p, true, draws);
  std::vector<float> keep(static_cast<size_t>(x.numel()));
  bernoulli_(keep.data(), keep.size(), 1.0 - static_cast<double>(p), ref);
  const float scale = 1.0f / (1.0f - p);
  size_t wrong = 0;
  for (int64_t i = 0; i < x.numel(); ++i) wrong += y.data()[i] != x.data()[i] * (keep[static_cast<size_t>(i)] != 0.0f ? scale : 0.0f);
  CHECK(wrong == 0);
  CHECK(draws.draws() == ref.draws());
}

TEST_CASE("threads: softmax, log_softmax, cross_entropy and layer_norm give the same bits on 1, 2 and 3 threads",
          "[threads]") {
  // a row-wise op's output and its input's gradient under a random upstream gradient
  auto row_op = [](uint64_t seed, Tensor (*op)(const Tensor&, int64_t)) {
    return [=] {
      Generator g(seed);
      Tensor x = randn({kB * kT, kC}, g).requires_grad_();
      Tensor y = op(x, -1);
      sum(y * randn(y.shape(), g)).backward();
      return Results{copy_of(y), copy_of(x.grad())};
    };
  };
  check_same_bits("softmax", row_op(14, softmax));
  check_same_bits("log_softmax", row_op(15, log_softmax));
  check_same_bits("cross_entropy", [] {
    Generator g(16);
    Tensor x = randn({kB * kT, kC}, g).requires_grad_();
    LongTensor t = randint(0, kC, {kB * kT}, g);
    for (size_t i = 0; i < t.data.size(); i += 5) t.data[i] = -100;  // some rows ignored
    Tensor loss = cross_entropy(x, t);
    loss.backward();
    return Results{copy_of(loss), copy_of(x.grad())};
  });
  check_same_bits("layer_norm", [] {
    Generator g(17);
    Tensor x = randn({kB, kT, kC}, g).requires_grad_();
    Tensor w = randn({kC}, g).requires_grad_(), b = randn({kC}, g).requires_grad_();
    Tensor y = layer_norm(x, w, b);
    sum(y * randn(y.shape(), g)).backward();
    return Results{copy_of(y), copy_of(x.grad()), copy_of(w.grad()), copy_of(b.grad())};
  });
}

TEST_CASE("threads: AdamW's steps give the same bits on 1, 2 and 3 threads", "[threads]") {
  check_same_bits("AdamW", [] {
    Generator g(18);
    Tensor big = randn({kB * kT, kC}, g).requires_grad_(), small = randn({kC}, g).requires_grad_();
    optim::AdamW opt({big, small}, 1e-2, 0.9, 0.999, 1e-8, 0.01);
    Tensor w = randn({kB * kT, kC}, g);
    for (int step = 0; step < 3; ++step) {
      opt.zero_grad();
      sum(big * big * w + small).backward();
      opt.step();
    }
    return Results{copy_of(big), copy_of(small)};
  });
}

// Two threads that run backward at the same time, each on a graph of its own (07-gpt's replicas),
// each get their graph's gradients: backward's marks of visited nodes are per thread, so one
// thread's pass never makes the other's visited nodes look new (which would run their rules twice).
TEST_CASE("threads: backward on two threads at once, each on its own graph, gives each graph's gradient", "[threads][autograd]") {
  // a deep graph where every node is used twice: y <- y * y + y, 200 times
  auto gradient_of = [](uint64_t seed) {
    Generator g(seed);
    Tensor x = (randn({64}, g) * 0.1f).requires_grad_();
    Tensor y = x;
    for (int i = 0; i < 200; ++i) y = y * y + y;
    sum(y).backward();
    return copy_of(x.grad());
  };
  const std::vector<float> want_a = gradient_of(1), want_b = gradient_of(2);
  int wrong_a = 0, wrong_b = 0;
  std::thread other([&] {
    for (int k = 0; k < 100; ++k) wrong_b += gradient_of(2) != want_b;
  });
  for (int k = 0; k < 100; ++k) wrong_a += gradient_of(1) != want_a;
  other.join();
  CHECK(wrong_a == 0);
  CHECK(wrong_b == 0);
}
