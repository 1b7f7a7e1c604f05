// The 06-wavenet program itself: its flags, its error lines and exit codes, and the files every run
// leaves in --out (COURSE.md §2). Each test runs the built binary (Z2H_STAGE_EXE) with a few steps.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
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
#include <vector>

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
                           "--n-embd", "--n-hidden", "--batch", "--lr", "--lr-decay-step", "--chunk", "--save", "--load"})
    CHECK(r.out.find(flag) != std::string::npos);
}

TEST_CASE("invalid values are one error line and exit code 2, never a crash", "[cli]") {
  expect_usage_error("--steps -1", "--steps");
  expect_usage_error("--batch 1", "--batch");
  expect_usage_error("--mode nonsense", "--mode");
  expect_usage_error("--variant nonsense", "--variant");
  expect_usage_error("--n-hidden 0", "--n-hidden");
  expect_usage_error("--lr 0", "--lr");
  expect_usage_error("--chunk 0", "--chunk");
  expect_usage_error("--no-such-flag", "no-such-flag");
  expect_usage_error("--data /nonexistent/names.txt --steps 1", "/nonexistent/names.txt");
  expect_usage_error("--load /nonexistent/model.safetensors --steps 0", "/nonexistent/model.safetensors");
}

TEST_CASE("a corrupt checkpoint is a clear error, not a crash", "[cli]") {
  TempDir tmp;
  const fs::path bad = tmp.path / "bad.safetensors";
  std::ofstream(bad) << "not a checkpoint";
  expect_usage_error("--load " + bad.string() + " --steps 0", bad.filename().string());
}

TEST_CASE("a short training run prints the notebook's first lines and writes metrics.csv, summary.json, the checkpoint and the plots",
          "[cli]") {
  TempDir tmp;
  const fs::path out = tmp.path / "run";
  const Run r = run("--steps 25 --quiet --out " + out.string(), tmp);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  // cells 5, 6, 9 and the first line of cell 10
  CHECK(r.out.rfind(z2h::test::header_line("06-wavenet", 42) + "[182625, 8] [22655, 8] [22866, 8]\n........ --> y\n.......y --> u\n", 0) == 0);
  CHECK(r.out.find("..yuheng --> .\n........ --> d\n") != std::string::npos);
  CHECK(r.out.find("\n76579\n      0/     25: 3.3167\n") != std::string::npos);
  CHECK(r.out.find("model(Xtr[[7]]).shape: [1, 27]\n") != std::string::npos);
  const std::string csv = slurp(out / "metrics.csv");
  if (z2h::kernels::exact_build)
    CHECK(csv.rfind("step,loss,lr\n0,3.3167154788970947,0.1\n", 0) == 0);  // the notebook's step-0 loss, every digit
  else
    CHECK(csv.rfind("step,loss,lr\n0,3.31671", 0) == 0);  // readable kernels: to float rounding
  CHECK(z2h::test::count_lines(csv) == 26);  // header + one row per step
  const json s = json::parse(slurp(out / "summary.json"));
  for (const char* key : {"stage", "seed", "config", "params", "steps", "loss", "samples", "wall_s", "steps_per_s", "threads"})
    CHECK(s.contains(key));
  CHECK(s["stage"] == "06-wavenet");
  CHECK(s["seed"] == 42);
  CHECK(s["params"] == 76579);
  CHECK(s["steps"] == 25);
  CHECK(s["config"]["lr_decay_step"] == 150000);  // --steps shortens the run; the lr drop stays put
  for (const char* split : {"train", "val", "test"}) CHECK(s["loss"].contains(split));
  CHECK(s["samples"].size() == 20);
  for (const char* f : {"model.safetensors", "loss.png", "model_tree.png", "activations.png"})
    CHECK(fs::file_size(out / f) > 0);

  SECTION("and --load with --steps 0 evaluates the saved model without training") {
    const fs::path again = tmp.path / "again";
    const Run r2 = run("--steps 0 --quiet --load " + (out / "model.safetensors").string() + " --out " + again.string(), tmp);
    INFO(r2.err);
    REQUIRE(r2.rc == 0);
    const json s2 = json::parse(slurp(again / "summary.json"));
    CHECK(s2["loss"]["val"] == s["loss"]["val"]);  // the running statistics are in the checkpoint too
    CHECK(s2["samples"].size() == 20);
    CHECK(z2h::test::count_lines(slurp(again / "metrics.csv")) == 1);  // the header only
  }
  SECTION("and a checkpoint of another model is refused") {
    const Run r3 = run("--variant bnfix --steps 0 --load " + (out / "model.safetensors").string() + " --out " +
                           (tmp.path / "x").string(), tmp);
    CHECK(r3.rc == 2);
    CHECK(r3.err.find("wavenet-scaled-24-128") != std::string::npos);
  }
}

TEST_CASE("the program's --variant runs print their parameter count and the performance log's line", "[cli]") {
  TempDir tmp;
  const Run r = run("--variant original --steps 3 --samples 1 --quiet --out " + (tmp.path / "o").string(), tmp);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.out.rfind(z2h::test::header_line("06-wavenet", 42) + "[182625, 3] [22655, 3] [22866, 3]\n", 0) == 0);
  CHECK(r.out.find("\n12097\n") != std::string::npos);
  CHECK(r.out.find("performance log, \"original (3 character context + 200 hidden neurons, 12K params)\": train 2.058, "
                   "val 2.105\n") != std::string::npos);
}

TEST_CASE("the program's --mode cells prints the layer output shapes for a batch of 4 and the for-loop check", "[cli]") {
  TempDir tmp;
  const Run r = run("--mode cells --out " + (tmp.path / "c").string(), tmp);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  // the video's cell at init: the same 4 examples as reference.py --cells draws
  CHECK(r.out.find("Xb.shape: [4, 8]\ntensor([[0, 0, 0, 0, 0, 0, 12, 15],\n        [0, 0, 0, 0, 16, 15, 18, 20],\n") !=
        std::string::npos);
  CHECK(r.out.find("Embedding : (4, 8, 24)\nFlattenConsecutive : (4, 4, 48)\nLinear : (4, 4, 128)\n"
                   "BatchNorm1d : (4, 4, 128)\nTanh : (4, 4, 128)\nFlattenConsecutive : (4, 2, 256)\n"
                   "Linear : (4, 2, 128)\nBatchNorm1d : (4, 2, 128)\nTanh : (4, 2, 128)\nFlattenConsecutive : (4, 256)\n"
                   "Linear : (4, 128)\nBatchNorm1d : (4, 128)\nTanh : (4, 128)\nLinear : (4, 27)\n") != std::string::npos);
  CHECK(r.out.find("model(Xtr[[7]]).shape: [1, 27]\n") != std::string::npos);
  CHECK(fs::exists(tmp.path / "c" / "model_tree.png"));
  CHECK(json::parse(slurp(tmp.path / "c" / "summary.json"))["convolution_check_max_abs_diff"].get<double>() < 1e-5);
}
