// The program as a person uses it: flags, errors, the files it writes.
#include "02-bigram/tests/support.hpp"

#include <fstream>

using bigram::test::run_program;
using bigram::test::TempDir;
using nlohmann::json;

namespace {
int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }
}  // namespace

TEST_CASE("invalid values get one 'error:' line, exit code 2 and no output files", "[cli]") {
  TempDir tmp;
  const auto out = tmp.path / "out";
  for (const std::string flags : {"--steps -1", "--samples x", "--exercise e09", "--lr 0", "--smoothing -1",
                                  "--seed -5", "--no-such-flag", "--data /nonexistent/names.txt",
                                  "--sample-only --load /nonexistent/model.safetensors"}) {
    INFO(flags);
    const auto r = run_program(flags + " --quiet --out " + out.string(), tmp);
    CHECK(r.rc == 2);
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK(lines(r.err) == 1);
    CHECK_FALSE(std::filesystem::exists(out / "summary.json"));
  }
}

TEST_CASE("a run writes summary.json, metrics.csv (one row per step), the plots and a checkpoint", "[cli]") {
  TempDir tmp;
  const auto out = tmp.path / "out";
  const auto r = run_program("--steps 3 --samples 2 --quiet --out " + out.string(), tmp);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("mor.\naxx.\n") != std::string::npos);
  CHECK(r.out.find("average negative log likelihood, i.e. loss = 3.7693049907684326") != std::string::npos);
  CHECK(r.out.find("step 4: loss 3.689188") != std::string::npos);  // the lecture's 5 steps on "emma"

  std::ifstream sf(out / "summary.json");
  const json s = json::parse(sf);
  for (const char* key : {"stage", "seed", "config", "params", "steps", "loss", "samples", "wall_s", "steps_per_s",
                          "train_s", "train_cpu_s", "threads", "nll", "samples_neural"})
    CHECK(s.contains(key));
  CHECK(s["stage"] == "02-bigram");
  CHECK(s["seed"] == 2147483647u);
  CHECK(s["params"] == 729);
  REQUIRE(s["emma_steps"].size() == 5);
  CHECK(s["emma_steps"][4].get<double>() == Approx(3.6891887187957764).margin(1e-6));
  CHECK(s["nll"].get<double>() == 2.454576820116076);
  CHECK(s["samples"] == json({"mor.", "axx."}));
  CHECK(s["loss"]["train"].get<double>() == Approx(3.16109037399292).margin(1e-6));  // step 2's loss

  std::ifstream mf(out / "metrics.csv");
  std::string header, row;
  std::getline(mf, header);
  CHECK(header.rfind("step,loss", 0) == 0);
  int rows = 0;
  while (std::getline(mf, row)) ++rows;
  CHECK(rows == 3);
  for (const char* png : {"bigram_counts.png", "loss.png"}) CHECK(std::filesystem::file_size(out / png) > 10000);
  CHECK(std::filesystem::file_size(out / "xenc.png") > 1000);

  SECTION("--sample-only reads the checkpoint back and samples the same names") {
    const auto again = run_program("--sample-only --samples 2 --out " + out.string(), tmp);
    REQUIRE(again.rc == 0);
    CHECK(again.out.find("mor.\naxx.\n") != std::string::npos);
    const auto net = s["samples_neural"].get<std::vector<std::string>>();
    CHECK(again.out.find(net[0] + "\n" + net[1] + "\n") != std::string::npos);
  }
}

TEST_CASE("the seed flag changes both models' names, as torch.Generator().manual_seed(seed) does", "[cli][seeds]") {
  const auto G = bigram::test::golden("seeds.json");
  TempDir tmp;
  const auto out = tmp.path / "out";
  for (const std::string seed : {"42", "123456789012"}) {  // the second: only its low 32 bits reach MT19937
    INFO("seed " << seed);
    const auto r = run_program("--seed " + seed + " --samples 10 --steps 20 --quiet --out " + out.string(), tmp);
    REQUIRE(r.rc == 0);
    std::ifstream sf(out / "summary.json");
    const json s = json::parse(sf);
    const auto& E = G["seeds"][seed];
    CHECK(s["samples"] == E["samples_counts"]);
    z2h::test::check_samples(s["samples_neural"].get<std::vector<std::string>>(), E["samples_neural"], bigram::test::goldens(), 10, "the net's 10 names");
    CHECK(s["emma_loss"].get<double>() == Approx(E["emma_loss"].get<double>()).margin(1e-6));
    CHECK(s["loss"]["train"].get<double>() == Approx(E["losses"][19].get<double>()).margin(1e-6));
  }
}
