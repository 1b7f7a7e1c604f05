// One full training step of the lecture-3 MLP, timed with Google Benchmark:
//   ix = randint(0, N, (32,), g); emb = C[X[ix]]                    (32, 3, 10)
//   h = tanh(emb.view(-1, 30) @ W1 + b1)                            (32, 200)
//   logits = h @ W2 + b2; loss = cross_entropy(logits, Y[ix])       (32, 27) -> ()
//   p.grad = None; loss.backward(); p.data += -0.1 * p.grad         (11897 parameters)
// The PyTorch twin is bench_mlp_step.py; results and command lines are in docs/benchmarks.md.
//   build/release/bin/bench_mlp_step --benchmark_min_time=3
#include <benchmark/benchmark.h>

#include "common/tensor/blas.hpp"
#include "common/rng/generator.hpp"
#include "common/tensor/ops.hpp"
#include "common/nn/optim.hpp"
#include "common/tensor/kernels/exact/vec_math.hpp"

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

// The floor of a step that computes PyTorch's bits: what `matmul` does for the six products of a
// step (forward emb@W1, h@W2; backward dW2 = hᵀ·dlogits, dh = dlogits·W2ᵀ, dW1 = embᵀ·dpre,
// demb = dpre·W1ᵀ — OpenBLAS, the calls ATen makes) and SLEEF's tanh over the 32×200
// pre-activations, with nothing else: no graph, no allocation, no other op.
void BM_Lecture3ProductsAndTanhOnly(benchmark::State& state) {
  blas::set_num_threads(1);
  Generator g(2147483647);
  const int64_t B = 32, I = 30, H = 200, V = 27;
  Tensor emb = randn({B, I}, g), W1 = randn({I, H}, g), W2 = randn({H, V}, g), dlogits = randn({B, V}, g);
  Tensor pre = empty({B, H}), h = empty({B, H}), logits = empty({B, V}), dW2 = empty({H, V}),
         dh = empty({B, H}), dW1 = empty({I, H}), demb = empty({B, I});
  for (auto _ : state) {
    blas::sgemm(false, false, B, H, I, 1.0f, emb.data(), W1.data(), 0.0f, pre.data());
    vec::tanh(pre.data(), h.data(), B * H);
    blas::sgemm(false, false, B, V, H, 1.0f, h.data(), W2.data(), 0.0f, logits.data());
    blas::sgemm(true, false, H, V, B, 1.0f, h.data(), dlogits.data(), 0.0f, dW2.data());
    blas::sgemm(false, true, B, H, V, 1.0f, dlogits.data(), W2.data(), 0.0f, dh.data());
    blas::sgemm(true, false, I, H, B, 1.0f, emb.data(), dh.data(), 0.0f, dW1.data());
    blas::sgemm(false, true, B, I, H, 1.0f, dh.data(), W1.data(), 0.0f, demb.data());
    benchmark::DoNotOptimize(demb.data());
  }
}
BENCHMARK(BM_Lecture3ProductsAndTanhOnly)->Unit(benchmark::kMicrosecond);

// SLEEF's tanh alone over the 32×200 pre-activations (PyTorch's tanh, see common/tensor/kernels/exact/vec_math.hpp).
void BM_Lecture3TanhOnly(benchmark::State& state) {
  Generator g(2147483647);
  Tensor pre = randn({32, 200}, g), h = empty({32, 200});
  for (auto _ : state) {
    vec::tanh(pre.data(), h.data(), pre.numel());
    benchmark::DoNotOptimize(h.data());
  }
}
BENCHMARK(BM_Lecture3TanhOnly)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
