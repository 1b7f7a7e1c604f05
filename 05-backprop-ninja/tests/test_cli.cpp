// The 05-backprop-ninja program itself: its flags, its error lines and exit codes, and the files
// every run leaves in --out (COURSE.md §2). Each test runs the built binary (Z2H_STAGE_EXE).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "common/tests/program_support.hpp"

#include "common/tensor/blas.hpp"
#include "common/tensor/kernels/kernels.hpp"

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
  for (const char* flag : {"--seed", "--out", "--threads", "--data", "--steps", "--quiet", "--n-hidden", "--n-hidden-ex1",
                           "--batch", "--lr", "--lr-decay-step", "--check-every", "--samples"})
    CHECK(r.out.find(flag) != std::string::npos);
}

TEST_CASE("invalid values are one error line and exit code 2, never a crash", "[cli]") {
  expect_usage_error("--steps -1", "--steps");
  expect_usage_error("--batch 1", "--batch");
  expect_usage_error("--n-hidden 0", "--n-hidden");
  expect_usage_error("--check-every -5", "--check-every");
  expect_usage_error("--lr 0", "--lr");
  expect_usage_error("--no-such-flag", "no-such-flag");
  expect_usage_error("--data /nonexistent/names.txt --steps 1", "/nonexistent/names.txt");
}

TEST_CASE("a short run prints the notebook's cells and writes metrics.csv, summary.json and the plots", "[cli]") {
  TempDir tmp;
  const fs::path out = tmp.path / "run";
  const Run r = run("--steps 30 --quiet --check-every 10 --samples 3 --out " + out.string(), tmp);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.out.rfind(z2h::test::header_line("05-backprop-ninja", 2147483647) + "4137\nloss ", 0) == 0);
  CHECK(r.out.find("logprobs        | exact: True  | approximate: True  | maxdiff: 0.0\n") != std::string::npos);
  CHECK(r.out.find("\n12297\n      0/     30: ") != std::string::npos);
  CHECK(r.out.find("autograd check at step 20, maxdiff: C ") != std::string::npos);
  const std::string csv = slurp(out / "metrics.csv");
  CHECK(csv.rfind("step,loss,lr\n0,", 0) == 0);
  CHECK(z2h::test::count_lines(csv) == 31);  // header + one row per step
  const json s = json::parse(slurp(out / "summary.json"));
  for (const char* key : {"stage", "seed", "config", "params", "steps", "loss", "cmp", "samples", "wall_s",
                          "steps_per_s", "threads", "autograd_checks"})
    CHECK(s.contains(key));
  CHECK(s["stage"] == "05-backprop-ninja");
  CHECK(s["params"] == 12297);
  CHECK(s["steps"] == 30);
  for (const char* key : {"init", "train", "val"}) CHECK(s["loss"][key].is_number());
  REQUIRE(s["cmp"].size() == 26);
  CHECK(s["cmp"][0]["name"] == "logprobs");
  CHECK(s["cmp"][25]["name"] == "C");
  for (const json& c : s["cmp"]) {
    CHECK(c["approximate"] == true);
    CHECK(c.contains("exact"));
    CHECK(c["maxdiff"].get<double>() < (z2h::kernels::exact_build ? 1e-7 : 1e-6));  // readable kernels: xsimd's exp
  }
  CHECK(s["autograd_checks"].size() == 3);
  CHECK(s["samples"].size() == 3);
  CHECK(s["config"]["lr_decay_step"] == 100000);
  for (const char* f : {"dlogits.png", "loss.png"}) CHECK(fs::file_size(out / f) > 0);
}

TEST_CASE("with --steps 0 the program runs exercises 1-3, evaluates the untrained net and still writes every file", "[cli]") {
  TempDir tmp;
  const fs::path out = tmp.path / "run";
  const Run r = run("--steps 0 --quiet --samples 1 --out " + out.string(), tmp);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(z2h::test::count_lines(slurp(out / "metrics.csv")) == 1);
  const json s = json::parse(slurp(out / "summary.json"));
  CHECK(s["steps"] == 0);
  CHECK(fs::exists(out / "dlogits.png"));
}
