// common/rng/py_random.hpp against CPython 3.11's `random` (goldens/rng_python.json, rng_names.json).
#include <cstdint>
#include <string>
#include <vector>

#include "common/app/error.hpp"
#include "common/rng/py_random.hpp"
#include "test_rng_goldens.hpp"

using namespace z2h;
using namespace z2h::rng_test;

TEST_CASE("rng: PyRandom matches CPython random for seeds from 0 to 2^64 - 1") {
  const json golden = load_golden("rng_python.json");
  for (const json& c : golden["cases"]) {
    INFO("random.seed(" << c["seed"] << ")");
    PyRandom r(c["seed"].get<uint64_t>());
    std::vector<double> uniform, random;
    for (size_t i = 0; i < c["uniform_-1_1"].size(); ++i) uniform.push_back(r.uniform(-1, 1));
    CHECK(uniform == c["uniform_-1_1"].get<std::vector<double>>());
    for (size_t i = 0; i < c["random"].size(); ++i) random.push_back(r.random());
    CHECK(random == c["random"].get<std::vector<double>>());
    for (const json& kv : c["getrandbits"]) {
      INFO("getrandbits(" << kv[0] << ")");
      CHECK(r.getrandbits(kv[0].get<int>()) == kv[1].get<uint64_t>());
    }
    for (const json& kv : c["randbelow"]) {
      INFO("_randbelow(" << kv[0] << ")");
      CHECK(r.randbelow(kv[0].get<uint64_t>()) == kv[1].get<uint64_t>());
    }
    std::vector<int> x(20);
    for (int i = 0; i < 20; ++i) x[i] = i;
    r.shuffle(x);
    CHECK(x == c["shuffle_range20"].get<std::vector<int>>());
    CHECK(r.random() == c["random_after"].get<double>());
  }
}

TEST_CASE("rng: random.seed(1337) gives micrograd's first weights 0.23550571390294128 and 0.06653114721000164") {
  PyRandom r(1337);
  CHECK(r.uniform(-1, 1) == 0.23550571390294128);
  CHECK(r.uniform(-1, 1) == 0.06653114721000164);
}

TEST_CASE("rng: random.seed(42) then shuffle(names) gives yuheng diondre xavien and splits 182625 22655 22866") {
  const json golden = load_golden("rng_names.json")["shuffle_seed42"];
  std::vector<std::string> words = read_names();
  REQUIRE(words.size() == 32033);
  PyRandom r(42);
  r.shuffle(words);
  CHECK(std::vector<std::string>(words.begin(), words.begin() + 3) ==
        std::vector<std::string>{"yuheng", "diondre", "xavien"});
  CHECK(std::vector<std::string>(words.begin(), words.begin() + 10) == golden["first"].get<std::vector<std::string>>());
  CHECK(std::vector<std::string>(words.end() - 10, words.end()) == golden["last"].get<std::vector<std::string>>());

  std::string joined;
  for (size_t i = 0; i < words.size(); ++i) joined += (i ? "\n" : "") + words[i];
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : joined) h = (h ^ ch) * 0x100000001b3ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  CHECK(std::string(hex) == golden["fnv1a64"].get<std::string>());  // the whole order, not just the ends

  // n1 = int(0.8 * len(words)), n2 = int(0.9 * len(words)); block_size 3 gives one example per
  // character plus one for the closing '.'
  const size_t n1 = static_cast<size_t>(0.8 * static_cast<double>(words.size()));
  const size_t n2 = static_cast<size_t>(0.9 * static_cast<double>(words.size()));
  CHECK(n1 == golden["n1"].get<size_t>());
  CHECK(n2 == golden["n2"].get<size_t>());
  auto examples = [&](size_t from, size_t to) {
    size_t n = 0;
    for (size_t i = from; i < to; ++i) n += words[i].size() + 1;
    return n;
  };
  CHECK(examples(0, n1) == 182625);
  CHECK(examples(n1, n2) == 22655);
  CHECK(examples(n2, words.size()) == 22866);
}

TEST_CASE("rng: PyRandom rejects getrandbits beyond 64 bits and randbelow(0)") {
  PyRandom r;
  CHECK_THROWS_AS(r.getrandbits(65), UserError);
  CHECK_THROWS_AS(r.getrandbits(-1), UserError);
  CHECK_THROWS_WITH(r.randbelow(0), Catch::Contains("n >= 1"));
  CHECK(r.getrandbits(0) == 0);
}
