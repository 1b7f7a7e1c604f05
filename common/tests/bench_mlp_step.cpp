// One full training step of the lecture-3 MLP, timed with Google Benchmark:
//   ix = randint(0, N, (32,), g); emb = C[X[ix]]                    (32, 3, 10)
//   h = tanh(emb.view(-1, 30) @ W1 + b1)                            (32, 200)
//   logits = h @ W2 + b2; loss = cross_entropy(logits, Y[ix])       (32, 27) -> ()
//   p.grad = None; loss.backward(); p.data += -0.1 * p.grad         (11897 parameters)
// The PyTorch twin is bench_mlp_step.py; results and command lines are in docs/benchmarks.md.
//   build/release/bin/bench_mlp_step --benchmark_min_time=3
#include <benchmark/benchmark.h>

#include "common/blas.hpp"
#include "common/generator.hpp"
#include "common/ops.hpp"
#include "common/optim.hpp"

namespace {

using namespace z2h;

void BM_Lecture3MlpTrainingStep(benchmark::State& state) {
  blas::set_num_threads(1);
  Generator g(2147483647);
  // Parameters, as the lecture draws them.
  Tensor C = randn({27, 10}, g).requires_grad_();
  Tensor W1 = randn({30, 200}, g).requires_grad_();
  Tensor b1 = randn({200}, g).requires_grad_();
  Tensor W2 = randn({200, 27}, g).requires_grad_();
  Tensor b2 = randn({27}, g).requires_grad_();
  optim::SGD sgd({C, W1, b1, W2, b2}, 0.1);
  // A stand-in dataset of the lecture's shape: contexts of 3 characters and the next character.
  const int64_t N = 182625;
  LongTensor X = randint(0, 27, {N, 3}, g), Y = randint(0, 27, {N}, g);
  float last_loss = 0.0f;
  for (auto _ : state) {
    LongTensor ix = randint(0, N, {32}, g);
    Tensor emb = C[X[ix]];                                  // (32, 3, 10)
    Tensor h = tanh(matmul(emb.view({-1, 30}), W1) + b1);   // (32, 200)
    Tensor logits = matmul(h, W2) + b2;                     // (32, 27)
    Tensor loss = cross_entropy(logits, Y[ix]);
    sgd.zero_grad();
    loss.backward();
    sgd.step();
    last_loss = loss.item();
  }
  benchmark::DoNotOptimize(last_loss);
  state.counters["steps_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Lecture3MlpTrainingStep)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
