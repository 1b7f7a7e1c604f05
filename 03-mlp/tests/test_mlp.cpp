// Tests of stage 03-mlp against PyTorch. The goldens in tests/goldens/<kernel>/ come from reference.py,
// one folder per OpenBLAS kernel set (common/tests/goldens_support.hpp), each file with its command:
//   OPENBLAS_NUM_THREADS=1 [OPENBLAS_CORETYPE=Haswell] /usr/bin/python3 03-mlp/reference.py --goldens 03-mlp/tests/goldens
// (or ./z2h goldens 03-mlp). names.txt must be present: run `data/fetch names.txt`.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "03-mlp/model.hpp"
#include "common/app/error.hpp"
#include "common/rng/generator.hpp"
#include "common/data/names_dataset.hpp"
#include "common/tensor/ops.hpp"
#include "common/io/safetensors.hpp"
#include "common/tests/goldens_support.hpp"
#include "common/tests/program_support.hpp"
#include "common/data/text_data.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// How many steps of the chaotic default (lecture-init) run are checked against PyTorch: see below.
constexpr int kDefaultTrackedSteps = 1000;

// The goldens of the local OpenBLAS kernel set where they exist (then compared bit for bit), else
// Haswell's (then compared within the tolerances each test states, with a WARN saying so).
const z2h::test::KernelGoldens& goldens() { return z2h::test::stage_goldens("03-mlp"); }
json golden(const std::string& name) { return goldens().load(name); }

// On another kernel set than the goldens', the default (lecture-init) run parts from PyTorch's after
// ~13 steps (below): its first 10 losses are compared within 2e-4, and after them the mean of every
// 330 steps within 0.2. Measured between PyTorch's runs on the Prescott, Haswell, SkylakeX and
// Sandybridge kernel sets: at most 9.9e-5 in the first 10 steps, at most 0.066 between 330-step means.
constexpr z2h::test::Tolerance kChaotic{.steps = 10, .tol = 2e-4, .window = 330, .band = 0.2};

std::vector<std::string> names_txt() {
  const fs::path path = fs::path(Z2H_DEFAULT_DATA_DIR) / "names.txt";
  if (!fs::exists(path)) FAIL("data file " << path.string() << " not found: run `data/fetch names.txt` (or ./z2h test) first");
  return z2h::read_lines(path.string());
}

// The lecture's data, built once for all tests: vocabulary and the three splits for a block size.
struct Splits {
  z2h::Vocab vocab;
  z2h::Contexts train, dev, test;
};
const Splits& splits(int block_size) {
  static std::map<int, Splits> cache;
  auto it = cache.find(block_size);
  if (it == cache.end()) {
    auto words = names_txt();
    auto vocab = z2h::Vocab::from_words(words, '.');
    auto s = z2h::split_words(words);
    it = cache.emplace(block_size, Splits{vocab, z2h::build_contexts(s.train, block_size, vocab),
                                          z2h::build_contexts(s.dev, block_size, vocab),
                                          z2h::build_contexts(s.test, block_size, vocab)}).first;
  }
  return it->second;
}

z2h::LongTensor X_of(const z2h::Contexts& c) {
  return z2h::LongTensor(c.X, z2h::Shape{static_cast<int64_t>(c.size()), c.block_size});
}
z2h::LongTensor Y_of(const z2h::Contexts& c) { return z2h::LongTensor(c.Y); }

mlp::ModelConfig config_of(const json& c) {
  return {.block_size = c["block_size"], .emb = c["emb"], .hidden = c["hidden"], .direct = c["direct"],
          .init = c["init"] == "tuned" ? mlp::Init::tuned : mlp::Init::lecture};
}

// Trains `steps` steps exactly as main.cpp does (batches from the generator after the init) and
// returns the minibatch losses. The model is left trained in `model`.
std::vector<double> run_steps(mlp::Model& model, z2h::Generator& g, const Splits& d, int batch,
                              int steps) {
  const auto X = X_of(d.train);
  const auto Y = Y_of(d.train);
  z2h::optim::SGD sgd(model.parameters(), 0.1);
  std::vector<double> losses;
  for (int i = 0; i < steps; ++i) {
    auto ix = z2h::randint(0, X.size(0), z2h::Shape{batch}, g);
    losses.push_back(mlp::train_step(model, sgd, X[ix], Y[ix]));
  }
  return losses;
}

void check_init_digest(const mlp::Model& m, const json& init) {
  for (const auto& [name, p] : m.named_parameters()) {
    INFO("parameter " << name);
    const json& dg = init.at(name);
    REQUIRE(p.shape().vec() == dg["shape"].get<std::vector<int64_t>>());
    auto v = p.tolist();
    for (size_t k = 0; k < 4; ++k) {
      CHECK(v[k] == dg["first"][k].get<float>());                 // bit-exact
      CHECK(v[v.size() - 4 + k] == dg["last"][k].get<float>());
    }
    double sum = 0, sum_abs = 0;
    for (float x : v) sum += x, sum_abs += std::abs(x);
    CHECK(sum == Approx(dg["sum"].get<double>()).margin(1e-9));  // every value, to summation order
    CHECK(sum_abs == Approx(dg["sum_abs"].get<double>()).margin(1e-9));
  }
}

// ---- running the program (common/tests/program_support.hpp) ------------------------------------
using z2h::test::Run;
using z2h::test::run;
using z2h::test::TempDir;

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

}  // namespace

// ================================================================================================
TEST_CASE("the lecture's split gives 182625 / 22655 / 22866 examples with block size 3", "[data]") {
  const auto& d = splits(3);
  auto g = golden("default_300.json")["split_sizes"];
  CHECK(d.train.size() == 182625);
  CHECK(d.dev.size() == 22655);
  CHECK(d.test.size() == 22866);
  CHECK(d.train.size() == g["train"][0].get<size_t>());
  CHECK(d.dev.size() == g["val"][0].get<size_t>());
  CHECK(d.test.size() == g["test"][0].get<size_t>());
}

TEST_CASE("block size 5 gives the same number of examples, with longer contexts", "[data]") {
  const auto& d = splits(5);
  auto g = golden("variants_20.json")["variants"]["block5_emb16_hidden64_batch50"]["split_sizes"];
  CHECK(d.train.size() == g["train"][0].get<size_t>());
  CHECK(d.dev.size() == g["val"][0].get<size_t>());
  CHECK(d.test.size() == g["test"][0].get<size_t>());
  CHECK(d.train.block_size == 5);
}

TEST_CASE("the default model has the lecture's 11897 parameters", "[model]") {
  z2h::Generator g(2147483647);
  CHECK(mlp::Model::init({}, g).num_params() == 11897);
}

TEST_CASE("init values equal PyTorch's for the default seed", "[model][torch]") {
  z2h::Generator g(2147483647);
  check_init_digest(mlp::Model::init({}, g), golden("default_300.json")["init"]);
}

TEST_CASE("init values equal PyTorch's for other configurations (tuned init, direct, block 5)", "[model][torch]") {
  check_init_digest([] { z2h::Generator g(2147483647); return mlp::Model::init({.init = mlp::Init::tuned}, g); }(),
                    golden("tuned_300.json")["init"]);
  const json variants = golden("variants_20.json")["variants"];  // a named json: items() is a view
  for (const auto& [name, v] : variants.items()) {
    INFO("variant " << name);
    z2h::Generator g(v["config"]["seed"].get<uint64_t>());
    check_init_digest(mlp::Model::init(config_of(v["config"]), g), v["init"]);
  }
}

TEST_CASE("the step-0 minibatch loss equals PyTorch's for the default seed", "[train][torch]") {
  const auto gold = golden("default_300.json");
  z2h::Generator g(2147483647);
  mlp::Model m = mlp::Model::init({}, g);
  auto losses = run_steps(m, g, splits(3), 32, 1);
  z2h::test::check_value(losses[0], gold["losses"][0], goldens(), 1e-4, "step-0 loss");  // to the bit on the same kernels
}

TEST_CASE("the step-0 minibatch loss equals PyTorch's for other seeds", "[train][torch]") {
  const json step0 = golden("step0_seeds.json")["step0"];
  for (const auto& [seed, torch0] : step0.items()) {
    z2h::Generator g(std::stoull(seed));
    mlp::Model m = mlp::Model::init({}, g);
    auto losses = run_steps(m, g, splits(3), 32, 1);
    z2h::test::check_value(losses[0], torch0.get<double>(), goldens(), 1e-4, "seed " + seed + ": step-0 loss");
  }
}

TEST_CASE("the first 1000 minibatch losses are PyTorch's to the bit (default lecture init)", "[train][torch]") {
  // The lecture's unscaled init makes the first steps chaotic (loss ~28, saturated tanh, lr 0.1):
  // in PyTorch itself, computing one matmul in double instead of float moves the loss by 4e-5
  // within 10 steps and 2.5e-3 within 50, and a 1-ulp difference anywhere in the step grows past
  // 1e-4 within ~13 steps. So the default run can follow PyTorch only if every operation of the
  // step rounds as PyTorch's does: the same OpenBLAS sgemm calls, SLEEF's tanh/exp/log, and
  // PyTorch's summation orders and FMA contractions (docs/common.md, "Bit-exact numerics").
  // The sgemm calls are the same only on the same OpenBLAS kernel set: elsewhere kChaotic applies.
  const auto gold = golden("default_1000.json");
  z2h::Generator g(2147483647);
  mlp::Model m = mlp::Model::init({}, g);
  auto losses = run_steps(m, g, splits(3), 32, kDefaultTrackedSteps);
  z2h::test::check_losses(losses, gold["losses"], goldens(), kChaotic, "default run, 1000 steps");
}

TEST_CASE("300 minibatch losses, the full-split losses and the samples are PyTorch's (tuned init, E02)", "[train][torch]") {
  const auto gold = golden("tuned_300.json");
  z2h::Generator g(2147483647);
  mlp::Model m = mlp::Model::init({.init = mlp::Init::tuned}, g);
  const auto& d = splits(3);
  auto losses = run_steps(m, g, d, 32, 300);
  // The tuned init is not chaotic: on other kernel sets every loss stays within 1e-5 of PyTorch's
  // (measured between four kernel sets: at most 7.2e-7), and so do the split losses.
  z2h::test::check_losses(losses, gold["losses"], goldens(), {.steps = 300, .tol = 1e-5}, "tuned init, 300 steps");
  z2h::test::check_value(mlp::split_loss(m, X_of(d.train), Y_of(d.train)), gold["eval"]["train"], goldens(), 1e-5, "train loss");
  z2h::test::check_value(mlp::split_loss(m, X_of(d.dev), Y_of(d.dev)), gold["eval"]["val"], goldens(), 1e-5, "dev loss");
  z2h::test::check_samples(mlp::sample(m, d.vocab, 20, 2147483647ull + 10), gold["samples"], goldens(), 10, "20 names");
}

TEST_CASE("after 300 steps of the default run, the split losses and the samples are PyTorch's", "[train][torch]") {
  const auto gold = golden("default_300.json");
  z2h::Generator g(2147483647);
  mlp::Model m = mlp::Model::init({}, g);
  const auto& d = splits(3);
  auto losses = run_steps(m, g, d, 32, 300);
  z2h::test::check_losses(losses, gold["losses"], goldens(), kChaotic, "default run, 300 steps");
  // On another kernel set the chaotic run has parted from PyTorch's: its split losses (~6.1 here)
  // within 0.2 (measured between four kernel sets: at most 0.051), its names only well-formed.
  z2h::test::check_value(mlp::split_loss(m, X_of(d.train), Y_of(d.train)), gold["eval"]["train"], goldens(), 0.2, "train loss");
  z2h::test::check_value(mlp::split_loss(m, X_of(d.dev), Y_of(d.dev)), gold["eval"]["val"], goldens(), 0.2, "dev loss");
  z2h::test::check_samples(mlp::sample(m, d.vocab, 20, 2147483647ull + 10), gold["samples"], goldens(), 0, "20 names");
}

TEST_CASE("the first minibatch losses of other configurations track PyTorch", "[train][torch]") {
  const json variants = golden("variants_20.json")["variants"];
  for (const auto& [name, v] : variants.items()) {
    const auto cfg = config_of(v["config"]);
    z2h::Generator g(v["config"]["seed"].get<uint64_t>());
    mlp::Model m = mlp::Model::init(cfg, g);
    const int n = 20;
    auto losses = run_steps(m, g, splits(cfg.block_size), v["config"]["batch_size"], n);
    // Three of them start from the chaotic lecture init: on other kernel sets their first 10 losses
    // within 2e-4, the mean of the last 10 within 0.01 (measured between four kernel sets: at most
    // 7.2e-5 in the first 10 steps, 4e-4 in any step).
    z2h::test::check_losses(losses, v["losses"], goldens(), {.steps = 10, .tol = 2e-4, .window = 10, .band = 0.01},
                            "variant " + name);
  }
}

TEST_CASE("overfitting one batch: the first five names' 32 examples are memorised, loss for loss as in PyTorch", "[train][torch]") {
  // The lecture's first training (reference.py overfit_batch): the examples of words[:5], all of
  // them in every step, C 27x2 and hidden 100 (3481 parameters), plain SGD at lr 0.1, 1000 steps.
  const auto gold = golden("overfit_batch.json");
  const auto words = names_txt();
  const auto vocab = z2h::Vocab::from_words(words, '.');
  const auto batch = z2h::build_contexts({words.begin(), words.begin() + 5}, 3, vocab);
  std::vector<int64_t> gold_X;
  for (const auto& row : gold["X"]) for (const auto& v : row) gold_X.push_back(v.get<int64_t>());
  REQUIRE(batch.size() == 32);
  REQUIRE(batch.X == gold_X);
  REQUIRE(batch.Y == gold["Y"].get<std::vector<int64_t>>());
  const auto X = X_of(batch), Y = Y_of(batch);

  z2h::Generator g(gold["config"]["seed"].get<uint64_t>());
  mlp::Model m = mlp::Model::init(config_of(gold["config"]), g);
  REQUIRE(m.num_params() == 3481);
  check_init_digest(m, gold["init"]);
  z2h::optim::SGD sgd(m.parameters(), gold["config"]["lr"].get<double>());
  std::vector<double> losses;
  for (int i = 0; i < 1000; ++i) losses.push_back(mlp::train_step(m, sgd, X, Y));
  // Full batch is not chaotic: on other kernel sets every loss stays within 5e-3 of PyTorch's
  // (measured between PyTorch's runs on four kernel sets: at most 1.4e-3, near step 463 where the
  // loss briefly rises; 3.3e-7 at step 999).
  z2h::test::check_losses(losses, gold["losses"], goldens(), {.steps = 1000, .tol = 5e-3}, "overfit one batch");
  // memorised: the loss fell from ~17.8 to ~0.26, and the likeliest next character is the right one
  // except after '...', which precedes five different letters
  CHECK(losses.front() > 17.0);
  CHECK(losses.back() < 0.3);
  z2h::NoGradGuard no_grad;
  const auto guess = z2h::argmax(m.forward(X), 1);
  // After '...' the five letters are nearly tied (each ~1/5): which one wins depends on the last
  // bits, so only the goldens' own kernel set must pick PyTorch's; elsewhere it is one of the five.
  if (goldens().exact()) CHECK(guess.data == gold["max_indices"].get<std::vector<int64_t>>());
  const std::vector<int64_t> followers = {5, 15, 1, 9, 19};  // e o a i s
  for (size_t i = 0; i < batch.size(); ++i) {
    INFO("example " << i);
    const bool after_dots = batch.X[3 * i] == 0 && batch.X[3 * i + 1] == 0 && batch.X[3 * i + 2] == 0;
    if (after_dots) CHECK(std::find(followers.begin(), followers.end(), guess.data[i]) != followers.end());
    else CHECK(guess.data[i] == batch.Y[i]);
  }
}

TEST_CASE("the untrained model samples PyTorch's 20 names (multinomial, seed 2147483647 + 10)", "[sample][torch]") {
  const auto gold = golden("default_300.json");
  z2h::Generator g(2147483647);
  mlp::Model m = mlp::Model::init({}, g);
  // Only a forward pass: on other kernel sets the same names too (measured), all 20 required.
  z2h::test::check_samples(mlp::sample(m, splits(3).vocab, 20, 2147483647ull + 10), gold["samples_init"], goldens(), 20,
                           "20 names of the untrained model");
}

TEST_CASE("a checkpoint round-trips every parameter and the configuration", "[checkpoint]") {
  z2h::Generator g(42);
  mlp::Model m = mlp::Model::init({.block_size = 4, .emb = 5, .hidden = 7, .direct = true}, g);
  TempDir tmp;
  const fs::path dir = tmp.path / "out";
  fs::create_directories(dir);
  mlp::save_checkpoint(dir / "m.safetensors", m, splits(3).vocab, 42, 123);
  mlp::Checkpoint ck = mlp::load_checkpoint(dir / "m.safetensors");
  CHECK(ck.seed == 42);
  CHECK(ck.steps == 123);
  CHECK(ck.vocab.chars() == splits(3).vocab.chars());
  CHECK(ck.model.cfg.block_size == 4);
  CHECK(ck.model.cfg.emb == 5);
  CHECK(ck.model.cfg.hidden == 7);
  CHECK(ck.model.cfg.direct);
  auto a = m.named_parameters(), b = ck.model.named_parameters();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    CHECK(a[i].second.shape() == b[i].second.shape());
    CHECK(a[i].second.tolist() == b[i].second.tolist());
  }
}

TEST_CASE("a truncated or foreign checkpoint is a clear error", "[checkpoint]") {
  z2h::Generator g(1);
  mlp::Model m = mlp::Model::init({}, g);
  TempDir tmp;
  const fs::path dir = tmp.path / "out";
  fs::create_directories(dir);
  mlp::save_checkpoint(dir / "m.safetensors", m, splits(3).vocab, 1, 0);
  fs::resize_file(dir / "m.safetensors", fs::file_size(dir / "m.safetensors") - 100);
  CHECK_THROWS_AS(mlp::load_checkpoint(dir / "m.safetensors"), z2h::UserError);
  z2h::save_safetensors(dir / "other.safetensors", {{.name = "W", .shape = {2}, .data = {1, 2}}}, {{"stage", "02-bigram"}});
  CHECK_THROWS_WITH(mlp::load_checkpoint(dir / "other.safetensors"), Catch::Contains("not written by 03-mlp"));
  CHECK_THROWS_AS(mlp::load_checkpoint(dir / "missing.safetensors"), z2h::UserError);
}

TEST_CASE("lr-find's learning rates are PyTorch's 10**linspace(-3, 0, 1000)", "[train][torch]") {
  const auto gold = golden("lr_find.json");
  auto lre = z2h::linspace(-3.0f, 0.0f, 1000).tolist();
  for (size_t k = 0; k < 5; ++k) {
    CHECK(lre[k] == gold["lre_first"][k].get<float>());
    CHECK(lre[995 + k] == gold["lre_last"][k].get<float>());
    CHECK(std::pow(10.0f, lre[k]) == Approx(gold["lr_first"][k].get<double>()).epsilon(2e-7));
    CHECK(std::pow(10.0f, lre[995 + k]) == Approx(gold["lr_last"][k].get<double>()).epsilon(2e-7));
  }
}

// ---- the program, end to end ------------------------------------------------------------------
TEST_CASE("a short run writes metrics.csv (one row per step), summary.json, plots and a checkpoint", "[program]") {
  TempDir tmp;
  const fs::path dir = tmp.path / "out";
  fs::create_directories(dir);
  Run r = run("--steps 300 --quiet --test --out " + dir.string(), tmp);
  INFO(r.out << r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("      0/    300: ") != std::string::npos);  // the lecture's progress line
  // the lecture's look at C and view, on the untrained model: C[5] is one_hot(5) @ C, the unbound
  // slices concatenated are emb.view(32, 30), and a view shares its source's storage
  CHECK(r.out.find("(equal: True)\n") != std::string::npos);
  CHECK(r.out.find("torch.cat(torch.unbind(emb, 1), 1) == emb.view(32, 30): True\n") != std::string::npos);
  CHECK(r.out.find("the view shares emb's storage: True; the cat made a copy: True\n") != std::string::npos);
  CHECK(r.out.find("same storage: True\n") != std::string::npos);
  auto csv = lines_of([&] { std::ifstream f(dir / "metrics.csv"); std::stringstream s; s << f.rdbuf(); return s.str(); }());
  REQUIRE(csv.size() == 301);
  CHECK(csv[0] == "step,loss,lr");
  CHECK(csv[1].rfind("0,", 0) == 0);
  json s = json::parse(std::ifstream(dir / "summary.json"));
  CHECK(s["stage"] == "03-mlp");
  CHECK(s["seed"] == 2147483647);
  CHECK(s["params"] == 11897);
  CHECK(s["steps"] == 300);
  CHECK(s["threads"] == 1);
  for (const char* k : {"train", "val", "test"}) CHECK(s["loss"][k].is_number());
  CHECK(s["samples"].size() == 20);
  for (const char* k : {"block_size", "emb", "hidden", "batch_size", "lr", "lr_final", "decay_step", "init", "direct"})
    CHECK(s["config"].contains(k));
  CHECK(s["split_sizes"]["train"] == 182625);
  for (const char* f : {"loss.png", "embedding.png", "model.safetensors"}) CHECK(fs::exists(dir / f));
}

TEST_CASE("sample-only mode reproduces the samples of the run that saved the checkpoint", "[program][checkpoint]") {
  TempDir tmp;
  const fs::path dir = tmp.path / "out";
  fs::create_directories(dir);
  Run r = run("--steps 200 --quiet --seed 1234 --out " + dir.string(), tmp);
  REQUIRE(r.rc == 0);
  json s = json::parse(std::ifstream(dir / "summary.json"));
  Run again = run("--sample-only --out " + dir.string(), tmp);
  INFO(again.out << again.err);
  REQUIRE(again.rc == 0);
  CHECK(lines_of(again.out) == s["samples"].get<std::vector<std::string>>());
}

TEST_CASE("the program with --overfit-batch trains the lecture's 3481 parameters on the first five names until they are memorised", "[program]") {
  TempDir tmp;
  const fs::path dir = tmp.path / "out";
  fs::create_directories(dir);
  Run r = run("--overfit-batch --quiet --out " + dir.string(), tmp);
  INFO(r.out << r.err);
  REQUIRE(r.rc == 0);
  const auto gold = golden("overfit_batch.json");
  CHECK(r.out.find("one batch: the 32 examples of 'emma', 'olivia', 'ava', 'isabella', 'sophia' (block_size 3)\n") !=
        std::string::npos);
  CHECK(r.out.find("parameters: 3481\n") != std::string::npos);
  CHECK(r.out.find("      0/   1000: 17.7") != std::string::npos);
  // PyTorch's guesses: right for 28 of the 32, wrong only after '...' (one guess for five letters)
  int64_t right = 0;
  for (size_t i = 0; i < 32; ++i) right += gold["max_indices"][i] == gold["Y"][i];
  CHECK(right == 28);
  CHECK(r.out.find("logits.max(1).indices == Y for 28 of 32 examples; the others:\n") != std::string::npos);
  size_t misses = 0;
  for (const auto& line : lines_of(r.out))
    misses += line.rfind("  ... ---> ", 0) == 0 && line.find("  (... is followed by: e o a i s)") != std::string::npos;
  CHECK(misses == 4);
  json s = json::parse(std::ifstream(dir / "summary.json"));
  CHECK(s["mode"] == "overfit-batch");
  CHECK(s["params"] == 3481);
  CHECK(s["steps"] == 1000);
  CHECK(s["config"]["emb"] == 2);
  CHECK(s["config"]["hidden"] == 100);
  CHECK(s["config"]["init"] == "lecture");
  z2h::test::check_value(s["loss"]["train"].get<double>(), gold["losses"][999], goldens(), 1e-4, "last loss");
  CHECK(fs::exists(dir / "loss.png"));
  CHECK(!fs::exists(dir / "model.safetensors"));
}

TEST_CASE("bad flags and files give one line 'error: ...' and exit status 2", "[program]") {
  TempDir tmp;
  const fs::path dir = tmp.path / "out";
  fs::create_directories(dir);
  for (const std::string args : {"--steps -1", "--batch-size 0", "--emb 0", "--lr -0.1", "--init kaiming",
                                 "--hidden 5000", "--batch-size 100000", "--block-size 33", "--samples 1000000",
                                 "--bogus", "--data /nonexistent/names.txt",
                                 "--sample-only --load /nonexistent.safetensors"}) {
    Run r = run(args + " --quiet --out " + dir.string(), tmp);
    INFO(args << " -> " << r.err);
    CHECK(r.rc == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK(lines_of(r.err).size() == 1);
  }
  CHECK(fs::is_empty(dir));  // nothing half-written
}
