// 02-bigram — lecture 2 of Neural Networks: Zero to Hero: the bigram language model.
//
// A bigram model predicts the next character of a name from the current one alone. First it is
// built by counting (a 27x27 table N of how often each character follows each other), sampled,
// and measured with the mean negative log-likelihood. Then the same model is built again as a
// one-layer neural net — one-hot input times a 27x27 weight matrix, softmax — trained by gradient
// descent, and it arrives at (nearly) the same table. The video's exercises are --exercise options.
//
//   ./z2h run 02-bigram                          the lecture (prints what the notebook printed)
//   ./z2h run 02-bigram --seed 42 --samples 10   another seed: the same names PyTorch gives
//   ./z2h run 02-bigram --exercise all           also E01-E05 (trigram, splits, sweep, E04, E05)
//   ./z2h run 02-bigram --sample-only            names from the last run's model.safetensors
//
// Read it beside README.md, which follows the lecture's chapters.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "02-bigram/counts.hpp"
#include "02-bigram/exercises.hpp"
#include "02-bigram/net.hpp"
#include "02-bigram/report.hpp"
#include "common/data/sample_names.hpp"
#include "common/app/cli.hpp"
#include "common/app/error.hpp"
#include "common/rng/generator.hpp"
#include "common/data/names_dataset.hpp"
#include "common/io/output.hpp"
#include "common/plot/plot.hpp"
#include "common/app/format.hpp"
#include "common/app/run_info.hpp"
#include "common/app/run_report.hpp"
#include "common/app/settings.hpp"
#include "common/io/safetensors.hpp"
#include "common/data/text_data.hpp"

namespace {

using namespace bigram;
using z2h::LongTensor;
using z2h::py_repr;
using z2h::Shape;
using z2h::Tensor;

// ================================================================================================
// Hyper-parameters: the lecture's (seed 2147483647 and 100 steps are in z2h::CommonOptions).
// ================================================================================================
struct Hyper {
  bigram::Config lecture;  // smoothing 1, 5 samples, lr 50, reg 0.01; E01/E02's trigram net: 300 steps
                           // at lr 50 (exercises.hpp)
  int64_t emma_steps = 5;  // gradient steps on the 5 examples of "emma" alone (the lecture's first loop)
  double emma_lr = 0.1;    // their learning rate: W.data += -0.1 * W.grad
  std::vector<std::string> exercises;  // --exercise e01,e03 or all
  std::string load;        // --sample-only: the checkpoint (default <out>/model.safetensors)
  bool sample_only = false;
};

// The most names a run samples from each model: far more than anyone reads.
constexpr int64_t kMaxSamples = 100000;

// Every setting as a flag (and as summary.json's "config"), each named once: here.
void declare(z2h::Settings& s, Hyper& hp, z2h::CommonOptions& opt) {
  s.record("steps", opt.steps);
  s.option("--samples", hp.lecture.samples, "names to sample from each model")->check(z2h::in_range(0, kMaxSamples));
  s.option("--smoothing", hp.lecture.smoothing, "fake counts added to every cell of N")->check(z2h::between(0, 1e9));
  s.option("--lr", hp.lecture.lr, "learning rate of the net")->check(z2h::positive());
  s.option("--reg", hp.lecture.reg, "regularisation strength: loss += reg * (W**2).mean()")->check(z2h::between(0, 1e9));
  s.option("--emma-steps", hp.emma_steps, "gradient steps on the 5 bigrams of 'emma' alone")->check(z2h::at_least(0));
  s.option("--emma-lr", hp.emma_lr, "their learning rate")->check(z2h::positive());
  s.option("--tri-steps", hp.lecture.tri_steps, "E01/E02: gradient steps of the trigram net")->check(z2h::at_least(0));
  s.option("--tri-lr", hp.lecture.tri_lr, "E01/E02: learning rate of the trigram net")->check(z2h::positive());
  s.option("--exercise", hp.exercises, "exercises to run after the lecture: e01,e02,e03,e04,e05 or all")
      ->delimiter(',')
      ->check(CLI::IsMember({"e01", "e02", "e03", "e04", "e05", "all"}, CLI::ignore_case));
  s.flag("--sample-only", hp.sample_only, "sample from a saved model.safetensors, no counting or training");
  s.option("--load", hp.load, "--sample-only: the checkpoint (default <out>/model.safetensors)");
}

constexpr size_t kTopBigrams = 10;

// ================================================================================================
// Data: names.txt -> words -> the vocabulary and the bigram examples
// ================================================================================================
struct Data {
  std::vector<std::string> words;
  z2h::Vocab vocab;
  Examples ex;  // xs, ys: (character, next character) for every bigram of every word
};

// The bigram table is 27 x 27: '.' and the 26 lowercase letters, each of them in the names.
// Throws UserError naming the first character that is not one of them (and its line), or a letter
// that no name has.
[[noreturn]] void check_letters(const std::vector<std::string>& words) {
  const std::string fix = " (02-bigram's table has 27 characters, '.' and a-z: use names.txt or a file like it)";
  std::string seen;
  for (size_t line = 0; line < words.size(); ++line)
    for (char c : words[line]) {
      if (c < 'a' || c > 'z')
        throw z2h::UserError("expected 26 lowercase letters plus '.', found " + z2h::quote(std::string(1, c)) +
                             " on line " + std::to_string(line + 1) + " of the names file" + fix);
      if (seen.find(c) == std::string::npos) seen += c;
    }
  for (char c = 'a'; c <= 'z'; ++c)
    if (seen.find(c) == std::string::npos)
      throw z2h::UserError("expected 26 lowercase letters plus '.', but no name has " + z2h::quote(std::string(1, c)) + fix);
  throw z2h::UserError("expected 26 lowercase letters plus '.' in the names file" + fix);
}

Data load_data(const z2h::CommonOptions& opt) {
  auto words = z2h::read_lines(z2h::data_file(opt, "names.txt"));
  std::printf("%s\n", z2h::run_header(opt.stage, opt.seed, opt.threads).c_str());
  auto vocab = z2h::Vocab::from_words(words, '.');  // stoi: '.'=0, 'a'=1 ... 'z'=26
  size_t shortest = words.empty() ? 0 : words[0].size(), longest = 0;
  for (const auto& w : words) shortest = std::min(shortest, w.size()), longest = std::max(longest, w.size());
  std::printf("words: %zu (shortest %zu, longest %zu), vocabulary %d: %s\n", words.size(), shortest, longest,
              vocab.size(), vocab.chars().c_str());
  if (vocab.size() != V) check_letters(words);
  Examples ex = bigrams(words, vocab);
  return {std::move(words), vocab, std::move(ex)};
}

// ================================================================================================
// Counting: N[x][y] = how often y followed x
// ================================================================================================
Counts count_bigrams(const Data& d) {
  std::printf("\n== counting: N[ix1, ix2] += 1 for every bigram ==\n");
  Counts N = count(d.ex, V);
  std::printf("bigrams: %lld (%d distinct, %d of %d cells zero)\n", static_cast<long long>(N.total()), N.distinct(),
              V * V - N.distinct(), V * V);
  std::printf("most common:");
  for (const Bigram& b : top_bigrams(N, d.vocab, kTopBigrams)) std::printf("  %s %d", b.text.c_str(), b.count);
  std::printf("\n");
  return N;
}

// The smoothed probabilities, and the broadcasting pitfall the lecture dwells on.
std::vector<float> normalise(const Counts& N, double smoothing) {
  std::printf("\n== P = (N+%g).float(); P /= P.sum(1, keepdims=True) ==\n", smoothing);
  std::vector<float> P = probabilities(N, smoothing);
  const std::vector<float> wrong = probabilities(N, smoothing, /*keepdim=*/false);
  double row0 = 0.0, row0_wrong = 0.0;
  for (int c = 0; c < V; ++c) row0 += P[static_cast<size_t>(c)], row0_wrong += wrong[static_cast<size_t>(c)];
  std::printf("P[0] (what follows '.'):");
  for (int c = 0; c < V; ++c) std::printf("%s%.4f", c % 9 ? " " : "\n  ", double(P[static_cast<size_t>(c)]));
  std::printf("\nP[0].sum() = %.4f; without keepdims, (27,27) / (27,) divides COLUMNS: P[0].sum() = %.4f\n", row0,
              row0_wrong);
  return P;
}

// ================================================================================================
// Sampling from the counts, and the loss of the counts model
// ================================================================================================
std::vector<std::string> sample_from_counts(const std::vector<float>& P, const Data& d, uint64_t seed, int n) {
  std::printf("\n== sampling: g = torch.Generator().manual_seed(%llu); multinomial(P[ix], 1, replacement=True) ==\n",
              static_cast<unsigned long long>(seed));
  z2h::Generator g(seed);
  auto names = sample_names(n, 1, [&](int64_t row) { return P.data() + row * V; }, g, d.vocab);
  for (const auto& name : names) std::printf("%s\n", name.c_str());
  return names;
}

struct CountsLoss {
  Nll smoothed, unsmoothed, float32;
};

CountsLoss counts_loss(const Counts& N, const std::vector<float>& P, const Data& d, double smoothing) {
  std::printf("\n== the loss: mean negative log-likelihood of all %zu bigrams ==\n", d.ex.size());
  CountsLoss L{nll_double(N, smoothing, d.ex), nll_double(N, 0.0, d.ex), nll_float32(P, d.ex)};
  std::printf("log_likelihood = %s\n", py_repr(L.smoothed.log_likelihood).c_str());
  std::printf("nll = %s  (double, +%g smoothing)\n", py_repr(L.smoothed.nll).c_str(), smoothing);
  std::printf("nll = %s  (double, no smoothing: the model without fake counts)\n", py_repr(L.unsmoothed.nll).c_str());
  std::printf("nll = %s  (the lecture's float32 running sum, log_likelihood=%s; printed 2.4544)\n",
              py_repr(L.float32.nll).c_str(), py_repr(L.float32.log_likelihood).c_str());
  return L;
}

// ================================================================================================
// The neural net: what the untrained net says about the five bigrams of "emma"
// ================================================================================================
struct Emma {
  float loss;                 // the untrained net's mean NLL on the 5 examples
  std::vector<double> steps;  // the loss before each of the gradient steps on them alone
};

// plt.imshow(xenc): the one-hot inputs, one row per example, a bright cell at the character's index
void plot_xenc(const std::filesystem::path& png, const std::vector<int64_t>& xs) {
  const Tensor xenc = z2h::one_hot(LongTensor(xs), V);
  z2h::plot::Heatmap map{.rows = static_cast<int>(xs.size()), .cols = V, .cmap = z2h::plot::Colormap::blues};
  map.values.assign(xenc.data(), xenc.data() + xenc.numel());
  z2h::plot::heatmap(png, map,
                     {.title = "xenc = one_hot(xs, 27) for 'emma': one row per input (. e m m a), one column per character",
                      .width = 1350, .height = 330});
}

Emma emma(const Data& d, const Hyper& hp, uint64_t seed, const std::filesystem::path& out) {
  std::printf("\n== the neural net: W = torch.randn((27, 27), generator=g); the 5 bigrams of 'emma' ==\n");
  z2h::Generator g(seed);
  Tensor W = z2h::randn(Shape{V, V}, g);
  const std::vector<int64_t> xs(d.ex.xs.begin(), d.ex.xs.begin() + 5), ys(d.ex.ys.begin(), d.ex.ys.begin() + 5);
  plot_xenc(out / "xenc.png", xs);
  const Breakdown b = breakdown(W, xs, ys);
  for (int i = 0; i < 5; ++i) {
    const int x = static_cast<int>(xs[static_cast<size_t>(i)]), y = static_cast<int>(ys[static_cast<size_t>(i)]);
    std::printf("--------\nbigram example %d: %c%c (indexes %d,%d)\n", i + 1, d.vocab.itos(x), d.vocab.itos(y), x, y);
    std::printf("input to the neural net: %d\noutput probabilities from the neural net: [", x);
    for (int c = 0; c < V; ++c) std::printf("%s%.4f", c == 0 ? "" : c % 9 ? ", " : ",\n        ", double(b.probs.at({i, c})));
    std::printf("]\nlabel (actual next character): %d\n", y);
    std::printf("probability assigned by the net to the the correct character: %s\n", py_repr(b.p[i]).c_str());
    std::printf("log likelihood: %s\nnegative log likelihood: %s\n", py_repr(-b.nll[i]).c_str(), py_repr(b.nll[i]).c_str());
  }
  std::printf("=========\naverage negative log likelihood, i.e. loss = %s\n", py_repr(b.loss).c_str());

  // the lecture's first optimisation: forward, W.grad = None, backward, W.data += -0.1 * W.grad
  std::printf("\n== gradient descent on these 5 examples alone, lr %g ==\n", hp.emma_lr);
  W.requires_grad_();
  Emma e{b.loss, train(W, as_long(xs), as_long(ys), hp.emma_steps, float(hp.emma_lr), 0.0f, Forward::onehot)};
  for (size_t k = 0; k < e.steps.size(); ++k) std::printf("step %zu: loss %s\n", k, py_repr(e.steps[k]).c_str());
  return e;
}

// ================================================================================================
// Training: full-batch gradient descent on all 228146 examples
// ================================================================================================
std::vector<double> train_net(Tensor& W, const Data& d, int64_t steps, const Hyper& hp, z2h::RunReport& report) {
  std::printf("\n== gradient descent: all %zu examples each step, lr %g, loss = nll + %g*(W**2).mean() ==\n",
              d.ex.size(), hp.lecture.lr, hp.lecture.reg);
  report.start(steps, {"step", "loss"}, "train", {.every = 10, .last = true, .full_digits = true});
  auto losses = train(W, as_long(d.ex.xs), as_long(d.ex.ys), steps, float(hp.lecture.lr), float(hp.lecture.reg), Forward::onehot,
                      [&](int64_t k, double loss) { report.step(k, loss); });
  report.stop();
  return losses;
}

std::vector<std::string> sample_from_net(const Tensor& W, const Data& d, uint64_t seed, int n) {
  std::printf("\n== sampling from the net: g re-seeded with %llu; p = softmax(one_hot(ix) @ W) ==\n",
              static_cast<unsigned long long>(seed));
  z2h::Generator g(seed);  // the lecture makes a fresh generator for this cell, with the same seed
  auto names = sample_net(W.detach(), n, 1, g, d.vocab);
  for (const auto& name : names) std::printf("%s\n", name.c_str());
  return names;
}

// ================================================================================================
// Plots
// ================================================================================================
void plot_counts(const std::filesystem::path& png, const Counts& N, const z2h::Vocab& vocab) {
  // plt.figure(figsize=(16,16)); plt.imshow(N, cmap='Blues'); plt.text(j, i, chstr, va="bottom")
  // and plt.text(j, i, N[i, j].item(), va="top"), both gray; plt.axis('off')
  z2h::plot::Heatmap map{.rows = V, .cols = V, .cmap = z2h::plot::Colormap::blues};
  for (int i = 0; i < V; ++i)
    for (int j = 0; j < V; ++j) {
      map.values.push_back(N.at(i, j));
      map.upper.push_back(std::string{vocab.itos(i), vocab.itos(j)});
      map.lower.push_back(std::to_string(N.at(i, j)));
    }
  z2h::plot::heatmap(png, map, {.width = 1600, .height = 1600});
}

void plot_loss(const std::filesystem::path& png, const std::vector<double>& losses, double counts_nll,
               const Hyper& hp) {
  char title[96], counts[96];
  std::snprintf(title, sizeof title, "bigram net: full-batch gradient descent (lr %g, reg %g)", hp.lecture.lr, hp.lecture.reg);
  std::snprintf(counts, sizeof counts, "counts model, +%g smoothing (%.4f)", hp.lecture.smoothing, counts_nll);
  const double last = static_cast<double>(losses.size() - 1);
  z2h::plot::lines(png,
                   {{.y = losses, .label = "net: nll + reg, before each step's update"},
                    {.x = {0.0, last}, .y = {counts_nll, counts_nll}, .label = counts, .color = "#000000"}},
                   {.title = title, .xlabel = "step", .ylabel = "loss", .grid = true});
}

// ================================================================================================
// The run
// ================================================================================================
nlohmann::json run_exercises(const Hyper& hp, const z2h::CommonOptions& opt, const Data& d,
                             const std::vector<double>& losses, const Tensor& W) {
  const bigram::Config& cfg = hp.lecture;
  auto wants = [&](const char* e) {
    for (const auto& x : hp.exercises)
      if (x == e || x == "all") return true;
    return false;
  };
  nlohmann::json ex = nlohmann::json::object();
  if (wants("e01")) ex["e01"] = e01_trigram(d.words, d.vocab, cfg, opt);
  if (wants("e02") || wants("e03")) {
    const z2h::WordSplit split = z2h::split_words(d.words);  // random.seed(42); random.shuffle(words); 80/10/10
    if (wants("e02")) ex["e02"] = e02_split(split, d.vocab, cfg, opt);
    if (wants("e03")) ex["e03"] = e03_smoothing(split, d.vocab, opt);
  }
  if (wants("e04")) ex["e04"] = e04_row_indexing(d.ex, losses, W, d.vocab, cfg, opt);
  if (wants("e05")) ex["e05"] = e05_cross_entropy(d.ex, losses, W, d.vocab, cfg, opt);
  return ex;
}

int sample_only(const Hyper& hp, const z2h::CommonOptions& opt) {
  const std::filesystem::path path =
      hp.load.empty() ? std::filesystem::path(opt.out) / "model.safetensors" : std::filesystem::path(hp.load);
  if (!std::filesystem::exists(path))
    throw z2h::UserError("no checkpoint at '" + path.string() + "' (run ./z2h run 02-bigram first, or pass --load PATH)");
  const auto ck = z2h::load_safetensors(path);
  const auto& n = ck.get("N", {V, V}, z2h::DType::I64);
  const auto& w = ck.get("W", {V, V});
  z2h::require_finite(w, ck.path);
  const z2h::Vocab vocab = z2h::Vocab::for_names(ck.metadata.count("vocab") ? ck.metadata.at("vocab") : "");
  if (vocab.size() != V) throw z2h::UserError(z2h::quote_path(path.string()) + " has no 27-character vocabulary: not a 02-bigram checkpoint");
  const Counts N = counts_from_int64(n.ints, V, ck.path);
  const Data d{{}, vocab, {}};
  sample_from_counts(probabilities(N, hp.lecture.smoothing), d, opt.seed, hp.lecture.samples);
  sample_from_net(z2h::tensor(w.data, Shape{V, V}), d, opt.seed, hp.lecture.samples);
  return 0;
}

int run(const Hyper& hp, const z2h::CommonOptions& opt, const z2h::Settings& settings) {
  // data, counting, sampling, the loss of the counts model
  const Data d = load_data(opt);
  const auto out = z2h::prepare_out_dir(opt.out);
  z2h::RunReport report(opt, settings, out);
  const Counts N = count_bigrams(d);
  const std::vector<float> P = normalise(N, hp.lecture.smoothing);
  const auto samples = sample_from_counts(P, d, opt.seed, hp.lecture.samples);
  const CountsLoss counts = counts_loss(N, P, d, hp.lecture.smoothing);

  // the neural net: the untrained net on "emma", then training, then sampling
  const Emma emma_run = emma(d, hp, opt.seed, out);
  z2h::Generator g(opt.seed);
  Tensor W = z2h::randn(Shape{V, V}, g);
  W.requires_grad_();
  const std::vector<double> losses = train_net(W, d, opt.steps, hp, report);
  const auto samples_neural = sample_from_net(W, d, opt.seed, hp.lecture.samples);

  // plots
  plot_counts(out / "bigram_counts.png", N, d.vocab);
  if (!losses.empty()) plot_loss(out / "loss.png", losses, counts.smoothed.nll, hp);

  // the exercises asked for
  const nlohmann::json exercises = run_exercises(hp, opt, d, losses, W);

  // model.safetensors, metrics.csv, summary.json
  std::vector<int64_t> counts64(N.n.begin(), N.n.end());
  z2h::save_safetensors(out / "model.safetensors",
                        {{.name = "N", .shape = {V, V}, .dtype = z2h::DType::I64, .ints = counts64},
                         {.name = "W", .shape = {V, V}, .data = W.tolist()}},
                        {{"stage", opt.stage}, {"vocab", d.vocab.chars()}});
  report.summary.update({
      {"params", W.numel()},
      {"loss", {{"train", losses.empty() ? nlohmann::json(nullptr) : nlohmann::json(losses.back())}}},
      {"samples", samples},
      {"nll", counts.smoothed.nll},
      {"nll_unsmoothed", counts.unsmoothed.nll},
      {"nll_float32", counts.float32.nll},
      {"emma_loss", emma_run.loss},
      {"emma_steps", emma_run.steps},
      {"samples_neural", samples_neural},
      {"bigrams", N.total()},
      {"exercises", exercises},
  });
  report.write();
  std::printf("\ntrained %s; wrote %s\n",
              report.speed(", " + std::to_string(opt.threads) + (opt.threads == 1 ? " thread" : " threads")).c_str(),
              out.string().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"02-bigram: counting bigrams, sampling, the loss, and the same model as a one-layer net (lecture 2)"};
  z2h::CommonOptions opt{.stage = "02-bigram", .seed = 2147483647, .steps = 100};
  z2h::add_common_options(app, opt);
  Hyper hp;
  z2h::Settings settings(app);
  declare(settings, hp, opt);
  z2h::add_max_len_option(app, z2h::max_name_length());
  return z2h::run_main(argc, argv, app, opt, [&] { return hp.sample_only ? sample_only(hp, opt) : run(hp, opt, settings); });
}
