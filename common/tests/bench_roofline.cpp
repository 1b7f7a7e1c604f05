// The two measurements behind 02-bigram's roofline in docs/benchmarks.md, timed with Google Benchmark:
//   build/release/bin/bench_roofline --benchmark_min_time=2
// - BM_StreamTriad: c = a * b + c over three 228146×27 float arrays (25 MB each, lecture 2's
//   tensor size): the machine's streaming bandwidth, reported as bytes/s (4 streams: 3 reads, 1 write).
// - BM_RowSums: counts.sum(1, keepdim=True) for a (228146, 27) tensor, in PyTorch's order (torch_sum).
#include <benchmark/benchmark.h>

#include "common/rng/generator.hpp"
#include "common/tensor/ops_internal.hpp"

namespace {

using namespace z2h;
constexpr int64_t kRows = 228146, kCols = 27;

void BM_StreamTriad(benchmark::State& state) {
  Generator g(1);
  Tensor a = rand({kRows, kCols}, g), b = rand({kRows, kCols}, g), c = rand({kRows, kCols}, g);
  float *av = a.data(), *bv = b.data(), *cv = c.data();
  const int64_t n = a.numel();
  for (auto _ : state) {
    for (int64_t i = 0; i < n; ++i) cv[i] = av[i] * bv[i] + cv[i];
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * int64_t{4} * int64_t{sizeof(float)});
}
BENCHMARK(BM_StreamTriad)->Unit(benchmark::kMillisecond);

void BM_RowSums(benchmark::State& state) {
  Generator g(2);
  Tensor x = rand({kRows, kCols}, g), s = empty({kRows, 1});
  for (auto _ : state) {
    detail::torch_sum(x.data(), x.shape(), s.data(), s.shape());
    benchmark::DoNotOptimize(s.data());
  }
}
BENCHMARK(BM_RowSums)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
