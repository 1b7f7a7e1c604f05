// common/tests/test_rng_state.cpp — Generator::state() / set_state(): a generator given another's state
// draws exactly what that one draws next (engine words and position, the cached Box–Muller normal,
// the seed and draw count), also through the text form checkpoints store.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "common/rng/generator.hpp"

using z2h::Generator;

namespace {
// A mix of draws that uses every part of the state: small randn (caches a normal), a long rand that
// crosses the engine's 624-word twist, randn >= 16, 64-bit draws.
std::vector<double> draws(Generator& g) {
  std::vector<double> out;
  std::vector<float> f(5);
  z2h::normal_(f.data(), f.size(), 0.0, 1.0, g);  // n < 16: one Box-Muller pair per two, the 6th cached
  out.insert(out.end(), f.begin(), f.end());
  f.resize(700);
  z2h::uniform_(f.data(), f.size(), 0.0, 1.0, g);
  out.insert(out.end(), f.begin(), f.end());
  f.resize(27);
  z2h::normal_(f.data(), f.size(), 0.0, 1.0, g);
  out.insert(out.end(), f.begin(), f.end());
  out.push_back(static_cast<double>(g.random64()));
  return out;
}
}  // namespace

TEST_CASE("rng: a generator given another's state continues its stream exactly", "[rng][state]") {
  for (int warmup : {0, 1, 3, 623, 624, 625, 2000}) {
    INFO("after " << warmup << " draws and an odd small randn");
    Generator g(1337);
    for (int i = 0; i < warmup; ++i) g.random();
    std::vector<float> odd(3);
    z2h::normal_(odd.data(), odd.size(), 0.0, 1.0, g);  // leaves a cached normal
    REQUIRE(g.has_next_normal());
    const Generator::State s = g.state();
    Generator h(42);  // another seed, another position
    h.set_state(s);
    CHECK(h.initial_seed() == 1337);
    CHECK(h.draws() == g.draws());
    const std::vector<double> a = draws(g), b = draws(h);
    CHECK(a == b);
    // and through the text form
    Generator k;
    k.set_state(Generator::parse_state(Generator::encode_state(s)));
    Generator g2(1337);
    g2.set_state(s);
    CHECK(draws(k) == draws(g2));
  }
}

TEST_CASE("rng: the state's text form round-trips, a fresh generator's too", "[rng][state]") {
  Generator fresh(5);
  const Generator::State s = fresh.state();
  CHECK(s.position == 624);  // the first draw twists
  CHECK_FALSE(s.next_normal.has_value());
  const Generator::State t = Generator::parse_state(Generator::encode_state(s));
  CHECK(t.words == s.words);
  CHECK(t.position == s.position);
  CHECK(t.seed == s.seed);
  CHECK(t.draws == s.draws);
  CHECK_FALSE(t.next_normal.has_value());
}

TEST_CASE("rng: parse_state rejects what encode_state did not write", "[rng][state]") {
  const std::string good = Generator::encode_state(Generator(1).state());
  CHECK_NOTHROW(Generator::parse_state(good));
  CHECK_THROWS_AS(Generator::parse_state(""), std::invalid_argument);
  CHECK_THROWS_AS(Generator::parse_state("mt19937 v2" + good.substr(10)), std::invalid_argument);
  CHECK_THROWS_AS(Generator::parse_state(good.substr(0, good.size() - 1)), std::invalid_argument);
  std::string bad_pos = good;
  bad_pos.replace(11, 3, "999");
  CHECK_THROWS_AS(Generator::parse_state(bad_pos), std::invalid_argument);
  std::string bad_hex = good;
  bad_hex.back() = 'g';
  CHECK_THROWS_AS(Generator::parse_state(bad_hex), std::invalid_argument);
}
