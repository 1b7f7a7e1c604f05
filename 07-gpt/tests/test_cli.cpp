// The 07-gpt program itself: its error lines and exit codes, and the files a run leaves in --out
// (COURSE.md §2). Each test runs the built binary (Z2H_STAGE_EXE) for a few steps.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "common/tests/goldens_support.hpp"
#include "common/tests/program_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

using z2h::test::expect_usage_error;
using z2h::test::Run;
using z2h::test::run;
using z2h::test::slurp;
using z2h::test::TempDir;

TEST_CASE("cli: bad input is one error line, exit 2, and no files", "[cli]") {
  expect_usage_error("--steps -1 --quiet", "--steps");
  expect_usage_error("--batch-size 0 --quiet", "--batch-size");
  expect_usage_error("--config huge --quiet", "--config");
  expect_usage_error("--n-embd 30 --n-head 4 --quiet", "is not a multiple of --n-head 4");
  expect_usage_error("--dropout 1.5 --quiet", "--dropout");
  expect_usage_error("--temperature 0 --quiet", "--temperature");
  expect_usage_error("--lr-schedule linear --quiet", "--lr-schedule");
  expect_usage_error("--warmup -1 --quiet", "--warmup");
  expect_usage_error("--mode sample --quiet", "needs --load");
  expect_usage_error("--no-such-flag --quiet", "--no-such-flag");
  expect_usage_error("--data /no/such/file.txt --quiet", "check --data");
  expect_usage_error("--replicas 0 --quiet", "--replicas");
  expect_usage_error("--replicas 2 --threads 2 --quiet", "pass --replicas 1 --batch-size 32");
  expect_usage_error("--config cpu --threads 2 --quiet", "pass --replicas 1 --batch-size 32");
  expect_usage_error("--replicas 2 --mode sample --quiet", "--replicas 2 is for training");
  expect_usage_error("--replicas 2 --config add --quiet", "--replicas 2 is for training");
}

TEST_CASE("cli: --replicas 2 trains two copies on two threads: bit for bit one process's two accumulated half-batches "
          "without dropout, each replica's own masks with it, and a checkpoint resumes on any count", "[cli][replicas]") {
  TempDir tmp;
  const std::string model = "--n-embd 16 --n-head 2 --n-layer 1 --block-size 8 --eval-interval 3 --eval-iters 4 --gen 40 --quiet ";
  const std::string b4 = "--batch-size 4 ";
  const fs::path two = tmp.path / "two", accum = tmp.path / "accum", whole = tmp.path / "whole", drop = tmp.path / "drop",
                 drop_accum = tmp.path / "drop_accum";
  const Run r = run(model + b4 + "--dropout 0 --steps 6 --replicas 2 --out " + two.string(), tmp);
  REQUIRE(r.rc == 0);
  REQUIRE(run(model + b4 + "--dropout 0 --steps 6 --grad-accum 2 --out " + accum.string(), tmp).rc == 0);
  REQUIRE(run(model + "--dropout 0 --steps 6 --batch-size 8 --out " + whole.string(), tmp).rc == 0);
  const json s2 = json::parse(slurp(two / "summary.json")), sa = json::parse(slurp(accum / "summary.json")),
             sw = json::parse(slurp(whole / "summary.json"));
  CHECK(r.out.find("2 replicas, global batch 8") != std::string::npos);
  CHECK(s2["replicas"] == 2);
  CHECK(s2["global_batch"] == 8);
  // the two replicas hold the same weights, those of one process that summed the halves' gradients
  REQUIRE(s2["weights_fnv1a"].size() == 2);
  CHECK(s2["weights_fnv1a"][0] == s2["weights_fnv1a"][1]);
  CHECK(s2["weights_fnv1a"][0] == sa["weights_fnv1a"][0]);
  CHECK(slurp(two / "metrics.csv") == slurp(accum / "metrics.csv"));
  CHECK(s2["evals"] == sa["evals"]);
  CHECK(s2["sample"] == sa["sample"]);
  // the same rows as one batch of 8 (the same batches drawn), summed in another order
  CHECK(s2["weights_fnv1a"][0] != sw["weights_fnv1a"][0]);
  for (const char* step : {"0", "3", "5"}) CHECK(std::abs(s2["evals"][step]["val"].get<double>() - sw["evals"][step]["val"].get<double>()) < 1e-5);
  // with dropout each replica draws its masks from a stream of its own: other losses than the
  // accumulation's (one stream), and still one set of weights
  REQUIRE(run(model + b4 + "--dropout 0.2 --steps 6 --replicas 2 --out " + drop.string(), tmp).rc == 0);
  REQUIRE(run(model + b4 + "--dropout 0.2 --steps 6 --grad-accum 2 --out " + drop_accum.string(), tmp).rc == 0);
  const json sd = json::parse(slurp(drop / "summary.json"));
  CHECK(sd["weights_fnv1a"][0] == sd["weights_fnv1a"][1]);
  CHECK(slurp(drop / "metrics.csv") != slurp(drop_accum / "metrics.csv"));
  // a checkpoint of one process (step 3 of 4 steps) resumes as 2 replicas: the uninterrupted 2-replica run's steps
  const fs::path part = tmp.path / "part", resumed = tmp.path / "resumed";
  REQUIRE(run(model + b4 + "--dropout 0 --steps 4 --grad-accum 2 --out " + part.string(), tmp).rc == 0);
  const Run c = run(model + b4 + "--dropout 0 --steps 6 --replicas 2 --resume " + (part / "model.safetensors").string() + " --out " +
                        resumed.string(), tmp);
  REQUIRE(c.rc == 0);
  CHECK(c.out.find("resumed from") != std::string::npos);
  const std::string full = slurp(two / "metrics.csv"), rest = slurp(resumed / "metrics.csv");
  REQUIRE(rest.rfind("step,loss\n3,", 0) == 0);
  const std::string body = rest.substr(std::string("step,loss\n").size());
  CHECK(full.substr(full.size() - body.size()) == body);
  CHECK(json::parse(slurp(resumed / "summary.json"))["weights_fnv1a"] == s2["weights_fnv1a"]);
}

TEST_CASE("cli: a short run writes metrics.csv, summary.json, plots and a checkpoint that --sample-only reads", "[cli]") {
  TempDir tmp;
  const fs::path out = tmp.path / "out";
  const Run r = run("--steps 3 --eval-interval 2 --eval-iters 2 --gen 40 --quiet --out " + out.string(), tmp);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("0.209729 M parameters") != std::string::npos);
  CHECK(r.out.find("step 0: train loss 4.4116, val loss 4.4022") == std::string::npos);  // 2 batches, not 200
  const std::string csv = slurp(out / "metrics.csv");
  CHECK(csv.rfind("step,loss\n0,", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 4);
  const json s = json::parse(slurp(out / "summary.json"));
  CHECK(s["params"] == 209729);
  CHECK(s["evals"].contains("0"));
  CHECK(s["evals"].contains("2"));
  CHECK(s["sample"].get<std::string>().size() == 41);
  CHECK(s["tokens_per_s"].get<double>() > 0);
  CHECK(fs::exists(out / "loss.png"));
  CHECK(fs::exists(out / "attention_head0.png"));
  REQUIRE(fs::exists(out / "model.safetensors"));
  const Run smp = run("--sample-only --load " + (out / "model.safetensors").string() +
                          " --gen 30 --top-k 5 --temperature 0.8 --prompt ROMEO: --out " + out.string(), tmp);
  CHECK(smp.rc == 0);
  CHECK(smp.out.rfind("ROMEO:", 0) == 0);  // the prompt, then 30 sampled characters
  CHECK(smp.out.size() == 6 + 30 + 1);
  const Run wrong = run("--sample-only --n-embd 32 --load " + (out / "model.safetensors").string() + " --out " + out.string(), tmp);
  CHECK(wrong.rc == 2);
  CHECK(wrong.err.find("n_embd") != std::string::npos);
}

TEST_CASE("cli: --resume continues a run exactly: the same losses, evaluations and text as without the stop", "[cli][resume]") {
  TempDir tmp;
  const std::string model = "--n-embd 16 --n-head 2 --n-layer 1 --block-size 8 --batch-size 4 --dropout 0.1 "
                            "--eval-interval 5 --eval-iters 2 --gen 60 --quiet ";
  const fs::path whole = tmp.path / "whole", part = tmp.path / "part";
  const Run a = run(model + "--steps 14 --out " + whole.string(), tmp);
  REQUIRE(a.rc == 0);
  const Run b = run(model + "--steps 7 --out " + part.string(), tmp);  // evaluates (and saves) at 0, 5 and 6
  REQUIRE(b.rc == 0);
  const Run c = run(model + "--steps 14 --resume " + (part / "model.safetensors").string() + " --out " + part.string(), tmp);
  REQUIRE(c.rc == 0);
  CHECK(c.out.find("resumed from") != std::string::npos);
  // the resumed run's steps 6..13 are the uninterrupted run's, digit for digit
  const std::string full = slurp(whole / "metrics.csv"), rest = slurp(part / "metrics.csv");
  REQUIRE(rest.rfind("step,loss\n6,", 0) == 0);
  const std::string body = rest.substr(std::string("step,loss\n").size());
  REQUIRE(full.size() > body.size());
  CHECK(full.substr(full.size() - body.size()) == body);
  const json sa = json::parse(slurp(whole / "summary.json")), sc = json::parse(slurp(part / "summary.json"));
  CHECK(sc["evals"]["10"] == sa["evals"]["10"]);
  CHECK(sc["evals"]["13"] == sa["evals"]["13"]);
  CHECK(sc["sample"] == sa["sample"]);
  // a checkpoint at or past --steps is an error
  const Run d = run(model + "--steps 6 --resume " + (part / "model.safetensors").string() + " --out " + (tmp.path / "d").string(), tmp);
  CHECK(d.rc == 2);
  CHECK(d.err.rfind("error: ", 0) == 0);
}

TEST_CASE("cli: exercise 2, --config add: 500 steps learn 2-digit addition, >= 95 % of the 1000 held-out problems right", "[cli][add]") {
  TempDir tmp;
  const fs::path out = tmp.path / "out";
  const Run r = run("--config add --digits 2 --steps 500 --eval-interval 250 --quiet --out " + out.string(), tmp);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("step 0: train loss 2.4596, val loss 2.4600") != std::string::npos);  // PyTorch's line
  CHECK(r.out.find("9000 problems to train on, 1000 held out") != std::string::npos);
  const json s = json::parse(slurp(out / "summary.json"));
  CHECK(s["accuracy"]["total"] == 1000);
  CHECK(s["accuracy"]["correct"].get<int64_t>() >= 950);
  CHECK(s["samples"].size() == 8);
  CHECK(s["config"]["block_size"] == 8);
  CHECK(fs::exists(out / "loss.png"));
  CHECK(fs::exists(out / "model.safetensors"));
  // the problem's length is fixed by --digits, and the other modes have no addition model
  for (const std::string args : {"--config add --block-size 16", "--config add --mode sample", "--digits 2", "--config add --digits 4"}) {
    INFO(args);
    const Run bad = run(args + " --quiet --out " + (tmp.path / "bad").string(), tmp);
    CHECK(bad.rc == 2);
    CHECK(bad.err.rfind("error: ", 0) == 0);
    CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
  }
}

// Exercise 4's schedule as a flag of the program: --lr-schedule cosine --warmup 10 gives the losses
// of reference.py's lr_at() (nanoGPT's get_lr), bit for bit on the golden's OpenBLAS kernel set.
TEST_CASE("cli: --lr-schedule cosine trains as reference.py's warm-up and cosine decay", "[cli][schedule]") {
  const auto& KG = z2h::test::stage_goldens("07-gpt");
  const json G = KG.load("colab_cosine.json");
  TempDir tmp;
  const fs::path out = tmp.path / "out";
  const Run r = run("--steps 60 --lr 3e-3 --lr-schedule cosine --warmup 10 --eval-interval 100000 --eval-iters 2 "
                    "--gen 0 --quiet --out " + out.string(), tmp);
  REQUIRE(r.rc == 0);
  std::istringstream csv(slurp(out / "metrics.csv"));
  std::string line;
  std::getline(csv, line);  // step,loss
  std::vector<double> losses;
  while (std::getline(csv, line)) losses.push_back(std::stod(line.substr(line.find(',') + 1)));
  const auto want = G["losses"].get<std::vector<double>>();
  REQUIRE(losses.size() == want.size());
  INFO("golden kernel " << G["openblas_core"] << (KG.exact() ? " (bit for bit)" : " (within 1e-3)"));
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("step " << i);
    if (KG.exact()) CHECK(static_cast<float>(losses[i]) == static_cast<float>(want[i]));
    else CHECK(losses[i] == Approx(want[i]).margin(i < 10 ? 1e-5 : 1e-3));
  }
  // and the schedule is not the constant lr: the same run without it ends elsewhere
  const Run c = run("--steps 60 --lr 3e-3 --eval-interval 100000 --eval-iters 2 --gen 0 --quiet --out " + out.string(), tmp);
  REQUIRE(c.rc == 0);
  std::istringstream csv2(slurp(out / "metrics.csv"));
  std::string last;
  while (std::getline(csv2, line)) last = line;
  CHECK(std::stod(last.substr(last.find(',') + 1)) != Approx(want.back()).margin(1e-3));
}
