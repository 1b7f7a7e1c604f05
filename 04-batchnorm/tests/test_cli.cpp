// The 04-batchnorm program itself: its flags, its error lines and exit codes, and the files every run
// leaves in --out (COURSE.md §2). Each test runs the built binary (Z2H_STAGE_EXE) with a few steps.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "common/tests/program_support.hpp"
#include <vector>

#include "common/tensor/blas.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

using z2h::test::expect_usage_error;
using z2h::test::Run;
using z2h::test::run;
using z2h::test::slurp;
using z2h::test::TempDir;

TEST_CASE("the program's --help lists the stage's flags and exits 0", "[cli]") {
  TempDir tmp;
  const Run r = run("--help", tmp);
  CHECK(r.rc == 0);
  for (const char* flag : {"--seed", "--out", "--threads", "--data", "--steps", "--quiet", "--mode", "--variant",
                           "--n-hidden", "--batch", "--lr", "--lr-decay-step", "--save", "--load"})
    CHECK(r.out.find(flag) != std::string::npos);
}

TEST_CASE("invalid values are one error line and exit code 2, never a crash", "[cli]") {
  expect_usage_error("--steps -1", "--steps");
  expect_usage_error("--batch 1", "--batch");
  expect_usage_error("--mode nonsense", "--mode");
  expect_usage_error("--variant nonsense", "--variant");
  expect_usage_error("--lr 0", "--lr");
  expect_usage_error("--no-such-flag", "no-such-flag");
  expect_usage_error("--mode deep --variant tanh", "--variant");
  expect_usage_error("--gain 3 --steps 1", "--gain applies to --mode deep only");
  expect_usage_error("--mode e02 --no-batchnorm", "--no-batchnorm applies to --mode deep only");
  expect_usage_error("--mode bonus --no-tanh", "--no-tanh applies to --mode deep only");
  expect_usage_error("--mode deep --gain 0", "--gain");
  expect_usage_error("--data /nonexistent/names.txt --steps 1", "/nonexistent/names.txt");
  expect_usage_error("--load /nonexistent/model.safetensors --steps 0", "/nonexistent/model.safetensors");
}

TEST_CASE("a corrupt checkpoint is a clear error, not a crash", "[cli]") {
  TempDir tmp;
  const fs::path bad = tmp.path / "bad.safetensors";
  std::ofstream(bad) << "not a checkpoint";
  expect_usage_error("--load " + bad.string() + " --steps 0", bad.filename().string());
}

TEST_CASE("a short training run writes metrics.csv, summary.json, the checkpoint and the plots", "[cli]") {
  TempDir tmp;
  const fs::path out = tmp.path / "run";
  const Run r = run("--steps 25 --quiet --out " + out.string(), tmp);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.out.rfind(z2h::test::header_line("04-batchnorm", 2147483647) + "12097\n      0/     25: 3.3239\n", 0) == 0);  // the notebook's first two lines
  const std::string csv = slurp(out / "metrics.csv");
  CHECK(csv.rfind("step,loss,lr\n0,3.3238625526428223,0.1\n", 0) == 0);
  CHECK(z2h::test::count_lines(csv) == 26);  // header + one row per step
  const json s = json::parse(slurp(out / "summary.json"));
  for (const char* key : {"stage", "seed", "config", "params", "steps", "loss", "samples", "wall_s", "steps_per_s", "threads"})
    CHECK(s.contains(key));
  CHECK(s["stage"] == "04-batchnorm");
  CHECK(s["openblas_core"] == z2h::blas::core_name());
  CHECK(s["params"] == 12097);
  CHECK(s["steps"] == 25);
  CHECK(s["config"]["lr_decay_step"] == 100000);  // --steps shortens the run; the lr drop stays put
  CHECK(s["samples"].size() == 20);
  for (const char* f : {"model.safetensors", "loss.png", "h_step0.png", "hpreact_step0.png", "saturation_step0.png"})
    CHECK(fs::file_size(out / f) > 0);

  SECTION("and --load with --steps 0 evaluates and samples the saved model without training") {
    const fs::path again = tmp.path / "again";
    const Run r2 = run("--steps 0 --quiet --load " + (out / "model.safetensors").string() + " --out " + again.string(), tmp);
    INFO(r2.err);
    REQUIRE(r2.rc == 0);
    const json s2 = json::parse(slurp(again / "summary.json"));
    CHECK(s2["loss"]["val"] == s["loss"]["val"]);
    CHECK(s2["samples"] == s["samples"]);
    CHECK(z2h::test::count_lines(slurp(again / "metrics.csv")) == 1);  // the header only
  }
  SECTION("and a checkpoint of another model is refused") {
    const Run r3 = run("--variant tanh --steps 0 --load " + (out / "model.safetensors").string() + " --out " +
                           (tmp.path / "x").string(), tmp);
    CHECK(r3.rc == 2);
    CHECK(r3.err.find("mlp-batchnorm") != std::string::npos);
  }
}

TEST_CASE("the program's --mode deep prints the statistics tables and draws the four diagnostic plots", "[cli]") {
  TempDir tmp;
  const fs::path out = tmp.path / "deep";
  const Run r = run("--mode deep --steps 20 --samples 2 --quiet --out " + out.string(), tmp);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.out.rfind(z2h::test::header_line("04-batchnorm", 2147483647) + "47024\n      0/ 200000: 3.2870\n", 0) == 0);
  CHECK(r.out.find("layer 2 (      Tanh): mean ") != std::string::npos);
  CHECK(r.out.find("weight  (30, 100) | mean ") != std::string::npos);
  for (const char* f : {"activations.png", "gradients.png", "weight_gradients.png", "update_ratios.png", "loss.png",
                        "model.safetensors", "summary.json"})
    CHECK(fs::exists(out / f));
  const std::string csv = slurp(out / "metrics.csv");
  CHECK(csv.rfind("step,loss,lr,ud_C,ud_0.weight,", 0) == 0);
  CHECK(z2h::test::count_lines(csv) == 21);
}

TEST_CASE("the program's --mode bonus, e01 and e02 run and write their summaries", "[cli]") {
  TempDir tmp;
  Run r = run("--mode bonus --out " + (tmp.path / "b").string(), tmp);
  CHECK(r.rc == 0);
  CHECK(r.out.rfind(z2h::test::header_line("04-batchnorm", 2147483647) + "a std: 0.9875972270965576\nb std: 1.0006722211837769\n", 0) == 0);
  r = run("--mode e01 --steps 30 --quiet --out " + (tmp.path / "e1").string(), tmp);
  CHECK(r.rc == 0);
  CHECK(r.out.find("W2  0 ") != std::string::npos);
  CHECK(fs::exists(tmp.path / "e1" / "e01_b2.png"));
  r = run("--mode e02 --steps 30 --quiet --out " + (tmp.path / "e2").string(), tmp);
  CHECK(r.rc == 0);
  CHECK(json::parse(slurp(tmp.path / "e2" / "summary.json"))["max_abs_logit_diff"].get<double>() < 1e-4);
}

// The lecture's deep net without BatchNorm, at init (the statistics of its first step's batch): with
// tanh's gain 5/3 the video's notebook printed `layer 1 (Tanh): mean -0.02, std 0.75, saturated:
// 20.25%` and 46497 parameters; with gain 1 the activations shrink layer after layer, with gain 3
// they saturate. Each run writes the four diagnostic figures.
TEST_CASE("the deep net without BatchNorm (--no-batchnorm --gain G) at init: the lecture's statistics, shrinking and saturating", "[cli][deep]") {
  auto deep = [](const std::string& flags, const TempDir& tmp) {
    const Run r = run("--mode deep --no-batchnorm --steps 1 --samples 0 --quiet " + flags + " --out " +
                          (tmp.path / "out").string(), tmp);
    INFO(flags << "\n" << r.out << r.err);
    REQUIRE(r.rc == 0);
    for (const char* png : {"activations.png", "gradients.png", "weight_gradients.png", "update_ratios.png"})
      CHECK(fs::file_size(tmp.path / "out" / png) > 10000);
    return json::parse(slurp(tmp.path / "out" / "summary.json"));
  };
  TempDir t53, t1, t3, tlin;
  const json s53 = deep("--gain 1.6666667", t53);
  CHECK(s53["params"] == 46497);
  CHECK(slurp(t53.path / "stdout.txt").find("layer 1 (      Tanh): mean -0.02, std 0.75, saturated: 20.25%\n") !=
        std::string::npos);
  CHECK(s53["config"]["batchnorm"] == false);
  CHECK(s53["config"]["gain"].get<double>() == 1.6666667);

  auto stds = [](const json& s) {
    std::vector<double> v;
    for (const auto& a : s["diagnostics"]["activations"]) v.push_back(a["std"].get<double>());
    return v;
  };
  const auto g1 = stds(deep("--gain 1", t1));  // shrinking: every layer's spread below the one before
  REQUIRE(g1.size() == 5);
  for (size_t i = 1; i < g1.size(); ++i) CHECK(g1[i] < g1[i - 1]);
  CHECK(g1.back() < 0.4);
  const json s3 = deep("--gain 3", t3);  // saturating: over a third of every layer at +-1
  for (const auto& a : s3["diagnostics"]["activations"]) CHECK(a["saturated"].get<double>() > 35.0);

  const json lin = deep("--gain 1 --no-tanh", tlin);  // a linear sandwich: the Linear outputs are watched
  for (const auto& a : lin["diagnostics"]["activations"]) CHECK(std::abs(a["std"].get<double>() - 1.0) < 0.05);
}
