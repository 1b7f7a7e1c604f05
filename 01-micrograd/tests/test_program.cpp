// The 01-micrograd program as a person runs it: the files it writes, and one-line errors with exit
// status 2 for bad input.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <string>

#include "common/tests/program_support.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using z2h::test::Run;
using z2h::test::run;
using z2h::test::TempDir;
using z2h::test::slurp;

TEST_CASE("the default run prints the lecture's numbers and writes every picture, metrics.csv, summary.json",
          "[program]") {
  TempDir tmp;
  const fs::path dir = tmp.path;
  Run r = run("--quiet --out '" + (dir / "out").string() + "'", tmp);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.err.empty());
  for (const char* line : {"f(3.0) = 20.0", "slope 0.9999999999976694", "L = Value(data=-8.0)",
                           "after x.data += 0.01 * x.grad for a, b, c, f: L = -7.286496", "a.grad = 2.0",
                           "o = 0.7071067811865476", "step 0 loss 0.8958441028683222, accuracy 50.0%",
                           "step 99 loss 0.010978370135492717, accuracy 100.0%", "loss 2.1755153626167147",
                           "number of parameters 337"}) {
    INFO(line);
    CHECK(r.out.find(line) != std::string::npos);
  }
  CHECK(r.out.find("WRONG") == std::string::npos);
  for (const char* png : {"derivative.png", "expression.png", "expression_grad.png", "reuse_a_plus_a.png",
                          "reuse_d_times_e.png", "tanh.png", "neuron_forward.png", "neuron.png", "neuron_exp.png", "moons.png",
                          "moon_mlp.png"}) {
    INFO(png);
    CHECK(fs::file_size(dir / "out" / png) > 1000);
  }
  const std::string csv = slurp(dir / "out" / "metrics.csv");
  CHECK(csv.rfind("step,loss,accuracy\n0,0.8958441028683222,0.5\n", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 101);
  const auto summary = nlohmann::json::parse(slurp(dir / "out" / "summary.json"));
  CHECK(summary.at("stage") == "01-micrograd");
  CHECK(summary.at("seed") == 1337);
  CHECK(summary.at("params") == 337);
  CHECK(summary.at("steps") == 100);
  CHECK(summary.at("loss").at("train").get<double>() == 0.010978370135492717);
  CHECK(summary.at("accuracy").get<double>() == 1.0);
  CHECK(summary.at("samples").empty());
  CHECK(summary.at("config").at("alpha").get<double>() == 1e-4);
  for (const char* key : {"wall_s", "steps_per_s", "threads"}) CHECK(summary.contains(key));
}

TEST_CASE("one demo can be run alone, with its own flags", "[program]") {
  TempDir tmp;
  const fs::path dir = tmp.path;
  Run r = run("moons --quiet --seed 42 --steps 3 --hidden 4 --out '" + (dir / "out").string() + "'", tmp);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("step 2 loss") != std::string::npos);
  CHECK(r.out.find("derivative") == std::string::npos);
  CHECK(r.out.find("number of parameters 17") != std::string::npos);  // 4*(2+1) + (4+1)
  CHECK(fs::exists(dir / "out" / "moon_mlp.png"));
  CHECK(!fs::exists(dir / "out" / "expression.png"));
}

TEST_CASE("bad input gets one line 'error: ...' on stderr and exit status 2", "[program]") {
  TempDir tmp;
  const fs::path dir = tmp.path;
  for (const char* args : {"--steps -1", "--seed 4294967296", "--seed abc", "--no-such-flag", "not-a-demo",
                           "--hidden 0", "--lr 0", "--noise -1", "--n-samples 1"}) {
    Run r = run(std::string(args) + " --out '" + (dir / "out").string() + "'", tmp);
    INFO(args << " -> " << r.err);
    CHECK(r.rc == 2);
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  Run blocked = run("derivative --out /dev/null/x", tmp);
  CHECK(blocked.rc == 2);
  CHECK(blocked.err.rfind("error: ", 0) == 0);
}

TEST_CASE("--help lists the demos and exits 0", "[program]") {
  TempDir tmp;
  const fs::path dir = tmp.path;
  Run r = run("--help", tmp);
  CHECK(r.rc == 0);
  CHECK(r.out.find("moons") != std::string::npos);
  CHECK(r.out.find("--seed") != std::string::npos);
}
