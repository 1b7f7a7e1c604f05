// The products of 06-wavenet's and 07-gpt's (the Colab's model) training steps, one thread, timed with
// Google Benchmark two ways: `blas` — cblas_sgemm, the call ATen makes — and `exact` —
// kernels::exact::gemm, what the tensor layer runs: the same bits, from own kernels where they
// reproduce the OpenBLAS kernel set in use (gemm_openblas.cpp), else cblas_sgemm again.
//   build/release/bin/bench_gemm                                  # the kernel set OpenBLAS picks
//   OPENBLAS_CORETYPE=Haswell build/release/bin/bench_gemm        # another one
// Each product is reported in FLOP/s (2·M·N·K per call, CPU time); docs/benchmarks.md has numbers.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/rng/generator.hpp"
#include "common/tensor/blas.hpp"
#include "common/tensor/kernels/kernels.hpp"
#include "common/tensor/tensor.hpp"

namespace {

using namespace z2h;

struct Product {
  const char* what;
  bool ta, tb;
  int64_t M, N, K;
};

// Linear layers as the stages store them: 06's W is (in, out) (Y = X·W), 07's nn.Linear W is
// (out, in) (Y = X·Wᵀ). Each gives the forward and the two backward products autograd makes.
void add_linear(std::vector<Product>& ps, const char* name, bool w_out_in, int64_t rows, int64_t in, int64_t out) {
  if (!w_out_in) {
    ps.push_back({name, false, false, rows, out, in});  // Y = X·W
    ps.push_back({name, true, false, in, out, rows});   // dW = Xᵀ·dY
    ps.push_back({name, false, true, rows, in, out});   // dX = dY·Wᵀ
  } else {
    ps.push_back({name, false, true, rows, out, in});   // Y = X·Wᵀ
    ps.push_back({name, true, false, out, in, rows});   // dW = dYᵀ·X
    ps.push_back({name, false, false, rows, in, out});  // dX = dY·W
  }
}

std::vector<Product> products() {
  std::vector<Product> ps;
  // 06-wavenet: batch 32, the three FlattenConsecutive(2) → Linear levels and the output layer.
  add_linear(ps, "06 L1", false, 128, 48, 128);
  add_linear(ps, "06 L2", false, 64, 256, 128);
  add_linear(ps, "06 L3", false, 32, 256, 128);
  add_linear(ps, "06 out", false, 32, 128, 27);
  // 07-gpt's default (the Colab's) model: batch 16 × block 32 rows, n_embd 64, 4 heads of 16, vocabulary 65.
  add_linear(ps, "07 qkv", true, 512, 64, 192);
  add_linear(ps, "07 proj", true, 512, 64, 64);
  add_linear(ps, "07 ffwd1", true, 512, 64, 256);
  add_linear(ps, "07 ffwd2", true, 512, 256, 64);
  add_linear(ps, "07 lm_head", true, 512, 64, 65);
  ps.push_back({"07 q·kᵀ", false, true, 32, 32, 16});  // per (batch row, head)
  ps.push_back({"07 att·v", false, false, 32, 16, 32});
  return ps;
}

void run(benchmark::State& state, const Product& p, bool exact) {
  blas::set_num_threads(1);
  Generator g(5);
  Tensor a = randn({p.M * p.K}, g), b = randn({p.K * p.N}, g), c = zeros({p.M * p.N});
  for (auto _ : state) {
    if (exact) kernels::gemm(p.ta, p.tb, p.M, p.N, p.K, a.data(), b.data(), false, c.data());
    else blas::sgemm(p.ta, p.tb, p.M, p.N, p.K, 1.0f, a.data(), b.data(), 0.0f, c.data());
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(p.M * p.N * p.K),
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(blas::core_name());
}

}  // namespace

int main(int argc, char** argv) {
  for (const Product& p : products()) {
    const std::string shape = std::string(p.what) + " " + (p.ta ? "T" : "N") + (p.tb ? "T" : "N") + " " +
                              std::to_string(p.M) + "x" + std::to_string(p.N) + "x" + std::to_string(p.K);
    benchmark::RegisterBenchmark(("blas  " + shape).c_str(), [p](benchmark::State& s) { run(s, p, false); });
    benchmark::RegisterBenchmark(("exact " + shape).c_str(), [p](benchmark::State& s) { run(s, p, true); });
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
