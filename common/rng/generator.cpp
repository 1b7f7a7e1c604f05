// PyTorch 1.13 CPU generator — see generator.hpp for what and why; this file is the how.
// Credits: PyTorch (BSD-3-Clause), Cephes / avx_mathfun.h (zlib), MT19937 (Matsumoto & Nishimura).
//
// Float exactness: this translation unit is built with -ffp-contract=off, so `a * b + c` is always two
// roundings; every place where torch's GCC build computes a fused multiply-add says so with std::fma.
// The results are therefore identical with and without -march=native / -mfma.
#include "common/rng/generator.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>
#include <numeric>
#include <string>

#include "common/app/error.hpp"

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace z2h {

// ---- MT19937 ---------------------------------------------------------------------------------

void Mt19937::init_genrand(uint32_t seed) {
  state_[0] = seed;
  for (int i = 1; i < kStateSize; ++i) {
    const uint32_t prev = state_[i - 1];
    state_[i] = 1812433253u * (prev ^ (prev >> 30)) + static_cast<uint32_t>(i);
  }
  next_ = kStateSize;  // the first draw regenerates the state
}

void Mt19937::init_by_array(const uint32_t* key, size_t key_length) {
  init_genrand(19650218u);
  size_t i = 1, j = 0;
  for (size_t k = std::max<size_t>(kStateSize, key_length); k > 0; --k) {
    const uint32_t prev = state_[i - 1];
    state_[i] = (state_[i] ^ ((prev ^ (prev >> 30)) * 1664525u)) + key[j] + static_cast<uint32_t>(j);
    if (++i >= kStateSize) {
      state_[0] = state_[kStateSize - 1];
      i = 1;
    }
    if (++j >= key_length) j = 0;
  }
  for (size_t k = kStateSize - 1; k > 0; --k) {
    const uint32_t prev = state_[i - 1];
    state_[i] = (state_[i] ^ ((prev ^ (prev >> 30)) * 1566083941u)) - static_cast<uint32_t>(i);
    if (++i >= kStateSize) {
      state_[0] = state_[kStateSize - 1];
      i = 1;
    }
  }
  state_[0] = 0x80000000u;  // most significant bit set: the state is never all zero
  next_ = kStateSize;
}

// Word i becomes word i + 397 XOR a twist of (top bit of word i, low 31 bits of word i + 1). Indices
// wrap around, and for i >= 227 the words read are the ones already regenerated in this pass. The
// three loops below are that one loop without the modulo: in each, a word is read either before it
// is rewritten (i + 1, i + 397) or 227 words after (i - 227), so the compiler may run them on vectors.
namespace {
inline uint32_t mt_mix(uint32_t upper, uint32_t lower) {
  const uint32_t y = (upper & 0x80000000u) | (lower & 0x7fffffffu);
  return (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
}
}  // namespace

void Mt19937::twist() {
  constexpr int n = kStateSize, m = 397;
  uint32_t* s = state_.data();
  for (int i = 0; i < n - m; ++i) s[i] = s[i + m] ^ mt_mix(s[i], s[i + 1]);
  for (int i = n - m; i < n - 1; ++i) s[i] = s[i + m - n] ^ mt_mix(s[i], s[i + 1]);
  s[n - 1] = s[m - 1] ^ mt_mix(s[n - 1], s[0]);
  next_ = 0;
}

void Mt19937::generate(uint32_t* out, size_t n) {
  while (n > 0) {
    if (next_ == kStateSize) twist();
    const size_t k = std::min<size_t>(n, static_cast<size_t>(kStateSize - next_));
    const uint32_t* w = state_.data() + next_;
    for (size_t i = 0; i < k; ++i) out[i] = temper(w[i]);
    next_ += static_cast<int>(k);
    out += k;
    n -= k;
  }
}

// ---- Generator -------------------------------------------------------------------------------

Generator& Generator::manual_seed(uint64_t seed) {
  seed_ = seed;
  engine_.init_genrand(static_cast<uint32_t>(seed & 0xffffffffu));
  draws_ = 0;
  next_normal_.reset();
  return *this;
}

void Mt19937::set_words(const std::array<uint32_t, kStateSize>& words, int position) {
  if (position < 0 || position > kStateSize)
    throw std::invalid_argument("Mt19937::set_words: position " + std::to_string(position) + " outside [0, 624]");
  state_ = words;
  next_ = position;
}

void Generator::set_state(const State& s) {
  engine_.set_words(s.words, s.position);
  seed_ = s.seed;
  draws_ = s.draws;
  next_normal_ = s.next_normal;
}

// "mt19937 v1 <position> <seed> <draws> <normal: '-' or the double's 16 hex digits> <624 words of 8 hex digits>"
std::string Generator::encode_state(const State& s) {
  char buf[64];
  std::string out = "mt19937 v1 " + std::to_string(s.position) + " " + std::to_string(s.seed) + " " +
                    std::to_string(s.draws) + " ";
  if (s.next_normal) {
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(std::bit_cast<uint64_t>(*s.next_normal)));
    out += buf;
  } else {
    out += "-";
  }
  out += " ";
  out.reserve(out.size() + 8 * s.words.size());
  for (uint32_t w : s.words) {
    std::snprintf(buf, sizeof buf, "%08x", w);
    out += buf;
  }
  return out;
}

Generator::State Generator::parse_state(std::string_view text) {
  const auto bad = [&](const char* why) {
    return std::invalid_argument(std::string("generator state: ") + why + " (expected what Generator::encode_state writes)");
  };
  std::vector<std::string> f;
  size_t i = 0;
  while (i < text.size()) {
    const size_t j = std::min(text.find(' ', i), text.size());
    f.emplace_back(text.substr(i, j - i));
    i = j + 1;
  }
  if (f.size() != 7 || f[0] != "mt19937" || f[1] != "v1") throw bad("not a v1 mt19937 state");
  if (f[6].size() != 8 * static_cast<size_t>(Mt19937::kStateSize)) throw bad("not 624 words");
  const auto number = [&](const std::string& v, int base) {
    if (v.empty() || v.find_first_not_of(base == 16 ? "0123456789abcdef" : "0123456789") != std::string::npos)
      throw bad("a field is not a number");
    return std::stoull(v, nullptr, base);
  };
  State s;
  const unsigned long long pos = number(f[2], 10);
  if (pos > static_cast<unsigned long long>(Mt19937::kStateSize)) throw bad("position out of range");
  s.position = static_cast<int>(pos);
  s.seed = number(f[3], 10);
  s.draws = number(f[4], 10);
  if (f[5] != "-") {
    if (f[5].size() != 16) throw bad("the cached normal is not 16 hex digits");
    s.next_normal = std::bit_cast<double>(static_cast<uint64_t>(number(f[5], 16)));
  }
  for (size_t k = 0; k < s.words.size(); ++k) s.words[k] = static_cast<uint32_t>(number(f[6].substr(8 * k, 8), 16));
  return s;
}

Generator& default_generator() {
  static Generator generator;
  return generator;
}

Generator& manual_seed(uint64_t seed) { return default_generator().manual_seed(seed); }

// ---- default randn kernel --------------------------------------------------------------------

NormalKernel parse_normal_kernel(std::string_view name) {
  if (name == "avx2") return NormalKernel::Avx2;
  if (name == "scalar") return NormalKernel::Scalar;
  if (name == "avx2-nofma") return NormalKernel::Avx2NoFma;
  throw UserError("unknown randn kernel '" + std::string(name) +
                  "' (use avx2, scalar or avx2-nofma, e.g. Z2H_RANDN_KERNEL=scalar)");
}

std::string_view to_string(NormalKernel kernel) {
  switch (kernel) {
    case NormalKernel::Avx2: return "avx2";
    case NormalKernel::Scalar: return "scalar";
    case NormalKernel::Avx2NoFma: return "avx2-nofma";
  }
  return "?";
}

namespace {

constexpr int kKernelUnset = -1;
std::atomic<int> g_default_kernel{kKernelUnset};

}  // namespace

NormalKernel default_normal_kernel() {
  int k = g_default_kernel.load(std::memory_order_relaxed);
  if (k == kKernelUnset) {
    const char* env = std::getenv("Z2H_RANDN_KERNEL");
    k = static_cast<int>(env && *env ? parse_normal_kernel(env) : NormalKernel::Avx2);
    g_default_kernel.store(k, std::memory_order_relaxed);
  }
  return static_cast<NormalKernel>(k);
}

void set_default_normal_kernel(NormalKernel kernel) {
  g_default_kernel.store(static_cast<int>(kernel), std::memory_order_relaxed);
}

// ---- uniforms: the building block of everything below ----------------------------------------

namespace {

constexpr double kPi = 3.14159265358979323846;  // c10::pi<double>

// The 24 LOW bits of one draw: [0, 1 - 2^-24] in steps of 2^-24 (exact in float).
float uniform01_float(Generator& g) { return static_cast<float>(g.random() & 0xFFFFFFu) * 0x1p-24f; }

// The 53 LOW bits of random64(): 21 bits of the first draw and all 32 of the second.
double uniform01_double(Generator& g) {
  return static_cast<double>(g.random64() & ((uint64_t{1} << 53) - 1)) * 0x1p-53;
}

void check_range(double from, double to) {
  if (!(from <= to)) {
    throw UserError("uniform_ needs from <= to, got from=" + std::to_string(from) + " > to=" +
                    std::to_string(to) + " (swap the bounds)");
  }
}

}  // namespace

void uniform_(float* x, size_t n, double from, double to, Generator& g) {
  check_range(from, to);
  const float lo = static_cast<float>(from), width = static_cast<float>(to) - lo;
  for (size_t i = 0; i < n; ++i) x[i] = std::fma(uniform01_float(g), width, lo);
}

void uniform_(double* x, size_t n, double from, double to, Generator& g) {
  check_range(from, to);
  const double width = to - from;
  for (size_t i = 0; i < n; ++i) x[i] = std::fma(uniform01_double(g), width, from);
}

// ---- normal: the Scalar 16-block kernel ------------------------------------------------------

namespace {

// One 16-block, d[0..15] holding uniforms in [0, 1): u1 = 1 - d[j] (never 0, so the log is finite),
// u2 = d[j + 8]; d[j] = r cos(theta), d[j + 8] = r sin(theta). float libm throughout; theta is
// 2*pi*u2 computed in double and rounded to float, as torch's `2.0f * c10::pi<double> * u2` does.
void normal_block_scalar(float* d, float mean, float stdv) {
  for (int j = 0; j < 8; ++j) {
    const float u1 = 1.0f - d[j];
    const float u2 = d[j + 8];
    const float radius = std::sqrt(-2.0f * std::log(u1));
    const float theta = static_cast<float>(2.0 * kPi * static_cast<double>(u2));
    d[j] = radius * std::cos(theta) * stdv + mean;
    d[j + 8] = radius * std::sin(theta) * stdv + mean;
  }
}

// ---- normal: the AVX2 16-block kernel, one lane at a time ------------------------------------

// a * b + c the way the AVX2 build computes a separate mul + add: one rounding when GCC contracted
// them (the Avx2 kernel), two when not (Avx2NoFma).
inline float madd(float a, float b, float c, bool fused) { return fused ? std::fma(a, b, c) : a * b + c; }

inline float from_bits(uint32_t u) { return std::bit_cast<float>(u); }
inline uint32_t to_bits(float f) { return std::bit_cast<uint32_t>(f); }

// Cephes' polynomial constants exactly as avx_mathfun.h declares them: double literals rounded to float.
constexpr float kSqrtHalf = static_cast<float>(0.707106781186547524);
constexpr float kLogP[9] = {
    static_cast<float>(7.0376836292E-2),  static_cast<float>(-1.1514610310E-1),
    static_cast<float>(1.1676998740E-1),  static_cast<float>(-1.2420140846E-1),
    static_cast<float>(1.4249322787E-1),  static_cast<float>(-1.6668057665E-1),
    static_cast<float>(2.0000714765E-1),  static_cast<float>(-2.4999993993E-1),
    static_cast<float>(3.3333331174E-1)};
constexpr float kLogQ1 = static_cast<float>(-2.12194440e-4);
constexpr float kLogQ2 = static_cast<float>(0.693359375);
constexpr float kFourOverPi = static_cast<float>(1.27323954473516);
constexpr float kMinusDp1 = static_cast<float>(-0.78515625);
constexpr float kMinusDp2 = static_cast<float>(-2.4187564849853515625e-4);
constexpr float kMinusDp3 = static_cast<float>(-3.77489497744594108e-8);
constexpr float kCosP[3] = {static_cast<float>(2.443315711809948E-005),
                            static_cast<float>(-1.388731625493765E-003),
                            static_cast<float>(4.166664568298827E-002)};
constexpr float kSinP[3] = {static_cast<float>(-1.9515295891E-4), static_cast<float>(8.3321608736E-3),
                            static_cast<float>(-1.6666654611E-1)};

// log256_ps for x > 0 (normal): split x = m * 2^e with m in [0.5, 1); if m < sqrt(1/2) use 2m - 1 and
// e - 1, else m - 1; then log(1 + x) ~ x - x^2/2 + x^3 P(x), plus e * ln 2 in two parts (q2 + q1).
float log_avx2(float x, bool fused) {
  const uint32_t bits = to_bits(x);
  float e = static_cast<float>(static_cast<int32_t>(bits >> 23) - 0x7f) + 1.0f;
  float m = from_bits((bits & ~0x7f800000u) | 0x3f000000u);  // mantissa with exponent of 0.5
  const bool below = m < kSqrtHalf;
  const float add_back = below ? m : 0.0f;
  m = m - 1.0f;
  e = e - (below ? 1.0f : 0.0f);
  m = m + add_back;  // (m - 1) + m = 2m - 1 when below

  const float z = m * m;
  float y = kLogP[0];
  for (int k = 1; k < 9; ++k) y = madd(y, m, kLogP[k], fused);
  y = y * m;
  y = madd(y, z, e * kLogQ1, fused);
  y = fused ? std::fma(-z, 0.5f, y) : y - z * 0.5f;
  m = m + y;
  return madd(e, kLogQ2, m, fused);
}

// sincos256_ps: j = the octant of |t| rounded up to even, x = |t| - j*pi/4 in three parts (DP1..3),
// then a sine and a cosine polynomial on [-pi/4, pi/4], swapped and signed according to j.
void sincos_avx2(float t, float& sin_out, float& cos_out, bool fused) {
  const uint32_t sign_t = to_bits(t) & 0x80000000u;
  float x = from_bits(to_bits(t) & 0x7fffffffu);
  int32_t j = static_cast<int32_t>(x * kFourOverPi);  // truncation, like cvttps
  j = (j + 1) & ~1;
  const float y = static_cast<float>(j);
  const uint32_t sign_sin = sign_t ^ (static_cast<uint32_t>(j & 4) << 29);
  const uint32_t sign_cos = static_cast<uint32_t>(~(j - 2) & 4) << 29;
  const bool sin_poly_for_sin = (j & 2) == 0;

  x = madd(y, kMinusDp1, x, fused);
  x = madd(y, kMinusDp2, x, fused);
  x = madd(y, kMinusDp3, x, fused);
  const float z = x * x;

  float yc = madd(madd(kCosP[0], z, kCosP[1], fused), z, kCosP[2], fused);
  yc = yc * z;
  yc = fused ? std::fma(yc, z, -(z * 0.5f)) : yc * z - z * 0.5f;
  yc = yc + 1.0f;

  float ys = madd(madd(kSinP[0], z, kSinP[1], fused), z, kSinP[2], fused);
  ys = ys * z;
  ys = madd(ys, x, x, fused);

  // The original selects with bit masks and adds; the +0.0 terms matter only for signed zeros.
  const float sin_from_s = sin_poly_for_sin ? ys : 0.0f, sin_from_c = sin_poly_for_sin ? 0.0f : yc;
  const float s = sin_from_c + sin_from_s;
  const float c = (yc - sin_from_c) + (ys - sin_from_s);
  sin_out = from_bits(to_bits(s) ^ sign_sin);
  cos_out = from_bits(to_bits(c) ^ sign_cos);
}

// normal_fill_16_AVX2, lane by lane. theta = float(2*pi) * u2 is a float product here, and the final
// n * std + mean is an explicit _mm256_fmadd_ps in every build.
void normal_block_avx2(float* d, float mean, float stdv, bool fused) {
  constexpr float two_pi = static_cast<float>(2.0 * kPi);
  for (int j = 0; j < 8; ++j) {
    const float u1 = 1.0f - d[j];
    const float radius = std::sqrt(-2.0f * log_avx2(u1, fused));
    const float theta = two_pi * d[j + 8];
    float s = 0.0f, c = 0.0f;
    sincos_avx2(theta, s, c, fused);
    d[j] = std::fma(radius * c, stdv, mean);
    d[j + 8] = std::fma(radius * s, stdv, mean);
  }
}

void normal_block(float* d, float mean, float stdv, NormalKernel kernel) {
  switch (kernel) {
    case NormalKernel::Avx2: normal_block_avx2(d, mean, stdv, /*fused=*/true); break;
    case NormalKernel::Avx2NoFma: normal_block_avx2(d, mean, stdv, /*fused=*/false); break;
    case NormalKernel::Scalar: normal_block_scalar(d, mean, stdv); break;
  }
}

// torch's normal_fill: all n uniforms first, then the 16-blocks; if n % 16 != 0 the last 16 slots
// (overlapping values already transformed) get 16 fresh uniforms and are transformed again.
void normal_fill(float* x, size_t n, float mean, float stdv, Generator& g, NormalKernel kernel) {
  for (size_t i = 0; i < n; ++i) x[i] = uniform01_float(g);
  for (size_t i = 0; i + 16 <= n; i += 16) normal_block(x + i, mean, stdv, kernel);
  if (n % 16 != 0) {
    float* tail = x + n - 16;
    for (size_t i = 0; i < 16; ++i) tail[i] = uniform01_float(g);
    normal_block(tail, mean, stdv, kernel);
  }
}

// at::normal_distribution<double>: Box–Muller on two double uniforms, returning r cos(theta) and
// caching r sin(theta) in the generator for the next call (torch 1.13 uses log(1 - u2)).
double normal_double(Generator& g, double mean, double stdv, bool fused) {
  double z;
  if (std::optional<double> cached = g.take_next_normal()) {
    z = *cached;
  } else {
    const double u1 = uniform01_double(g);
    const double u2 = uniform01_double(g);
    const double r = std::sqrt(-2.0 * std::log(1.0 - u2));
    const double theta = 2.0 * kPi * u1;
    g.set_next_normal(r * std::sin(theta));
    z = r * std::cos(theta);
  }
  return fused ? std::fma(z, stdv, mean) : z * stdv + mean;
}

}  // namespace

void normal_(float* x, size_t n, double mean, double stdv, Generator& g) {
  normal_(x, n, mean, stdv, g, default_normal_kernel());
}

void normal_(float* x, size_t n, double mean, double stdv, Generator& g, NormalKernel kernel) {
  if (!(stdv >= 0.0)) {
    throw UserError("normal_ needs std >= 0, got std=" + std::to_string(stdv));
  }
  if (n >= 16) {
    normal_fill(x, n, static_cast<float>(mean), static_cast<float>(stdv), g, kernel);
    return;
  }
  const bool fused = kernel == NormalKernel::Avx2;  // GCC contracts `z * std + mean` only with -mfma
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(normal_double(g, mean, stdv, fused));
}

// ---- exponential, bernoulli, randint ---------------------------------------------------------

void exponential_(float* x, size_t n, double lambd, Generator& g) {
  if (!(lambd > 0.0)) {
    throw UserError("exponential_ needs lambd > 0, got " + std::to_string(lambd));
  }
  const double scale = -1.0 / lambd;
  for (size_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(scale * std::log(1.0 - uniform01_double(g)));
  }
}

// bernoulli_ draws u = k · 2^-53 from the 53 low bits k of random64() (uniform01_double) and keeps
// an element if u < p. Scaling by a power of two is exact, so u < p exactly when the integer k is
// below p · 2^53, i.e. below its ceiling T: the comparison is made on integers, 64 draws at a time,
// from engine outputs generated in blocks. kept(k) below is that test.
namespace {

constexpr uint64_t kLow53 = (uint64_t{1} << 53) - 1;

void check_probability(double p) {
  if (!(p >= 0.0 && p <= 1.0)) {
    throw UserError("bernoulli_ needs a probability 0 <= p <= 1, got " + std::to_string(p));
  }
}

// Bit j of the result: whether element j of m <= 64 is kept; w holds its 2m engine outputs (the high
// word of random64() first).
uint64_t bernoulli_word(const uint32_t* w, int m, uint64_t threshold) {
  uint64_t bits = 0;
  int j = 0;
#if defined(__AVX512F__)
  // a 64-bit lane of 8 pairs is lo << 32 | hi as loaded; rotated by 32 it is random64()
  const __m512i t = _mm512_set1_epi64(static_cast<long long>(threshold)), low = _mm512_set1_epi64(kLow53);
  for (; j + 8 <= m; j += 8) {
    const __m512i v = _mm512_loadu_si512(w + 2 * j);
    const __m512i k = _mm512_and_si512(_mm512_ror_epi64(v, 32), low);
    bits |= static_cast<uint64_t>(_mm512_cmplt_epu64_mask(k, t)) << j;
  }
#elif defined(__AVX2__)
  // k and the threshold are below 2^63, so the signed comparison is the unsigned one
  const __m256i t = _mm256_set1_epi64x(static_cast<long long>(threshold)), low = _mm256_set1_epi64x(kLow53);
  for (; j + 4 <= m; j += 4) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 2 * j));
    const __m256i k = _mm256_and_si256(_mm256_shuffle_epi32(v, 0xB1), low);  // swap the halves
    const int lanes = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(t, k)));
    bits |= static_cast<uint64_t>(lanes) << j;
  }
#endif
  for (; j < m; ++j) {
    const uint64_t k = ((static_cast<uint64_t>(w[2 * j]) << 32) | w[2 * j + 1]) & kLow53;
    bits |= static_cast<uint64_t>(k < threshold) << j;
  }
  return bits;
}

// Calls put(first element, bits, m) for the n draws in order, m <= 64 elements at a time (64 but
// for the last).
template <class Put>
void bernoulli_stream(size_t n, double p, Generator& g, Put put) {
  const uint64_t threshold = static_cast<uint64_t>(std::ceil(p * 0x1p53));
  constexpr size_t kBlock = 1024;  // elements per block of engine outputs (8 KiB of words)
  uint32_t words[2 * kBlock];
  for (size_t s = 0; s < n; s += kBlock) {
    const size_t b = std::min(kBlock, n - s);
    g.random_block(words, 2 * b);
    for (size_t j = 0; j < b; j += 64) {
      const int m = static_cast<int>(std::min<size_t>(64, b - j));
      put(s + j, bernoulli_word(words + 2 * j, m, threshold), m);
    }
  }
}

}  // namespace

void bernoulli_(float* x, size_t n, double p, Generator& g) {
  check_probability(p);
  bernoulli_stream(n, p, g, [x](size_t at, uint64_t bits, int m) {
    for (int j = 0; j < m; ++j) x[at + j] = (bits >> j) & 1u ? 1.0f : 0.0f;
  });
}

void bernoulli_bits(uint64_t* out, size_t offset, size_t n, double p, Generator& g) {
  check_probability(p);
  bernoulli_stream(n, p, g, [out, offset](size_t at, uint64_t bits, int m) {
    const size_t pos = offset + at, w = pos / 64;
    const int s = static_cast<int>(pos % 64);
    const uint64_t mask = m == 64 ? ~uint64_t{0} : (uint64_t{1} << m) - 1;
    out[w] = (out[w] & ~(mask << s)) | (bits << s);
    if (s + m > 64) out[w + 1] = (out[w + 1] & ~(mask >> (64 - s))) | (bits >> (64 - s));
  });
}

void random_(int64_t* x, size_t n, int64_t low, int64_t high, Generator& g) {
  if (low >= high) {
    throw UserError("randint needs low < high, got low=" + std::to_string(low) +
                    " high=" + std::to_string(high));
  }
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  const bool wide = range >= (uint64_t{1} << 32);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t r = wide ? g.random64() : g.random();
    x[i] = static_cast<int64_t>(r % range + static_cast<uint64_t>(low));
  }
}

// ---- conveniences ----------------------------------------------------------------------------

std::vector<float> rand(size_t n, Generator& g) {
  std::vector<float> x(n);
  uniform_(x.data(), n, 0.0, 1.0, g);
  return x;
}

std::vector<float> randn(size_t n, Generator& g) { return randn(n, g, default_normal_kernel()); }

std::vector<float> randn(size_t n, Generator& g, NormalKernel kernel) {
  std::vector<float> x(n);
  normal_(x.data(), n, 0.0, 1.0, g, kernel);
  return x;
}

std::vector<int64_t> randint(int64_t low, int64_t high, size_t n, Generator& g) {
  std::vector<int64_t> x(n);
  random_(x.data(), n, low, high, g);
  return x;
}

std::vector<int64_t> randperm(int64_t n, Generator& g) {
  if (n < 0) throw UserError("randperm needs n >= 0, got " + std::to_string(n));
  std::vector<int64_t> r(static_cast<size_t>(n));
  std::iota(r.begin(), r.end(), int64_t{0});
  for (int64_t i = 0; i + 1 < n; ++i) {
    const int64_t z = static_cast<int64_t>(g.random() % static_cast<uint64_t>(n - i));
    std::swap(r[i], r[i + z]);
  }
  return r;
}

// ---- multinomial -----------------------------------------------------------------------------

namespace {

void check_multinomial(const float* probs, size_t rows, size_t n, size_t num_samples, bool replacement) {
  if (n == 0) throw UserError("multinomial needs at least one category per row");
  if (n > (size_t{1} << 24)) throw UserError("multinomial supports at most 2^24 categories");
  if (num_samples == 0) throw UserError("multinomial needs num_samples >= 1");
  if (!replacement && num_samples > n) {
    throw UserError("multinomial without replacement cannot draw " + std::to_string(num_samples) +
                    " samples from " + std::to_string(n) + " categories (pass replacement=true)");
  }
  for (size_t r = 0; r < rows; ++r) {
    double total = 0.0;
    for (size_t j = 0; j < n; ++j) {
      const float p = probs[r * n + j];
      if (!(p >= 0.0f) || !std::isfinite(p)) {
        throw UserError("multinomial needs finite, non-negative weights (row " + std::to_string(r) + ")");
      }
      total += p;
    }
    if (!(total > 0.0)) {
      throw UserError("multinomial row " + std::to_string(r) + " sums to 0 (give it a positive weight)");
    }
  }
}

// One row, torch 1.13's CDF search: cumulative sum and normalisation in float, the last bucket forced
// to 1, then for each sample the first index with cdf >= u (u a double uniform).
void sample_with_replacement(const float* p, size_t n, size_t num_samples, Generator& g,
                             std::vector<float>& cdf, int64_t* out) {
  float sum = 0.0f;
  for (size_t j = 0; j < n; ++j) {
    sum += p[j];
    cdf[j] = sum;
  }
  for (size_t j = 0; j < n; ++j) cdf[j] /= sum;
  cdf[n - 1] = 1.0f;
  for (size_t s = 0; s < num_samples; ++s) {
    const double u = uniform01_double(g);
    size_t lo = 0, hi = n;
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (static_cast<double>(cdf[mid]) < u) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    out[s] = static_cast<int64_t>(lo);
  }
}

// One row of the exponential trick: the num_samples largest p / q (q ~ Exp(1) already drawn), in
// descending order, like argmax (num_samples = 1) and topk. The first maximum wins ties, and NaN
// (0 / 0, when a draw of exactly u = 0 meets a zero weight: about 2^-53 per entry) counts as the
// largest value, as in torch.
void top_ratios(const float* p, const float* q, size_t n, size_t num_samples, int64_t* out) {
  std::vector<float> ratio(n);
  for (size_t j = 0; j < n; ++j) ratio[j] = p[j] / q[j];
  auto greater = [&](size_t a, size_t b) {
    if (std::isnan(ratio[a])) return !std::isnan(ratio[b]);
    return !std::isnan(ratio[b]) && ratio[a] > ratio[b];
  };
  if (num_samples == 1) {
    size_t best = 0;
    for (size_t j = 1; j < n; ++j) best = greater(j, best) ? j : best;
    out[0] = static_cast<int64_t>(best);
    return;
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), greater);
  for (size_t s = 0; s < num_samples; ++s) out[s] = static_cast<int64_t>(order[s]);
}

}  // namespace

std::vector<int64_t> multinomial(const float* probs, size_t rows, size_t n, size_t num_samples,
                                 bool replacement, Generator& g) {
  check_multinomial(probs, rows, n, num_samples, replacement);
  std::vector<int64_t> out(rows * num_samples);
  if (replacement) {
    std::vector<float> cdf(n);
    for (size_t r = 0; r < rows; ++r) {
      sample_with_replacement(probs + r * n, n, num_samples, g, cdf, out.data() + r * num_samples);
    }
    return out;
  }
  std::vector<float> q(rows * n);  // every row's exponentials are drawn before any division
  exponential_(q.data(), q.size(), 1.0, g);
  for (size_t r = 0; r < rows; ++r) {
    top_ratios(probs + r * n, q.data() + r * n, n, num_samples, out.data() + r * num_samples);
  }
  return out;
}

// ---- init helpers ----------------------------------------------------------------------------

void linear_init_(float* weight, float* bias, int64_t in_features, int64_t out_features, Generator& g) {
  if (in_features < 1 || out_features < 1) {
    throw UserError("nn.Linear needs in_features >= 1 and out_features >= 1, got " +
                    std::to_string(in_features) + " and " + std::to_string(out_features));
  }
  // torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5)), step by step in Python's double arithmetic:
  // gain = sqrt(2 / (1 + a**2)), std = gain / sqrt(fan_in), bound = sqrt(3) * std (~ 1/sqrt(fan_in)).
  const double a = std::sqrt(5.0);
  const double gain = std::sqrt(2.0 / (1.0 + a * a));  // a**2 in Python rounds like a * a
  const double fan_in = static_cast<double>(in_features);
  const double bound = std::sqrt(3.0) * (gain / std::sqrt(fan_in));
  uniform_(weight, static_cast<size_t>(in_features * out_features), -bound, bound, g);
  if (bias) {
    const double bias_bound = 1.0 / std::sqrt(fan_in);
    uniform_(bias, static_cast<size_t>(out_features), -bias_bound, bias_bound, g);
  }
}

void embedding_init_(float* weight, size_t n, Generator& g) { normal_(weight, n, 0.0, 1.0, g); }

}  // namespace z2h
