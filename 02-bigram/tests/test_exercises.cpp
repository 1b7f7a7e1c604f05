// The exercises E01-E05, with few steps, against reference.py's numbers for the same steps.
#include "02-bigram/tests/support.hpp"

#include <cmath>

#include "02-bigram/exercises.hpp"

using namespace bigram;
using bigram::test::golden;
using bigram::test::goldens;
using bigram::test::names;
using nlohmann::json;

namespace {

// The configuration of goldens/exercises.json: the lecture's, with 3 bigram and 3 trigram steps.
struct Setup {
  Config cfg;
  z2h::CommonOptions opt;
};
Setup config(const json& G, const bigram::test::TempDir& out) {
  return {.cfg = {.tri_steps = G["tri_steps"].get<int64_t>()},
          .opt = {.seed = 2147483647, .out = out.path.string(), .steps = G["steps"].get<int64_t>(), .quiet = true}};
}

void check_close(const json& got, const json& expected, double margin) {
  const auto a = got.get<std::vector<double>>(), b = expected.get<std::vector<double>>();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).margin(margin));
}

const z2h::WordSplit& split() {
  static const z2h::WordSplit s = z2h::split_words(names().words);
  return s;
}

}  // namespace

TEST_CASE("E01: the trigram counts model beats the bigram (2.2126 < 2.4546) and matches PyTorch", "[E01]") {
  const auto G = golden("exercises.json");
  bigram::test::TempDir tmp;
  const json r = e01_trigram(names().words, names().vocab, config(G, tmp).cfg, config(G, tmp).opt);
  CHECK(r["examples"] == 228146);
  CHECK(r["nll_counts"].get<double>() == Approx(G["e01"]["nll_counts"].get<double>()).margin(1e-12));
  CHECK(r["nll_counts"].get<double>() < 2.454576820116076);
  CHECK(r["samples_counts"] == G["e01"]["samples_counts"]);
  check_close(r["losses"], G["e01"]["losses"], 1e-5);  // the trigram net, W = randn((729, 27), g)
  z2h::test::check_samples(r["samples_net"].get<std::vector<std::string>>(), G["e01"]["samples_net"], goldens(), 5, "E01: 5 names of the trigram net");
}

TEST_CASE("E02: the makemore split has 25626/3203/3204 words and train/dev/test losses match PyTorch", "[E02]") {
  const auto G = golden("exercises.json");
  CHECK(split().train.size() == 25626);
  CHECK(split().dev.size() == 3203);
  CHECK(split().test.size() == 3204);
  bigram::test::TempDir tmp;
  const json r = e02_split(split(), names().vocab, config(G, tmp).cfg, config(G, tmp).opt);
  for (const char* model : {"bigram", "trigram"}) {
    INFO(model);
    CHECK(r[model]["examples"] == G["e02"][model]["examples"]);
    check_close(r[model]["counts"], G["e02"][model]["counts"], 1e-12);
    check_close(r[model]["net"], G["e02"][model]["net"], 1e-5);
  }
  // Counted on train only, the trigram model is measured on names it never saw: dev > train.
  CHECK(r["trigram"]["counts"][1].get<double>() > r["trigram"]["counts"][0].get<double>());
}

TEST_CASE("E03: more smoothing always costs on train, dev picks one strength, test is looked at once", "[E03]") {
  const auto G = golden("exercises.json");
  bigram::test::TempDir tmp;
  const auto opt = config(G, tmp).opt;
  std::filesystem::create_directories(opt.out);
  const json r = e03_smoothing(split(), names().vocab, opt);
  const auto train = r["train"].get<std::vector<double>>();
  for (size_t i = 1; i < train.size(); ++i) CHECK(train[i] > train[i - 1]);
  check_close(r["train"], G["e03"]["train"], 1e-12);
  check_close(r["dev"], G["e03"]["dev"], 1e-12);
  CHECK(r["best_alpha"].get<double>() == G["e03"]["best_alpha"].get<double>());
  CHECK(r["test"].get<double>() == Approx(G["e03"]["test"].get<double>()).margin(1e-12));
  CHECK(std::filesystem::file_size(std::filesystem::path(opt.out) / "e03_smoothing.png") > 1000);
}

TEST_CASE("E04: W[xs] trains like one_hot(xs) @ W (same logits, losses equal up to float summation order)", "[E04]") {
  const auto G = golden("exercises.json");
  bigram::test::TempDir tmp;
  const auto [cfg, opt] = config(G, tmp);
  z2h::Generator g(opt.seed);
  z2h::Tensor W = z2h::randn(z2h::Shape{V, V}, g);
  W.requires_grad_();
  const auto losses = train(W, as_long(names().ex.xs), as_long(names().ex.ys), opt.steps, float(cfg.lr), float(cfg.reg),
                            Forward::onehot);
  const json r = e04_row_indexing(names().ex, losses, W, names().vocab, cfg, opt);
  CHECK(r["logits_equal"] == true);
  CHECK(r["max_loss_diff"].get<double>() < 1e-4);
  check_close(r["losses"], G["e04"]["losses"], 1e-5);
  z2h::test::check_samples(r["samples_net"].get<std::vector<std::string>>(), G["e04"]["samples_net"], goldens(), 5, "E04: 5 names");
}

TEST_CASE("E05: cross_entropy trains like the manual loss and survives logits that overflow exp", "[E05]") {
  const auto G = golden("exercises.json");
  bigram::test::TempDir tmp;
  const auto [cfg, opt] = config(G, tmp);
  z2h::Generator g(opt.seed);
  z2h::Tensor W = z2h::randn(z2h::Shape{V, V}, g);
  W.requires_grad_();
  const auto losses = train(W, as_long(names().ex.xs), as_long(names().ex.ys), opt.steps, float(cfg.lr), float(cfg.reg),
                            Forward::onehot);
  const json r = e05_cross_entropy(names().ex, losses, W, names().vocab, cfg, opt);
  CHECK(r["overflow_manual"].is_null());  // exp(105) = inf, inf / inf = nan
  CHECK(r["overflow_fused"].get<double>() == Approx(-std::log(std::exp(5.0) / (std::exp(-2.0) + std::exp(-3.0) +
                                                                              std::exp(0.0) + std::exp(5.0))))
                                                 .margin(1e-6));
  CHECK(r["max_loss_diff"].get<double>() < 1e-4);
  check_close(r["losses"], G["e05"]["losses"], 1e-5);
  z2h::test::check_samples(r["samples_net"].get<std::vector<std::string>>(), G["e05"]["samples_net"], goldens(), 5, "E05: 5 names");
}
