// The moons demo against demo.ipynb's printed numbers and against reference.py for other seeds.
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "moons.hpp"
#include "support.hpp"

using namespace micrograd;

TEST_CASE("make_moons(100, noise=0.1) with np.random.seed(1337): the notebook's data", "[moons]") {
  MoonsRun run = setup_moons(MoonsConfig{}, 1337);
  REQUIRE(run.X.size() == 100);
  CHECK(run.X[0][0] == 1.1221146075409683);
  CHECK(run.X[0][1] == 0.08147717341718697);
  CHECK(std::vector<int>(run.y.begin(), run.y.begin() + 10) == std::vector<int>{-1, -1, 1, -1, 1, 1, 1, 1, 1, -1});
  CHECK(run.model.parameters().size() == 337);
}

TEST_CASE("seed 1337: step 0 loss 0.8958441028683222 at 50%, step 99 loss 0.010978370135492717 at 100%", "[moons]") {
  MoonsConfig cfg;
  MoonsRun run = setup_moons(cfg, 1337);
  train_moons(run, cfg);
  REQUIRE(run.steps.size() == 100);
  CHECK(run.steps[0].loss == Approx(0.8958441028683222).margin(1e-9));
  CHECK(run.steps[0].accuracy == 0.5);
  CHECK(run.steps[99].loss == Approx(0.010978370135492717).margin(1e-9));
  CHECK(run.steps[99].accuracy == 1.0);
  CHECK(run.steps[40].accuracy == 1.0);  // the notebook's first 100 %
  CHECK(run.steps[0].learning_rate == 1.0);
  CHECK(run.steps[99].learning_rate == 1.0 - 0.9 * 99 / 100);
}

TEST_CASE("every step of seeds 1337, 42 and 7 matches reference.py to 1e-9", "[moons][golden]") {
  // tests/goldens/moons.json: made by reference.py, the command is inside the file
  std::ifstream in(std::string(Z2H_STAGE_GOLDENS) + "/moons.json");
  REQUIRE(in.good());
  const nlohmann::json golden = nlohmann::json::parse(in);
  MoonsConfig cfg;
  cfg.steps = golden.at("steps").get<int64_t>();
  REQUIRE(golden.at("runs").size() == 3);
  for (const auto& expected : golden.at("runs")) {
    const uint32_t seed = expected.at("seed").get<uint32_t>();
    MoonsRun run = setup_moons(cfg, seed);
    train_moons(run, cfg);
    double worst = 0;
    for (int64_t k = 0; k < cfg.steps; ++k) {
      const double want = expected.at("loss").at(k).get<double>();
      INFO("seed " << seed << " step " << k);
      CHECK(run.steps[k].loss == Approx(want).margin(1e-9));
      CHECK(run.steps[k].accuracy == expected.at("accuracy").at(k).get<double>());
      worst = std::max(worst, std::abs(run.steps[k].loss - want));
    }
    // op for op as the Python engine, the losses agree bit for bit
    INFO("seed " << seed << ": largest difference " << worst);
    CHECK(worst == 0.0);
  }
}

TEST_CASE("the trained model classifies every training point by the sign of its score", "[moons]") {
  MoonsConfig cfg;
  MoonsRun run = setup_moons(cfg, 1337);
  train_moons(run, cfg);
  int correct = 0;
  for (size_t i = 0; i < run.X.size(); ++i) correct += (score(run.model, run.X[i][0], run.X[i][1]) > 0) == (run.y[i] > 0);
  CHECK(correct == 100);
}
