// 07-gpt under mpirun (docs/mpi.md): a data-parallel run is the run of one process that sees the
// same rows, not merely a synchronous one. Each test runs the built program on a tiny model, once
// under mpirun and once or more as a plain process, and compares the runs with each other.
// Registered only where CMake found MPI and mpirun (07-gpt/CMakeLists.txt, label "mpi").
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/io/safetensors.hpp"
#include "common/tests/program_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
using z2h::test::Run;
using z2h::test::run;
using z2h::test::slurp;
using z2h::test::TempDir;

// A model that trains in a fraction of a second, without dropout (so that rows, not masks, decide
// the gradients), evaluating (and saving a checkpoint) at steps 0, 3 and 5.
const std::string kModel = "--n-embd 16 --n-head 2 --n-layer 1 --block-size 8 --dropout 0 --eval-interval 3 "
                           "--eval-iters 4 --gen 40 --quiet ";

// mpirun -np N 07-gpt args. Open MPI refuses root without the two variables, and more ranks than
// cores without --oversubscribe; each rank runs one OpenBLAS thread.
Run mpi(int np, const std::string& args, const TempDir& tmp) {
  const std::string launcher = "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 '" + std::string(Z2H_MPIEXEC) +
                               "' " + Z2H_MPIEXEC_FLAGS + " -np " + std::to_string(np) + " '" + Z2H_STAGE_EXE + "'";
  const Run r = z2h::test::run_program("/usr/bin/env", launcher + " " + args, tmp);
  INFO("mpirun stderr: " << r.err);
  return r;
}

// metrics.csv's loss column
std::vector<double> losses(const fs::path& out) {
  std::istringstream in(slurp(out / "metrics.csv"));
  std::string line;
  std::getline(in, line);
  std::vector<double> v;
  while (std::getline(in, line)) v.push_back(std::stod(line.substr(line.find(',') + 1)));
  return v;
}

double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

// The largest difference between two checkpoints' weights (their AdamW moments left out).
double max_weight_diff(const fs::path& a, const fs::path& b) {
  const z2h::SafetensorsFile fa = z2h::load_safetensors(a), fb = z2h::load_safetensors(b);
  REQUIRE(fa.arrays.size() == fb.arrays.size());
  double d = 0;
  size_t n = 0;
  for (size_t k = 0; k < fa.arrays.size(); ++k) {
    const z2h::NamedArray &ta = fa.arrays[k], &tb = fb.arrays[k];
    REQUIRE(ta.name == tb.name);
    if (ta.name.rfind("optimizer.", 0) == 0) continue;
    REQUIRE(ta.data.size() == tb.data.size());
    for (size_t i = 0; i < ta.data.size(); ++i) d = std::max(d, std::abs(static_cast<double>(ta.data[i]) - tb.data[i]));
    ++n;
  }
  REQUIRE(n > 0);
  return d;
}

json summary(const fs::path& out) { return json::parse(slurp(out / "summary.json")); }
}  // namespace

TEST_CASE("mpi: 2 ranks of batch 4 hold the same weights, and are bit for bit 1 rank of 2 accumulated batches of 4",
          "[mpi]") {
  TempDir tmp;
  const fs::path two = tmp.path / "two", accum = tmp.path / "accum";
  const Run c = mpi(2, kModel + "--steps 6 --batch-size 4 --out " + two.string(), tmp);
  REQUIRE(c.rc == 0);
  const Run b = run(kModel + "--steps 6 --batch-size 4 --grad-accum 2 --out " + accum.string(), tmp);
  REQUIRE(b.rc == 0);
  const json sc = summary(two), sb = summary(accum);
  CHECK(sc["ranks"] == 2);
  CHECK(sc["global_batch"] == 8);
  CHECK(sb["global_batch"] == 8);
  // each rank's weights at the end, as FNV-1a of their float32 words: the same on both ranks...
  REQUIRE(sc["weights_fnv1a"].size() == 2);
  CHECK(sc["weights_fnv1a"][0] == sc["weights_fnv1a"][1]);
  // ...and the same as one process's that summed the two halves' gradients itself
  CHECK(sc["weights_fnv1a"][0] == sb["weights_fnv1a"][0]);
  CHECK(slurp(two / "metrics.csv") == slurp(accum / "metrics.csv"));
  CHECK(sc["evals"] == sb["evals"]);  // the 2 ranks split the evaluation's batches
  CHECK(sc["sample"] == sb["sample"]);
  // only rank 0 prints
  CHECK(c.out.find("M parameters") == c.out.rfind("M parameters"));
  CHECK(c.out.find("2 ranks") != std::string::npos);
}

TEST_CASE("mpi: 2 ranks of batch 4 train like 1 rank of batch 8 to float tolerance, and unlike 1 rank of batch 4", "[mpi]") {
  TempDir tmp;
  const fs::path one = tmp.path / "one", two = tmp.path / "two", two_accum = tmp.path / "two_accum", half = tmp.path / "half";
  REQUIRE(run(kModel + "--steps 6 --batch-size 8 --out " + one.string(), tmp).rc == 0);
  REQUIRE(mpi(2, kModel + "--steps 6 --batch-size 4 --out " + two.string(), tmp).rc == 0);
  REQUIRE(mpi(2, kModel + "--steps 6 --batch-size 2 --grad-accum 2 --out " + two_accum.string(), tmp).rc == 0);
  REQUIRE(run(kModel + "--steps 6 --batch-size 4 --out " + half.string(), tmp).rc == 0);
  // The same rows in each step, summed in another order: the losses and the weights after 5 AdamW
  // steps (the checkpoint of step 5) agree to a few float32 roundings...
  const double tol = 1e-5;
  CHECK(max_diff(losses(one), losses(two)) < tol);
  CHECK(max_diff(losses(one), losses(two_accum)) < tol);
  CHECK(max_weight_diff(one / "model.safetensors", two / "model.safetensors") < tol);
  CHECK(max_weight_diff(one / "model.safetensors", two_accum / "model.safetensors") < tol);
  // ...while half the batch (what rank 0 alone sees) gives other losses and other weights.
  CHECK(max_diff(losses(one), losses(half)) > 100 * tol);
  CHECK(max_weight_diff(one / "model.safetensors", half / "model.safetensors") > 100 * tol);
}

TEST_CASE("mpi: a checkpoint resumes on any number of ranks, continuing the run it came from", "[mpi][resume]") {
  TempDir tmp;
  const fs::path two = tmp.path / "two", accum = tmp.path / "accum", one = tmp.path / "one";
  // 1 rank, 2 accumulated batches of 4, stopped after 4 steps (its checkpoint is from step 3)...
  REQUIRE(run(kModel + "--steps 4 --batch-size 4 --grad-accum 2 --out " + accum.string(), tmp).rc == 0);
  // ...resumed on 2 ranks of batch 4 is the uninterrupted 2-rank run, bit for bit
  REQUIRE(mpi(2, kModel + "--steps 6 --batch-size 4 --out " + two.string(), tmp).rc == 0);
  const fs::path resumed = tmp.path / "resumed";
  const Run r = mpi(2, kModel + "--steps 6 --batch-size 4 --resume " + (accum / "model.safetensors").string() + " --out " +
                           resumed.string(), tmp);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("resumed from") != std::string::npos);
  const std::vector<double> whole = losses(two), rest = losses(resumed);
  REQUIRE(rest.size() == 3);
  CHECK(std::vector<double>(whole.end() - 3, whole.end()) == rest);
  CHECK(summary(resumed)["weights_fnv1a"] == summary(two)["weights_fnv1a"]);
  // and the 2-rank run's checkpoint (step 5) resumes on one process of batch 8
  const Run o = run(kModel + "--steps 7 --batch-size 8 --resume " + (two / "model.safetensors").string() + " --out " +
                          one.string(), tmp);
  REQUIRE(o.rc == 0);
  CHECK(losses(one).size() == 2);
}

TEST_CASE("mpi: 2 replicas on 2 threads of one process are 2 ranks bit for bit, dropout's masks included", "[mpi][replicas]") {
  TempDir tmp;
  const fs::path ranks = tmp.path / "ranks", replicas = tmp.path / "replicas";
  std::string args = kModel + "--steps 6 --batch-size 4 ";
  args.replace(args.find("--dropout 0 "), 12, "--dropout 0.2 ");
  REQUIRE(mpi(2, args + "--out " + ranks.string(), tmp).rc == 0);
  REQUIRE(run(args + "--replicas 2 --out " + replicas.string(), tmp).rc == 0);
  const json sm = summary(ranks), sr = summary(replicas);
  CHECK(slurp(ranks / "metrics.csv") == slurp(replicas / "metrics.csv"));
  CHECK(sm["evals"] == sr["evals"]);
  CHECK(sm["sample"] == sr["sample"]);
  CHECK(sm["weights_fnv1a"] == sr["weights_fnv1a"]);
  CHECK(max_weight_diff(ranks / "model.safetensors", replicas / "model.safetensors") == 0);
  // and with 2 accumulated micro-batches of 2 rows on each
  const fs::path ranks_accum = tmp.path / "ranks_accum", replicas_accum = tmp.path / "replicas_accum";
  std::string accum = args;
  accum.replace(accum.find("--batch-size 4"), 14, "--batch-size 2 --grad-accum 2");
  REQUIRE(mpi(2, accum + "--out " + ranks_accum.string(), tmp).rc == 0);
  REQUIRE(run(accum + "--replicas 2 --out " + replicas_accum.string(), tmp).rc == 0);
  CHECK(slurp(ranks_accum / "metrics.csv") == slurp(replicas_accum / "metrics.csv"));
  CHECK(summary(ranks_accum)["evals"] == summary(replicas_accum)["evals"]);
  CHECK(summary(ranks_accum)["weights_fnv1a"] == summary(replicas_accum)["weights_fnv1a"]);
}

TEST_CASE("mpi: bad input under mpirun is one error line from rank 0, and no files", "[mpi]") {
  TempDir tmp;
  for (const std::string args : {"--grad-accum 0", "--mode sample --load /dev/null", "--config add", "--data /no/such/file.txt",
                                 "--resume /dev/null", "--replicas 2"}) {
    INFO(args);
    const fs::path out = tmp.path / "out";
    const Run r = mpi(2, args + " --quiet --out " + out.string(), tmp);
    CHECK(r.rc != 0);
    // mpirun adds its own lines about the exit status; ours is the one that starts "error: "
    size_t errors = 0;
    std::istringstream in(r.err);
    for (std::string line; std::getline(in, line);) errors += line.rfind("error: ", 0) == 0;
    CHECK(errors == 1);
    CHECK(!fs::exists(out / "summary.json"));
  }
}
