#pragma once
// PyTorch 1.13's CPU random generator, bit for bit: the same seed gives the same numbers as
//   g = torch.Generator().manual_seed(2147483647); torch.randn((27, 27), generator=g)
// so the C++ stages print what the lecture notebooks printed (sampled names, initial losses).
//
// Written from a description of the algorithms, not copied from their sources. The algorithms are
// PyTorch's (BSD-3-Clause: ATen/core/{MT19937RNGEngine,DistributionsHelper,TransformationHelper}.h,
// native/cpu/{DistributionTemplates.h,MultinomialKernel.cpp}); the AVX2 randn kernel's log and sincos
// are Cephes polynomials as packaged in avx_mathfun.h (zlib licence, Julien Pommier and Giovanni
// Garberoglio); MT19937 is Matsumoto & Nishimura's (1998).
//
// Every fill kernel works on a raw contiguous buffer in torch's element order (row-major), and every
// function consumes exactly the 32-bit engine draws torch consumes, so calls can be interleaved with
// other draws (init, then minibatch indices, then sampling) and stay in step with a PyTorch script.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace z2h {

// ---- the engine ------------------------------------------------------------------------------

// MT19937, the 32-bit Mersenne Twister. torch, CPython's `random` and numpy's RandomState all use it;
// they differ only in how a seed becomes the 624-word state. Output equals std::mt19937's.
class Mt19937 {
 public:
  static constexpr int kStateSize = 624;

  explicit Mt19937(uint32_t seed = 5489u) { init_genrand(seed); }

  // torch and numpy: state[0] = seed, state[i] = 1812433253 * (s ^ (s >> 30)) + i.
  void init_genrand(uint32_t seed);
  // CPython: init_genrand(19650218) then two mixing passes over the key (32-bit words, low first).
  void init_by_array(const uint32_t* key, size_t key_length);

  uint32_t operator()() {
    if (next_ == kStateSize) twist();
    return temper(state_[next_++]);
  }
  // The next n outputs at once, the same as n calls of operator(): the twist and the tempering run
  // over whole blocks of words, which the compiler vectorises (AVX2/AVX-512 where the build has it).
  void generate(uint32_t* out, size_t n);
  // The 624 words and the position of the next one (kStateSize: twist before the next draw).
  const std::array<uint32_t, kStateSize>& words() const { return state_; }
  int position() const { return next_; }
  void set_words(const std::array<uint32_t, kStateSize>& words, int position);  // position in [0, kStateSize]

 private:
  void twist();  // regenerate all 624 words; the first draw after seeding does this
  static uint32_t temper(uint32_t y) {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
  }

  std::array<uint32_t, kStateSize> state_{};
  int next_ = kStateSize;
};

// ---- torch.Generator -------------------------------------------------------------------------

// The CPU generator: an MT19937 engine, the seed it was built from, and the cached second normal of
// the small-randn Box–Muller path (torch keeps it in the generator, so it survives across calls).
class Generator {
 public:
  static constexpr uint64_t default_seed = 67280421310721ull;  // torch.Generator().initial_seed()

  explicit Generator(uint64_t seed = default_seed) { manual_seed(seed); }

  // Like g.manual_seed(s): only the low 32 bits reach the engine (2**32 + 5 draws like 5), all 64 are
  // remembered for initial_seed(); the cached normal is dropped. A negative Python seed s is 2**64 + s.
  Generator& manual_seed(uint64_t seed);
  uint64_t initial_seed() const { return seed_; }

  uint32_t random() {  // one engine output
    ++draws_;
    return engine_();
  }
  uint64_t random64() {  // two outputs; the FIRST is the high word
    const uint64_t hi = random();
    return (hi << 32) | random();
  }
  // The next n engine outputs at once: exactly n calls of random().
  void random_block(uint32_t* out, size_t n) {
    draws_ += n;
    engine_.generate(out, n);
  }

  // 32-bit engine outputs consumed since the last seeding: randn(27) leaves 43 (27 + 16 redrawn).
  uint64_t draws() const { return draws_; }

  // The cached Box–Muller partner (torch's next_double_normal_sample); taking it empties the cache.
  std::optional<double> take_next_normal() {
    std::optional<double> v = next_normal_;
    next_normal_.reset();
    return v;
  }
  void set_next_normal(double v) { next_normal_ = v; }
  bool has_next_normal() const { return next_normal_.has_value(); }

  // The whole state — what torch's g.get_state() / g.set_state() carry: the engine's words and
  // position, the seed, the cached normal (and here the draw count). A generator given another's
  // state draws exactly what that one would have drawn next: training resumed from a checkpoint
  // continues the uninterrupted run's stream.
  struct State {
    std::array<uint32_t, Mt19937::kStateSize> words{};
    int position = Mt19937::kStateSize;
    uint64_t seed = default_seed;
    uint64_t draws = 0;
    std::optional<double> next_normal;
  };
  State state() const { return {engine_.words(), engine_.position(), seed_, draws_, next_normal_}; }
  void set_state(const State& s);
  // The state as one line of text (hex words; for checkpoint metadata) and back. parse_state throws
  // std::invalid_argument on anything encode_state did not write.
  static std::string encode_state(const State& s);
  static State parse_state(std::string_view text);

 private:
  Mt19937 engine_;
  uint64_t seed_ = default_seed;
  uint64_t draws_ = 0;
  std::optional<double> next_normal_;
};

// torch's global CPU generator, for torch.manual_seed(...)-style code (lecture 6, gpt). Torch seeds it
// randomly at start-up; this one starts at Generator::default_seed so unseeded runs are repeatable.
// Like all of this file it is not thread-safe: draw from one thread.
Generator& default_generator();
Generator& manual_seed(uint64_t seed);  // torch.manual_seed: seeds default_generator(), returns it

// ---- which randn kernel ----------------------------------------------------------------------

// torch.randn of >= 16 floats transforms 16-blocks of uniforms with one of three kernels that agree
// to 1-2 ulp but not bit for bit:
//   Avx2      avx_mathfun's Cephes log/sincos as GCC builds it (-mfma contracts the separate
//             mul/add intrinsics into FMAs). This is what torch 1.13.1 computes on every Linux x86
//             machine (pip wheels, Colab, Debian's python3-torch; AVX-512 CPUs use it too), so it is
//             what a PyTorch oracle and our goldens produce: the DEFAULT.
//   Scalar    float libm (logf, sinf, cosf): torch's DEFAULT-capability build (ARM, Apple silicon,
//             ATEN_CPU_CAPABILITY=default). Karpathy's notebooks ran on a Mac, so this reproduces the
//             last ulps they print (e.g. the part-1 per-example probabilities 0.012286253273487091 ...).
//   Avx2NoFma the AVX2 kernel with only its one explicit FMA (compilers that do not contract
//             across intrinsics, e.g. MSVC); unverified, no such oracle was available.
// The choice also applies to randn of < 16 values, whose final `x * std + mean` is fused only by Avx2.
enum class NormalKernel { Avx2, Scalar, Avx2NoFma };

// The process-wide default: Avx2 unless the environment says Z2H_RANDN_KERNEL=avx2|scalar|avx2-nofma
// (read on first use; an unknown value throws UserError). set_default_normal_kernel overrides both.
NormalKernel default_normal_kernel();
void set_default_normal_kernel(NormalKernel kernel);
NormalKernel parse_normal_kernel(std::string_view name);  // "avx2" | "scalar" | "avx2-nofma"
std::string_view to_string(NormalKernel kernel);

// ---- fill kernels (raw contiguous buffers, torch's element order) ----------------------------

// x.uniform_(from, to): float32 takes 24 low bits of one draw, u = (r & 0xFFFFFF) * 2^-24, then
// fma(u, to - from, from) in float (torch's GCC build fuses it); float64 takes 53 low bits of random64().
void uniform_(float* x, size_t n, double from, double to, Generator& g);
void uniform_(double* x, size_t n, double from, double to, Generator& g);

// x.normal_(mean, std). n >= 16: n uniforms, 16-blocks transformed in place, and when n % 16 != 0
// the last 16 slots are redrawn and transformed again (randn(27): draws 27 + 16 = 43).
// n < 16: one double Box–Muller pair per two values, the partner cached in the generator.
void normal_(float* x, size_t n, double mean, double std, Generator& g);  // default kernel
void normal_(float* x, size_t n, double mean, double std, Generator& g, NormalKernel kernel);

// x.exponential_(lambd): -1/lambd * log(1 - u), u a 53-bit double uniform (two draws per value).
void exponential_(float* x, size_t n, double lambd, Generator& g);

// x.bernoulli_(p): x[i] = 1 with probability p (u < p, u a double uniform), else 0. This is torch's
// non-MKL CPU path; nn.Dropout(p) keeps a value where bernoulli_(1 - p) gave 1 and scales it by 1/(1-p).
void bernoulli_(float* x, size_t n, double p, Generator& g);
// The same draws with the results as bits: element i sets bit offset + i of `bits` (bit b of word w
// is bit 64·w + b) to 1 if kept, 0 if not; the other bits are left as they were. Masks kept as bits
// (dropout) are written 64 at a time, without a float per element.
void bernoulli_bits(uint64_t* bits, size_t offset, size_t n, double p, Generator& g);
// Bit i of such a mask.
inline bool bit_at(const uint64_t* bits, int64_t i) { return (bits[i >> 6] >> (i & 63)) & 1u; }

// x.random_(low, high) / torch.randint(low, high): (r % (high - low)) + low with r = random() when the
// range is < 2**32, else random64(). Plain modulo, bias included, exactly as torch.
void random_(int64_t* x, size_t n, int64_t low, int64_t high, Generator& g);

// ---- tensor-returning conveniences ---------------------------------------------------------------

std::vector<float> rand(size_t n, Generator& g);                         // torch.rand(n)
std::vector<float> randn(size_t n, Generator& g);                        // torch.randn(n), default kernel
std::vector<float> randn(size_t n, Generator& g, NormalKernel kernel);
std::vector<int64_t> randint(int64_t low, int64_t high, size_t n, Generator& g);  // torch.randint
// torch.randperm(n): forward Fisher–Yates, swap(r[i], r[i + random() % (n - i)]) for i < n - 1.
std::vector<int64_t> randperm(int64_t n, Generator& g);

// torch.multinomial(probs, num_samples, replacement) on row-major [rows, n] non-negative weights (rows
// need not sum to 1); returns rows * num_samples category indices, row by row.
//   replacement=true: torch 1.13's CDF search: float cumulative sum / total, one double uniform
//     (random64) per sample, first index with cdf >= u. (Part 1's bigram sampler.)
//   replacement=false (torch's default, so multinomial(p, 1) in lectures 3-7): the exponential trick,
//     q = exponential_(1) over ALL rows * n entries first, then argmax (or top-k) of p / q per row.
std::vector<int64_t> multinomial(const float* probs, size_t rows, size_t n, size_t num_samples,
                                 bool replacement, Generator& g);

// ---- init helpers in PyTorch's draw order ----------------------------------------------------

// nn.Linear(in_features, out_features) default init: kaiming_uniform_(weight, a=sqrt(5)), i.e.
// uniform_(-1/sqrt(in), 1/sqrt(in)) on the [out, in] row-major weight, THEN the bias (if any) with
// the same bound. Bounds are computed with Python's float arithmetic, as torch.nn.init does.
void linear_init_(float* weight, float* bias, int64_t in_features, int64_t out_features, Generator& g);
// nn.Embedding(num, dim) default init: normal_(0, 1) on the whole [num, dim] weight at once.
void embedding_init_(float* weight, size_t n, Generator& g);

}  // namespace z2h
