// 06-wavenet-bench: where a training step's time goes, as a fraction of one core's FMA peak.
//
//   build/release/bin/06-wavenet-bench [data/names.txt]     (OPENBLAS_NUM_THREADS=1 is set by bench.sh)
//
// 1. One core's peak: 12 independent chains of vector FMAs (AVX-512 where the compiler targets it,
//    else AVX2), 2 FLOPs per lane per FMA. Nothing a real kernel does can go faster.
// 2. The step's 12 matrix products alone (4 forward, and per Linear dW = Xᵀ·dY and dX = dY·Wᵀ),
//    through the tensor layer's own product kernel (z2h::kernels::gemm: OpenBLAS's order summed by
//    common/'s kernel where it knows that order, else cblas_sgemm), with the kernel set in use.
// 3. The whole training step of the default model (forward, backward, SGD on a random minibatch).
// The step's FLOPs are counted from its shapes: 2·M·N·K per product (≈ 24.3 MFLOP in all); the
// element-wise work (BatchNorm, tanh, cross-entropy) is not counted. Times are the thread's CPU
// time, best of 5.
#include "wavenet.hpp"

#include "common/tensor/blas.hpp"
#include "common/tensor/kernels/kernels.hpp"
#include "common/rng/generator.hpp"

#include <immintrin.h>

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace {

// CPU time of this thread, not wall time: on a shared machine a descheduled thread's wall time
// would count other programs' work (the peak and the step are measured the same way).
struct Clock {
  using time_point = double;
  static double now() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
};
double seconds_since(double t0) { return Clock::now() - t0; }

// ---- 1. the FMA peak -------------------------------------------------------------------------------
#if defined(__AVX512F__)
constexpr int kLanes = 16;
using Vec = __m512;
inline Vec vset(float x) { return _mm512_set1_ps(x); }
inline Vec vfma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline float vsum(Vec v) { return _mm512_reduce_add_ps(v); }
const char* kIsa = "AVX-512";
#else
constexpr int kLanes = 8;
using Vec = __m256;
inline Vec vset(float x) { return _mm256_set1_ps(x); }
inline Vec vfma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline float vsum(Vec v) {
  alignas(32) float f[8];
  _mm256_store_ps(f, v);
  return f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
}
const char* kIsa = "AVX2";
#endif

double fma_peak_gflops() {
  constexpr int kChains = 12;  // enough independent FMAs to cover the latency on both FMA ports
  const int64_t iters = 20'000'000;
  Vec acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = vset(0.001f * static_cast<float>(c));
  const Vec a = vset(0.999999f), b = vset(1e-7f);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < iters; ++i)
      for (int c = 0; c < kChains; ++c) acc[c] = vfma(acc[c], a, b);
    const double s = seconds_since(t0);
    best = std::max(best, 2.0 * kLanes * kChains * static_cast<double>(iters) / s / 1e9);
  }
  float sink = 0;
  for (int c = 0; c < kChains; ++c) sink += vsum(acc[c]);
  if (sink == 42.0f) std::printf(" ");  // keep the chains alive
  return best;
}

// ---- 2. the step's products -------------------------------------------------------------------------
struct Product {
  bool ta, tb;
  int64_t M, N, K;
};

// The default model's Linear layers, as (rows of input, fan_in, fan_out), batch 32.
std::vector<Product> step_products() {
  const int64_t layers[4][3] = {{128, 48, 128}, {64, 256, 128}, {32, 256, 128}, {32, 128, 27}};
  std::vector<Product> ps;
  for (const auto& l : layers) {
    const int64_t R = l[0], in = l[1], out = l[2];
    ps.push_back({false, false, R, out, in});  // forward  Y = X·W        (R, in)·(in, out)
    ps.push_back({true, false, in, out, R});   // backward dW = Xᵀ·dY     (in, R)·(R, out)
    ps.push_back({false, true, R, in, out});   // backward dX = dY·Wᵀ     (R, out)·(out, in)
  }
  return ps;
}

double flops_of(const std::vector<Product>& ps) {
  double f = 0;
  for (const Product& p : ps) f += 2.0 * static_cast<double>(p.M * p.N * p.K);
  return f;
}

double products_seconds(const std::vector<Product>& ps, int reps) {
  std::vector<std::vector<float>> a, b, c;
  for (const Product& p : ps) {
    a.emplace_back(static_cast<size_t>(p.M * p.K), 0.01f);
    b.emplace_back(static_cast<size_t>(p.K * p.N), 0.02f);
    c.emplace_back(static_cast<size_t>(p.M * p.N), 0.0f);
  }
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = Clock::now();
    for (int r = 0; r < reps; ++r)
      for (size_t i = 0; i < ps.size(); ++i)
        z2h::kernels::gemm(ps[i].ta, ps[i].tb, ps[i].M, ps[i].N, ps[i].K, a[i].data(), b[i].data(), false,
                           c[i].data());
    best = std::min(best, seconds_since(t0) / reps);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string data_path = argc > 1 ? argv[1] : "data/names.txt";
  z2h::blas::set_num_threads(1);
  std::printf("OpenBLAS kernel: %s, 1 thread\n", z2h::blas::core_name().c_str());

  const double peak = fma_peak_gflops();
  std::printf("one core's FMA peak (%s, 12 chains):      %7.1f GFLOP/s\n", kIsa, peak);

  const auto ps = step_products();
  const double step_flops = flops_of(ps);
  const double t_prod = products_seconds(ps, 2000);
  std::printf("a step's 12 products (%.2f MFLOP):        %7.1f us  = %6.1f GFLOP/s = %4.1f %% of peak\n",
              step_flops / 1e6, t_prod * 1e6, step_flops / t_prod / 1e9, 100.0 * step_flops / t_prod / 1e9 / peak);

  const stage06::Data data = stage06::load_names(data_path, 8);
  z2h::manual_seed(42);
  z2h::nn::Sequential model = stage06::make_model({});
  z2h::optim::SGD sgd(model.parameters(), 0.1);
  for (int i = 0; i < 200; ++i) stage06::train_step(model, data.train, 32, sgd);  // warm the caches
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    const int n = 1000;
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) stage06::train_step(model, data.train, 32, sgd);
    best = std::min(best, seconds_since(t0) / n);
  }
  std::printf("the whole training step:                   %7.1f us  = %6.1f GFLOP/s = %4.1f %% of peak  (%.0f steps/s)\n",
              best * 1e6, step_flops / best / 1e9, 100.0 * step_flops / best / 1e9 / peak, 1.0 / best);
  std::printf("products' share of the step: %.0f %%\n", 100.0 * t_prod / best);
  return 0;
}
