// common/rng/generator.hpp against PyTorch 1.13.1 (goldens/rng_torch.json, goldens/rng_names.json).
// Every RNG output is compared bit for bit; "next" checks that an operation consumed as many draws as
// torch's did, by comparing the generator's next 4 draws.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "common/app/error.hpp"
#include "common/rng/generator.hpp"
#include "test_rng_goldens.hpp"

using namespace z2h;
using namespace z2h::rng_test;

namespace {

const json& torch_goldens() {
  static const json j = load_golden("rng_torch.json");
  return j;
}

// The golden section of a randn kernel: "avx2" (torch's default x86 build) or "scalar".
const json& kernel_section(NormalKernel k) {
  return torch_goldens()[k == NormalKernel::Scalar ? "scalar" : "avx2"];
}

}  // namespace

TEST_CASE("rng: Mt19937 equals std::mt19937 and its 10000th output of seed 5489 is 4123659995") {
  Mt19937 ours;
  std::mt19937 standard;
  for (int i = 0; i < 9999; ++i) REQUIRE(ours() == standard());
  CHECK(ours() == 4123659995u);
}

TEST_CASE("rng: Generator() has torch's default seed and manual_seed keeps 64 bits but uses the low 32") {
  const json& g = torch_goldens()["avx2"];
  CHECK(Generator::default_seed == g["default_seed"].get<uint64_t>());
  CHECK(Generator().initial_seed() == 67280421310721ull);

  Generator big((uint64_t{1} << 40) + 5);
  CHECK(big.initial_seed() == g["seed_2^40+5"]["initial_seed"].get<uint64_t>());
  CHECK(next4(big) == g["seed_2^40+5"]["next"].get<std::vector<int64_t>>());
  Generator five(5);
  Generator big_again((uint64_t{1} << 40) + 5);
  for (int i = 0; i < 100; ++i) REQUIRE(five.random() == big_again.random());
}

TEST_CASE("rng: random() gives torch's raw 32-bit draws and random64() puts the first draw high") {
  for (const json& s : torch_goldens()["avx2"]["seeds"]) {
    INFO("seed " << s["seed"]);
    Generator g(s["seed"].get<uint64_t>());
    std::vector<uint32_t> got;
    for (int i = 0; i < 8; ++i) got.push_back(g.random());
    CHECK(got == s["random"].get<std::vector<uint32_t>>());
    CHECK(g.draws() == 8);

    Generator h(s["seed"].get<uint64_t>());
    const uint64_t first = (uint64_t{got[0]} << 32) | got[1];
    CHECK(h.random64() == first);
    CHECK(h.draws() == 2);
  }
}

TEST_CASE("rng: rand matches torch for sizes 1 to 200x27 with one draw per value") {
  for (const json& s : torch_goldens()["avx2"]["seeds"]) {
    for (const auto& [label, golden] : s["rand"].items()) {
      INFO("seed " << s["seed"] << ", torch.rand(" << label << ")");
      Generator g(s["seed"].get<uint64_t>());
      const size_t n = numel(json(label));
      CHECK_NO_DIFF(f32_diff(golden["values"], rand(n, g)));
      CHECK(g.draws() == n);
      CHECK(next4(g) == golden["next"].get<std::vector<int64_t>>());
    }
  }
}

TEST_CASE("rng: randn matches torch's AVX2 and scalar kernels for sizes 1 to 200x27") {
  for (NormalKernel kernel : {NormalKernel::Avx2, NormalKernel::Scalar}) {
    for (const json& s : kernel_section(kernel)["seeds"]) {
      for (const auto& [label, golden] : s["randn"].items()) {
        INFO("kernel " << to_string(kernel) << ", seed " << s["seed"] << ", torch.randn(" << label << ")");
        Generator g(s["seed"].get<uint64_t>());
        const size_t n = numel(json(label));
        CHECK_NO_DIFF(f32_diff(golden["values"], randn(n, g, kernel)));
        // n >= 16: n draws, +16 when a partial block is redrawn; n < 16: two per Box–Muller pair
        const size_t draws = n >= 16 ? n + (n % 16 ? 16 : 0) : 4 * ((n + 1) / 2);
        CHECK(g.draws() == draws);
        CHECK(next4(g) == golden["next"].get<std::vector<int64_t>>());
      }
    }
  }
}

TEST_CASE("rng: randn(27) consumes 43 draws and matches torch") {
  const json& golden = torch_goldens()["avx2"]["seeds"][0];  // seed 2147483647
  Generator g(2147483647);
  const std::vector<float> x = randn(27, g, NormalKernel::Avx2);
  CHECK(g.draws() == 43);  // 27 uniforms, then the last 16 slots redrawn
  CHECK_NO_DIFF(f32_diff(golden["randn"]["27"]["values"], x));
}

TEST_CASE("rng: randn of fewer than 16 values keeps the Box-Muller partner across calls") {
  for (NormalKernel kernel : {NormalKernel::Avx2, NormalKernel::Scalar}) {
    for (const json& s : kernel_section(kernel)["seeds"]) {
      INFO("kernel " << to_string(kernel) << ", seed " << s["seed"] << ": randn(5) randn(1) randn(3) randn(20) randn(2) rand(2)");
      const json& golden = s["box_muller"];
      Generator g(s["seed"].get<uint64_t>());
      for (size_t i = 0; i < 5; ++i) {
        const size_t n = golden["sizes"][i].get<size_t>();
        INFO("call " << i << ": randn(" << n << ")");
        CHECK_NO_DIFF(f32_diff(golden["randn"][i], randn(n, g, kernel)));
      }
      CHECK(g.has_next_normal());  // randn(5) left one, randn(1) took it, randn(3) left one, randn(20)
                                  // ignored it, randn(2) took it and left another
      CHECK_NO_DIFF(f32_diff(golden["rand2"], rand(2, g)));
      CHECK(next4(g) == golden["next"].get<std::vector<int64_t>>());
    }
  }
}

TEST_CASE("rng: manual_seed clears the cached normal") {
  Generator g(42);
  const float first = randn(1, g)[0];
  REQUIRE(g.has_next_normal());
  g.manual_seed(42);
  CHECK_FALSE(g.has_next_normal());
  CHECK(randn(1, g)[0] == first);
  CHECK(g.draws() == 4);
}

TEST_CASE("rng: normal_ with mean 0.5 and std 2 matches torch for 5 and 33 values") {
  for (NormalKernel kernel : {NormalKernel::Avx2, NormalKernel::Scalar}) {
    for (const json& s : kernel_section(kernel)["seeds"]) {
      for (const char* key : {"normal_small", "normal_big"}) {
        const json& golden = s[key];
        INFO("kernel " << to_string(kernel) << ", seed " << s["seed"] << ", " << key);
        Generator g(s["seed"].get<uint64_t>());
        std::vector<float> x(std::string(key) == "normal_small" ? 5 : 33);
        normal_(x.data(), x.size(), golden["mean"].get<double>(), golden["std"].get<double>(), g, kernel);
        CHECK_NO_DIFF(f32_diff(golden["values"], x));
        CHECK(next4(g) == golden["next"].get<std::vector<int64_t>>());
      }
    }
  }
}

TEST_CASE("rng: the three randn kernels agree to 2 ulp and the default follows set_default_normal_kernel") {
  Generator a(1337), b(1337), c(1337);
  const std::vector<float> avx2 = randn(6000, a, NormalKernel::Avx2);
  const std::vector<float> nofma = randn(6000, b, NormalKernel::Avx2NoFma);
  const std::vector<float> scalar = randn(6000, c, NormalKernel::Scalar);
  int differ = 0;
  for (size_t i = 0; i < avx2.size(); ++i) {
    const float tol = 2.0f * (std::nextafter(std::fabs(avx2[i]), INFINITY) - std::fabs(avx2[i]));
    REQUIRE(std::fabs(avx2[i] - nofma[i]) <= tol);
    REQUIRE(std::fabs(avx2[i] - scalar[i]) <= 2e-6f);  // torch's own kernels differ up to 1.7e-6
    differ += avx2[i] != nofma[i];
  }
  CHECK(differ > 0);  // the FMAs do change ~1% of the values

  const NormalKernel saved = default_normal_kernel();
  set_default_normal_kernel(NormalKernel::Scalar);
  Generator d(1337);
  CHECK(randn(6000, d) == scalar);
  set_default_normal_kernel(saved);
}

TEST_CASE("rng: randn kernels are named avx2 scalar and avx2-nofma for Z2H_RANDN_KERNEL") {
  for (NormalKernel k : {NormalKernel::Avx2, NormalKernel::Scalar, NormalKernel::Avx2NoFma}) {
    CHECK(parse_normal_kernel(to_string(k)) == k);
  }
  CHECK_THROWS_AS(parse_normal_kernel("sse"), UserError);
  CHECK_THROWS_WITH(parse_normal_kernel("sse"), Catch::Contains("avx2, scalar or avx2-nofma"));
  const char* env = std::getenv("Z2H_RANDN_KERNEL");
  if (!env || !*env) CHECK(default_normal_kernel() == NormalKernel::Avx2);
}

TEST_CASE("rng: uniform_ is torch's fused float fma on floats and 53 bits of random64 on doubles") {
  for (const json& s : torch_goldens()["avx2"]["seeds"]) {
    INFO("seed " << s["seed"]);
    const json& golden = s["uniform"];
    Generator g(s["seed"].get<uint64_t>());
    std::vector<float> x(golden["values"]["n"].get<size_t>());
    uniform_(x.data(), x.size(), golden["from"].get<double>(), golden["to"].get<double>(), g);
    CHECK_NO_DIFF(f32_diff(golden["values"], x));
    CHECK(next4(g) == golden["next"].get<std::vector<int64_t>>());

    const json& gd = s["uniform_double"];
    Generator h(s["seed"].get<uint64_t>());
    std::vector<double> y(gd["values"].size());
    uniform_(y.data(), y.size(), gd["from"].get<double>(), gd["to"].get<double>(), h);
    CHECK(y == gd["values"].get<std::vector<double>>());
    CHECK(next4(h) == gd["next"].get<std::vector<int64_t>>());
  }
}

TEST_CASE("rng: randint uses random() below a 2^32 range and random64() from 2^32 with plain modulo") {
  for (const json& s : torch_goldens()["avx2"]["seeds"]) {
    for (const json& c : s["randint"]) {
      INFO("seed " << s["seed"] << ", torch.randint(" << c["low"] << ", " << c["high"] << ")");
      Generator g(s["seed"].get<uint64_t>());
      const auto want = c["values"].get<std::vector<int64_t>>();
      CHECK(randint(c["low"].get<int64_t>(), c["high"].get<int64_t>(), want.size(), g) == want);
      CHECK(next4(g) == c["next"].get<std::vector<int64_t>>());
    }
  }
}

TEST_CASE("rng: randperm is torch's forward Fisher-Yates with modulo") {
  for (const json& s : torch_goldens()["avx2"]["seeds"]) {
    for (const json& c : s["randperm"]) {
      INFO("seed " << s["seed"] << ", torch.randperm(" << c["n"] << ")");
      Generator g(s["seed"].get<uint64_t>());
      CHECK(randperm(c["n"].get<int64_t>(), g) == c["values"].get<std::vector<int64_t>>());
      CHECK(next4(g) == c["next"].get<std::vector<int64_t>>());
    }
  }
}

TEST_CASE("rng: exponential_ and bernoulli_ match torch's non-MKL CPU kernels") {
  for (const json& s : torch_goldens()["avx2"]["seeds"]) {
    INFO("seed " << s["seed"]);
    const json& e = s["exponential"];
    Generator g(s["seed"].get<uint64_t>());
    for (size_t i = 0; i < 2; ++i) {
      std::vector<float> x(e["sizes"][i].get<size_t>());
      exponential_(x.data(), x.size(), e["lambd"][i].get<double>(), g);
      CHECK_NO_DIFF(f32_diff(e["values"][i], x));
    }
    CHECK(next4(g) == e["next"].get<std::vector<int64_t>>());

    const json& b = s["bernoulli"];
    Generator h(s["seed"].get<uint64_t>());
    std::vector<float> mask(b["values"].size());
    bernoulli_(mask.data(), mask.size(), b["p"].get<double>(), h);
    CHECK(std::vector<int64_t>(mask.begin(), mask.end()) == b["values"].get<std::vector<int64_t>>());
    CHECK(next4(h) == b["next"].get<std::vector<int64_t>>());
  }
}

// The block paths (Mt19937::generate, bernoulli_'s 64-at-a-time integer comparison, bernoulli_bits)
// against the element-by-element definition — u = (random64() & (2^53 - 1)) · 2^-53, kept if u < p —
// on sizes and bit offsets that are not multiples of anything, across twists, and the engine state after.
TEST_CASE("rng: the block paths draw exactly what element-by-element draws") {
  const std::vector<size_t> sizes = {1, 7, 63, 64, 65, 311, 1023, 1024, 1025, 2500};
  SECTION("Mt19937::generate is n calls of operator() and std::mt19937") {
    Mt19937 a(1337), b(1337);
    std::mt19937 ref(1337);
    for (size_t n : sizes) {
      std::vector<uint32_t> block(n);
      a.generate(block.data(), n);
      for (size_t i = 0; i < n; ++i) {
        const uint32_t one = b();
        REQUIRE(block[i] == one);
        REQUIRE(one == ref());
      }
      CHECK(a.position() == b.position());
      CHECK(a.words() == b.words());
    }
  }
  for (double p : {0.8, 0.5, 0.1, 1.0 / 3.0, 0.0, 1.0, 0x1p-53, 1.0 - 0x1p-53}) {
    INFO("p = " << p);
    for (size_t offset : {size_t{0}, size_t{1}, size_t{37}, size_t{63}, size_t{64}, size_t{100}}) {
      INFO("offset " << offset);
      Generator fast(42), slow(42);
      uint64_t before = 0x5555aaaa5555aaaaull;  // bits outside the range must survive
      for (size_t n : sizes) {
        INFO("n = " << n);
        std::vector<uint64_t> bits((offset + n + 63) / 64 + 1, before);
        bernoulli_bits(bits.data(), offset, n, p, fast);
        std::vector<float> floats(n);
        Generator fast_f(fast.state().seed);
        fast_f.set_state(slow.state());
        bernoulli_(floats.data(), n, p, fast_f);
        size_t wrong_bits = 0, wrong_floats = 0;
        for (size_t i = 0; i < n; ++i) {
          const double u = static_cast<double>(slow.random64() & ((uint64_t{1} << 53) - 1)) * 0x1p-53;
          const bool keep = u < p;
          const size_t at = offset + i;
          wrong_bits += ((bits[at / 64] >> (at % 64)) & 1u) != static_cast<uint64_t>(keep);
          wrong_floats += floats[i] != (keep ? 1.0f : 0.0f);
        }
        CHECK(wrong_bits == 0);
        CHECK(wrong_floats == 0);
        size_t untouched = 0;  // the bits before offset and after offset + n
        for (size_t at = 0; at < bits.size() * 64; ++at)
          if (at < offset || at >= offset + n)
            untouched += ((bits[at / 64] >> (at % 64)) & 1u) == ((before >> (at % 64)) & 1u);
        CHECK(untouched == bits.size() * 64 - n);
        const Generator::State sf = fast.state(), ss = slow.state(), sff = fast_f.state();
        CHECK(sf.words == ss.words);
        CHECK(sf.position == ss.position);
        CHECK(sf.draws == ss.draws);
        CHECK(sff.words == ss.words);
        CHECK(sff.position == ss.position);
        CHECK(sff.draws == ss.draws);
      }
    }
  }
}

TEST_CASE("rng: multinomial with replacement is torch 1.13's CDF search") {
  for (const json& s : torch_goldens()["avx2"]["seeds"]) {
    INFO("seed " << s["seed"]);
    const json& m = s["multinomial"];
    const uint64_t seed = s["seed"].get<uint64_t>();
    {  // part 1: p = torch.rand(3); p = p / p.sum(); torch.multinomial(p, 100, replacement=True)
      Generator g(seed);
      std::vector<float> p = rand(3, g);
      const float sum = (p[0] + p[1]) + p[2];
      for (float& v : p) v /= sum;
      CHECK(multinomial(p.data(), 1, 3, 100, true, g) == m["lecture_p100"]["samples"].get<std::vector<int64_t>>());
      CHECK(next4(g) == m["lecture_p100"]["next"].get<std::vector<int64_t>>());
    }
    {  // 4 rows of 27 unnormalised weights, 5 samples each
      Generator g(seed);
      const std::vector<float> w = rand(4 * 27, g);
      CHECK(multinomial(w.data(), 4, 27, 5, true, g) == m["rows4x27_k5_replacement"]["samples"].get<std::vector<int64_t>>());
      CHECK(next4(g) == m["rows4x27_k5_replacement"]["next"].get<std::vector<int64_t>>());
    }
    {  // zero weights are never drawn
      Generator g(seed);
      const std::array<float, 5> w = {0, 3, 0, 1, 0};
      CHECK(multinomial(w.data(), 1, 5, 20, true, g) == m["zeros_k20_replacement"]["samples"].get<std::vector<int64_t>>());
      CHECK(next4(g) == m["zeros_k20_replacement"]["next"].get<std::vector<int64_t>>());
      std::vector<int64_t> one_at_a_time;  // the exponential trick, continuing the same generator
      for (int i = 0; i < 5; ++i) one_at_a_time.push_back(multinomial(w.data(), 1, 5, 1, false, g)[0]);
      CHECK(one_at_a_time == m["zeros_k1_no_replacement_x5"]["samples"].get<std::vector<int64_t>>());
      CHECK(next4(g) == m["zeros_k1_no_replacement_x5"]["next"].get<std::vector<int64_t>>());
    }
  }
}

TEST_CASE("rng: multinomial without replacement is the exponential trick over all rows") {
  for (const json& s : torch_goldens()["avx2"]["seeds"]) {
    INFO("seed " << s["seed"]);
    const json& m = s["multinomial"];
    const uint64_t seed = s["seed"].get<uint64_t>();
    {  // multinomial(probs, 1): 4 x 65 exponentials first (2 draws each), then argmax per row
      Generator g(seed);
      const std::vector<float> w = rand(4 * 65, g);
      const uint64_t before = g.draws();
      CHECK(multinomial(w.data(), 4, 65, 1, false, g) == m["rows4x65_k1_no_replacement"]["samples"].get<std::vector<int64_t>>());
      CHECK(g.draws() - before == 2 * 4 * 65);
      CHECK(next4(g) == m["rows4x65_k1_no_replacement"]["next"].get<std::vector<int64_t>>());
    }
    {  // multinomial(probs, 3): the top 3 of p / q, largest first
      Generator g(seed);
      const std::vector<float> w = rand(2 * 10, g);
      CHECK(multinomial(w.data(), 2, 10, 3, false, g) == m["rows2x10_k3_no_replacement"]["samples"].get<std::vector<int64_t>>());
      CHECK(next4(g) == m["rows2x10_k3_no_replacement"]["next"].get<std::vector<int64_t>>());
    }
  }
}

TEST_CASE("rng: nn.Linear and nn.Embedding inits draw in PyTorch's order from the global generator") {
  for (NormalKernel kernel : {NormalKernel::Avx2, NormalKernel::Scalar}) {
    const NormalKernel saved = default_normal_kernel();
    set_default_normal_kernel(kernel);
    for (const json& s : kernel_section(kernel)["init"]) {
      INFO("kernel " << to_string(kernel) << ", torch.manual_seed(" << s["seed"] << "); " << s["order"]);
      Generator& g = manual_seed(s["seed"].get<uint64_t>());
      std::vector<float> w1(200 * 30), b1(200), w2(16 * 32), w3(3), b3(3), e1(27 * 10), e2(3 * 4);
      linear_init_(w1.data(), b1.data(), 30, 200, g);
      linear_init_(w2.data(), nullptr, 32, 16, g);
      linear_init_(w3.data(), b3.data(), 1, 3, g);
      embedding_init_(e1.data(), e1.size(), g);
      embedding_init_(e2.data(), e2.size(), g);
      if (kernel == NormalKernel::Avx2) {  // torch's scalar build computes uniform_ unfused: not compared
        CHECK_NO_DIFF(f32_diff(s["linear_30_200"]["weight"], w1));
        CHECK_NO_DIFF(f32_diff(s["linear_30_200"]["bias"], b1));
        CHECK_NO_DIFF(f32_diff(s["linear_32_16_nobias"]["weight"], w2));
        CHECK_NO_DIFF(f32_diff(s["linear_1_3"]["weight"], w3));
        CHECK_NO_DIFF(f32_diff(s["linear_1_3"]["bias"], b3));
        CHECK(next4(g) == s["next"].get<std::vector<int64_t>>());
      }
      CHECK_NO_DIFF(f32_diff(s["embedding_27_10"], e1));
      CHECK_NO_DIFF(f32_diff(s["embedding_3_4"], e2));
    }
    set_default_normal_kernel(saved);
  }
}

TEST_CASE("rng: manual_seed seeds the global generator like torch.manual_seed and dropout keeps 1 - p") {
  for (const json& s : torch_goldens()["avx2"]["global"]) {
    INFO("torch.manual_seed(" << s["seed"] << ")");
    Generator& g = manual_seed(s["seed"].get<uint64_t>());
    CHECK(&g == &default_generator());
    CHECK_NO_DIFF(f32_diff(s["randn_27x10"], randn(270, default_generator(), NormalKernel::Avx2)));
    CHECK(randint(0, 1000, 8, default_generator()) == s["randint_0_1000_8"].get<std::vector<int64_t>>());
    CHECK_NO_DIFF(f32_diff(s["rand_5"], rand(5, default_generator())));
    std::vector<float> keep(64);
    bernoulli_(keep.data(), keep.size(), 1.0 - 0.2, default_generator());  // F.dropout(x, p=0.2)
    CHECK(std::vector<int64_t>(keep.begin(), keep.end()) == s["dropout_p0.2_keep"].get<std::vector<int64_t>>());
    CHECK(next4(default_generator()) == s["next"].get<std::vector<int64_t>>());
  }
}

TEST_CASE("rng: bad arguments throw UserError with the fix") {
  Generator g;
  std::vector<float> x(4);
  std::vector<int64_t> i(4);
  CHECK_THROWS_AS(uniform_(x.data(), 4, 1.0, 0.0, g), UserError);
  CHECK_THROWS_AS(normal_(x.data(), 4, 0.0, -1.0, g), UserError);
  CHECK_THROWS_AS(exponential_(x.data(), 4, 0.0, g), UserError);
  CHECK_THROWS_AS(bernoulli_(x.data(), 4, 1.5, g), UserError);
  CHECK_THROWS_WITH(random_(i.data(), 4, 5, 5, g), Catch::Contains("low < high"));
  CHECK_THROWS_AS(randperm(-1, g), UserError);
  const std::array<float, 3> zeros = {0, 0, 0}, negative = {1, -1, 1}, ok = {1, 1, 1};
  CHECK_THROWS_WITH(multinomial(zeros.data(), 1, 3, 1, true, g), Catch::Contains("sums to 0"));
  CHECK_THROWS_AS(multinomial(negative.data(), 1, 3, 1, true, g), UserError);
  CHECK_THROWS_WITH(multinomial(ok.data(), 1, 3, 4, false, g), Catch::Contains("replacement=true"));
  CHECK_THROWS_AS(multinomial(ok.data(), 1, 3, 0, true, g), UserError);
  CHECK_THROWS_AS(linear_init_(x.data(), nullptr, 0, 4, g), UserError);
  CHECK(g.draws() == 0);  // nothing was drawn by a rejected call
}

// ---- the lecture's bigram sampler on names.txt -----------------------------------------------------

namespace {

// P = (N + 1).float(); P /= P.sum(1, keepdims=True) over names.txt's bigrams ('.' = 0, a..z = 1..26).
// The row sums are integers below 2^24, so they are exact in any summation order.
struct Bigrams {
  std::array<float, 27 * 27> P{};
  std::string itos;
};

Bigrams bigram_model(const std::vector<std::string>& words) {
  std::set<char> chars;
  for (const auto& w : words) chars.insert(w.begin(), w.end());
  REQUIRE(chars.size() == 26);
  Bigrams b;
  b.itos = std::string(1, '.') + std::string(chars.begin(), chars.end());
  std::map<char, int> stoi;
  for (size_t i = 0; i < b.itos.size(); ++i) stoi[b.itos[i]] = static_cast<int>(i);
  std::array<int, 27 * 27> N{};
  for (const auto& w : words) {
    const std::string chs = std::string(1, '.') + w + '.';
    for (size_t i = 0; i + 1 < chs.size(); ++i) ++N[stoi[chs[i]] * 27 + stoi[chs[i + 1]]];
  }
  for (int r = 0; r < 27; ++r) {
    float sum = 0.0f;
    for (int c = 0; c < 27; ++c) sum += static_cast<float>(N[r * 27 + c] + 1);
    for (int c = 0; c < 27; ++c) b.P[r * 27 + c] = static_cast<float>(N[r * 27 + c] + 1) / sum;
  }
  return b;
}

std::vector<std::string> sample_chain(const Bigrams& b, bool replacement, Generator& g) {
  std::vector<std::string> names;
  for (int k = 0; k < 300; ++k) {
    std::string name;
    int64_t ix = 0;
    do {
      ix = multinomial(b.P.data() + ix * 27, 1, 27, 1, replacement, g)[0];
      name += b.itos[static_cast<size_t>(ix)];
    } while (ix != 0);
    names.push_back(name);
  }
  return names;
}

}  // namespace

TEST_CASE("rng: a 300-name bigram chain from names.txt matches torch with and without replacement") {
  const json golden = load_golden("rng_names.json");
  const std::vector<std::string> words = read_names();
  REQUIRE(words.size() == golden["words"].get<size_t>());
  const Bigrams model = bigram_model(words);
  for (const char* mode : {"replacement", "no_replacement"}) {
    INFO("torch.multinomial(P[ix], 1, replacement=" << (std::string(mode) == "replacement" ? "True" : "False") << ")");
    const json& chain = golden["bigram_chain"][mode];
    Generator g(golden["bigram_chain"]["seed"].get<uint64_t>());
    const std::vector<std::string> names = sample_chain(model, std::string(mode) == "replacement", g);
    const auto want = chain["names"].get<std::vector<std::string>>();
    for (size_t i = 0; i < names.size(); ++i) {
      INFO("name " << i);
      REQUIRE(names[i] == want[i]);
    }
    CHECK(next4(g) == chain["next"].get<std::vector<int64_t>>());
  }
}

TEST_CASE("rng: the part-1 sampler prints the lecture's mor. axx. minaymoryles. kondlaisah. anchshizarie.") {
  const Bigrams model = bigram_model(read_names());
  Generator g(2147483647);
  const std::vector<std::string> names = sample_chain(model, true, g);
  CHECK(std::vector<std::string>(names.begin(), names.begin() + 5) ==
        std::vector<std::string>{"mor.", "axx.", "minaymoryles.", "kondlaisah.", "anchshizarie."});
}
