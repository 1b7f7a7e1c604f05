// common/rng/np_random.hpp against numpy 1.24's legacy RandomState and sklearn 1.2's make_moons
// (goldens/rng_numpy.json).
#include <cstdint>
#include <string>
#include <vector>

#include "common/app/error.hpp"
#include "common/rng/np_random.hpp"
#include "test_rng_goldens.hpp"

using namespace z2h;
using namespace z2h::rng_test;

namespace {

const json& numpy_goldens() {
  static const json j = load_golden("rng_numpy.json");
  return j;
}

template <class F>
std::vector<double> draw(size_t n, F f) {
  std::vector<double> v;
  for (size_t i = 0; i < n; ++i) v.push_back(f());
  return v;
}

}  // namespace

TEST_CASE("rng: RandomState matches numpy's legacy random_sample standard_normal normal and shuffle") {
  for (const json& c : numpy_goldens()["streams"]) {
    INFO("np.random.RandomState(" << c["seed"] << ")");
    RandomState rs(c["seed"].get<uint32_t>());
    CHECK(draw(6, [&] { return rs.random_sample(); }) == c["random_sample"].get<std::vector<double>>());
    // 7 normals: the 7th leaves its polar partner cached, which normal(0, 0.1) then returns first
    CHECK(draw(7, [&] { return rs.standard_normal(); }) == c["standard_normal"].get<std::vector<double>>());
    CHECK(draw(3, [&] { return rs.normal(0.0, 0.1); }) == c["normal_0_0.1"].get<std::vector<double>>());
    CHECK(draw(2, [&] { return rs.normal(3.0, 2.0); }) == c["normal_3_2"].get<std::vector<double>>());
    for (const json& kv : c["random_interval"]) {
      INFO("random_interval(" << kv[0] << ") = randint(0, max + 1)");
      CHECK(rs.random_interval(kv[0].get<uint64_t>()) == kv[1].get<uint64_t>());
    }
    CHECK(rs.permutation(10) == c["permutation10"].get<std::vector<int64_t>>());
    std::vector<int> x(20);
    for (int i = 0; i < 20; ++i) x[i] = i;
    rs.shuffle(x);
    CHECK(x == c["shuffle_range20"].get<std::vector<int>>());
    CHECK(rs.random_sample() == c["random_after"].get<double>());
  }
}

TEST_CASE("rng: RandomState.seed drops the cached Gaussian") {
  RandomState rs(1337);
  const double first = rs.standard_normal();
  rs.seed(1337);
  CHECK(rs.standard_normal() == first);
}

TEST_CASE("rng: make_moons under np.random.seed(1337) gives micrograd's X[0] = [1.1221146075409683 0.08147717341718697]") {
  RandomState rs(1337);
  const Moons m = make_moons(100, 0.1, rs);
  REQUIRE(m.X.size() == 100);
  CHECK(m.X[0][0] == 1.1221146075409683);
  CHECK(m.X[0][1] == 0.08147717341718697);
  // demo.ipynb prints y*2-1: [-1, -1, 1, -1, 1, 1, 1, 1, 1, -1]
  CHECK(std::vector<int>(m.y.begin(), m.y.begin() + 10) == std::vector<int>{0, 0, 1, 0, 1, 1, 1, 1, 1, 0});
}

TEST_CASE("rng: make_moons matches sklearn bit for bit with numpy's AVX-512 and libm cos and sin") {
  for (NumpyTrig trig : {NumpyTrig::Avx512Svml, NumpyTrig::Libm}) {
    const char* key = trig == NumpyTrig::Libm ? "libm" : "avx512_svml";
    RandomState global(1337), seq(42);
    for (const json& c : numpy_goldens()["make_moons"][key]) {
      INFO(key << ": make_moons(n_samples=" << c["n_samples"] << ", noise=" << c["noise"] << ") on " << c["stream"]);
      RandomState& rs = c["stream"] == "global1337" ? global : seq;
      const Moons m = make_moons(c["n_samples"].get<int>(), c["noise"].get<double>(), rs, trig);
      const auto want = c["X"].get<std::vector<std::vector<double>>>();
      REQUIRE(m.X.size() == want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        INFO("X[" << i << "]");
        CHECK(m.X[i][0] == want[i][0]);
        CHECK(m.X[i][1] == want[i][1]);
      }
      CHECK(m.y == c["y"].get<std::vector<int>>());
    }
  }
}

TEST_CASE("rng: make_moons rejects negative sizes and noise") {
  RandomState rs;
  CHECK_THROWS_AS(make_moons(-1, 0.1, rs), UserError);
  CHECK_THROWS_WITH(make_moons(10, -0.1, rs), Catch::Contains("noise >= 0"));
}
