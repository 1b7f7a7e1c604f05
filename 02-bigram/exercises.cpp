// 02-bigram/exercises.cpp — E01-E05 (see exercises.hpp and the README's last chapter).
#include "02-bigram/exercises.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "02-bigram/report.hpp"
#include "common/plot/plot.hpp"
#include "common/app/progress.hpp"

namespace bigram {

using nlohmann::json;
using z2h::LongTensor;
using z2h::Shape;
using z2h::Tensor;

namespace {

constexpr int kTrigramRows = V * V;  // one row per pair of previous characters: 729

// A fresh W = torch.randn((rows, 27), generator=g) from g = torch.Generator().manual_seed(seed).
Tensor init_W(int rows, uint64_t seed) {
  z2h::Generator g(seed);
  Tensor W = z2h::randn(Shape{rows, V}, g);
  W.requires_grad_();
  return W;
}

std::vector<std::string> sample_counts(const std::vector<float>& P, int context, const Config& cfg, const z2h::CommonOptions& opt,
                                       const z2h::Vocab& vocab) {
  z2h::Generator g(opt.seed);
  return sample_names(cfg.samples, context, [&](int64_t row) { return P.data() + row * V; }, g, vocab);
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0.0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double m = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(double(a.data()[i]) - double(b.data()[i])));
  return m;
}

}  // namespace

std::vector<double> sweep_alphas() {
  std::vector<double> a;
  for (int k = -12; k <= 4; ++k) a.push_back(std::pow(10.0, k / 4.0));
  return a;
}

// ---- E01: the trigram model ------------------------------------------------------------------
json e01_trigram(const std::vector<std::string>& words, const z2h::Vocab& vocab, const Config& cfg, const z2h::CommonOptions& opt) {
  std::printf("\n== E01: a trigram model — two characters in, the third out ==\n");
  const Examples ex = trigrams(words, vocab);  // ".." + word + ".": as many examples as bigrams
  const Counts N = count(ex, kTrigramRows);
  const Nll counts_nll = nll_double(N, cfg.smoothing, ex);
  std::printf("%zu trigrams, %d of %d (context, next) cells seen\n", ex.size(), N.distinct(), kTrigramRows * V);
  std::printf("counts model, +%g smoothing: nll = %s (the bigram counts model: 2.4546)\n", cfg.smoothing,
              py_repr(counts_nll.nll).c_str());
  const auto samples_counts = sample_counts(probabilities(N, cfg.smoothing), 2, cfg, opt, vocab);
  std::printf("samples (counts): %s\n", join(samples_counts).c_str());

  // The net: W is (729, 27), one row per context. A one-hot input would be a 228146 x 729 float
  // matrix (665 MB) that only selects rows: W[xs] does the same for nothing (exercise E04).
  std::printf("net: W = randn((729, 27), g), logits = W[27*ix1 + ix2], lr %g, %lld steps\n", cfg.tri_lr,
              static_cast<long long>(cfg.tri_steps));
  Tensor W = init_W(kTrigramRows, opt.seed);
  const auto losses = train_logged(W, as_long(ex.xs), as_long(ex.ys), cfg.tri_steps, float(cfg.tri_lr), float(cfg.reg),
                                   Forward::index, "trigram", opt.quiet, 50);
  z2h::Generator g(opt.seed);
  const auto samples_net = sample_net(W.detach(), cfg.samples, 2, g, vocab);
  std::printf("samples (net): %s\n", join(samples_net).c_str());
  return {{"examples", ex.size()},
          {"nll_counts", counts_nll.nll},
          {"samples_counts", samples_counts},
          {"losses", losses},
          {"loss", losses.empty() ? json(nullptr) : json(losses.back())},
          {"samples_net", samples_net}};
}

// ---- E02: train / dev / test -----------------------------------------------------------------
json e02_split(const z2h::WordSplit& split, const z2h::Vocab& vocab, const Config& cfg, const z2h::CommonOptions& opt) {
  std::printf("\n== E02: 80/10/10 split (random.seed(42); random.shuffle(words)): %zu / %zu / %zu words ==\n",
              split.train.size(), split.dev.size(), split.test.size());
  std::printf("%-30s %9s %9s %9s\n", "model (trained on train)", "train", "dev", "test");
  json result = {{"words", {split.train.size(), split.dev.size(), split.test.size()}}};
  struct Model {
    const char* name;
    Examples (*examples)(const std::vector<std::string>&, const z2h::Vocab&);
    int rows;
    int64_t steps;
    double lr;
  };
  for (const Model& m : {Model{"bigram", bigrams, V, opt.steps, cfg.lr},
                         Model{"trigram", trigrams, kTrigramRows, cfg.tri_steps, cfg.tri_lr}}) {
    const Examples tr = m.examples(split.train, vocab), dev = m.examples(split.dev, vocab),
                   te = m.examples(split.test, vocab);
    const Counts N = count(tr, m.rows);  // counted on the training words only
    const std::vector<double> counts = {nll_double(N, cfg.smoothing, tr).nll, nll_double(N, cfg.smoothing, dev).nll,
                                        nll_double(N, cfg.smoothing, te).nll};
    Tensor W = init_W(m.rows, opt.seed);
    z2h::Progress bar(m.steps, std::string(m.name) + " (train split)", opt.quiet);
    const auto losses = train(W, as_long(tr.xs), as_long(tr.ys), m.steps, float(m.lr), float(cfg.reg), Forward::index,
                              [&](int64_t k, double loss) { bar.update(k + 1, loss); });
    bar.finish();
    const std::vector<double> net = {nll(W, as_long(tr.xs), as_long(tr.ys)), nll(W, as_long(dev.xs), as_long(dev.ys)),
                                     nll(W, as_long(te.xs), as_long(te.ys))};
    char label[64];
    std::snprintf(label, sizeof label, "%s counts, +%g", m.name, cfg.smoothing);
    std::printf("%-30s %9.4f %9.4f %9.4f\n", label, counts[0], counts[1], counts[2]);
    std::snprintf(label, sizeof label, "%s net, %lld steps", m.name, static_cast<long long>(m.steps));
    std::printf("%-30s %9.4f %9.4f %9.4f\n", label, net[0], net[1], net[2]);
    result[m.name] = {{"examples", {tr.size(), dev.size(), te.size()}},
                      {"counts", counts},
                      {"net", net},
                      {"net_last_loss", losses.empty() ? json(nullptr) : json(losses.back())}};
  }
  return result;
}

// ---- E03: tune the smoothing on dev, test once -------------------------------------------------
json e03_smoothing(const z2h::WordSplit& split, const z2h::Vocab& vocab, const z2h::CommonOptions& opt) {
  std::printf("\n== E03: trigram smoothing tuned on dev, the best evaluated on test once ==\n");
  const Examples tr = trigrams(split.train, vocab), dev = trigrams(split.dev, vocab);
  const Counts N = count(tr, kTrigramRows);
  const auto alphas = sweep_alphas();
  std::vector<double> train_nll, dev_nll;
  size_t best = 0;
  std::printf("%12s %9s %9s\n", "smoothing", "train", "dev");
  for (size_t i = 0; i < alphas.size(); ++i) {
    train_nll.push_back(nll_double(N, alphas[i], tr).nll);
    dev_nll.push_back(nll_double(N, alphas[i], dev).nll);
    if (dev_nll[i] < dev_nll[best]) best = i;
    std::printf("%12.6g %9.4f %9.4f\n", alphas[i], train_nll[i], dev_nll[i]);
  }
  // Only now, with the setting chosen, does the test split get looked at — once.
  const double test = nll_double(N, alphas[best], trigrams(split.test, vocab)).nll;
  std::printf("best on dev: smoothing %.6g (dev %.4f); test %s\n", alphas[best], dev_nll[best], py_repr(test).c_str());

  const auto png = std::filesystem::path(opt.out) / "e03_smoothing.png";
  const double lo = *std::min_element(train_nll.begin(), train_nll.end());
  const double hi = *std::max_element(dev_nll.begin(), dev_nll.end());
  char best_label[64];
  std::snprintf(best_label, sizeof best_label, "best on dev: %.3g", alphas[best]);
  z2h::plot::lines(png,
                   {{.x = alphas, .y = train_nll, .label = "train"},
                    {.x = alphas, .y = dev_nll, .label = "dev"},
                    {.x = {alphas[best], alphas[best]}, .y = {lo, hi}, .label = best_label,
                     .color = "#000000"}},
                   {.title = "trigram counts model: mean NLL vs smoothing",
                    .xlabel = "smoothing (fake count added to every cell)",
                    .ylabel = "mean negative log-likelihood",
                    .logx = true,
                    .grid = true});
  std::printf("wrote %s\n", png.string().c_str());
  return {{"alphas", alphas}, {"train", train_nll}, {"dev", dev_nll}, {"best_alpha", alphas[best]}, {"test", test}};
}

// ---- E04 / E05: the same net, written differently ------------------------------------------------
namespace {

json retrain(const char* title, Forward f, const Examples& ex, const std::vector<double>& onehot_losses,
             const Tensor& W_onehot, const z2h::Vocab& vocab, const Config& cfg, const z2h::CommonOptions& opt, json result) {
  Tensor W = init_W(V, opt.seed);
  const LongTensor xs = as_long(ex.xs), ys = as_long(ex.ys);
  z2h::Progress bar(opt.steps, forward_name(f), opt.quiet);
  const auto losses = train(W, xs, ys, opt.steps, float(cfg.lr), float(cfg.reg), f, [&](int64_t k, double loss) {
    bar.update(k + 1, loss);
  });
  bar.finish();
  z2h::Generator g(opt.seed);
  const auto samples = sample_net(W.detach(), cfg.samples, 1, g, vocab);
  result["losses"] = losses;
  result["max_loss_diff"] = max_abs_diff(losses, onehot_losses);
  result["max_w_diff"] = max_abs_diff(W, W_onehot);
  result["samples_net"] = samples;
  std::printf("%s: %lld steps, last loss %s; max |loss - one-hot loss| over all steps = %.3g, max |W - W_onehot| = %.3g\n",
              title, static_cast<long long>(opt.steps), losses.empty() ? "-" : py_repr(losses.back()).c_str(),
              result["max_loss_diff"].get<double>(), result["max_w_diff"].get<double>());
  std::printf("samples: %s\n", join(samples).c_str());
  return result;
}

}  // namespace

json e04_row_indexing(const Examples& ex, const std::vector<double>& onehot_losses, const Tensor& W_onehot,
                      const z2h::Vocab& vocab, const Config& cfg, const z2h::CommonOptions& opt) {
  std::printf("\n== E04: no one-hot — W[xs] instead of one_hot(xs) @ W ==\n");
  const Tensor W = init_W(V, opt.seed);
  const LongTensor xs = as_long(ex.xs);
  bool same = true;
  {
    z2h::NoGradGuard no_grad;
    const Tensor a = z2h::matmul(z2h::one_hot(xs, V), W), b = W[xs];
    for (int64_t i = 0; i < a.numel() && same; ++i) same = a.data()[i] == b.data()[i];
  }
  std::printf("logits at init: one_hot(xs) @ W %s W[xs] (all %zu x 27 numbers)\n", same ? "==" : "!=", ex.size());
  return retrain("W[xs]", Forward::index, ex, onehot_losses, W_onehot, vocab, cfg, opt, {{"logits_equal", same}});
}

json e05_cross_entropy(const Examples& ex, const std::vector<double>& onehot_losses, const Tensor& W_onehot,
                       const z2h::Vocab& vocab, const Config& cfg, const z2h::CommonOptions& opt) {
  std::printf("\n== E05: F.cross_entropy instead of exp / normalise / pick / log / mean ==\n");
  // Why prefer it: large logits. exp(105) overflows float32 (max ~3.4e38 = e^88.7), so the manual
  // softmax divides inf by inf; cross_entropy subtracts each row's maximum first (the answer is
  // unchanged: the offset cancels), so it never sees an exponent above 0.
  const Tensor logits = z2h::tensor({-2.0f, -3.0f, 0.0f, 5.0f}, Shape{1, 4}) + 100.0f;
  const LongTensor target({3});
  const Tensor counts = z2h::exp(logits);
  const Tensor probs = counts / z2h::sum(counts, {1}, true);
  const float manual = -z2h::mean(z2h::log(z2h::gather(probs, target.view(Shape{1, 1})))).item();
  const float fused = z2h::cross_entropy(logits, target).item();
  std::printf("logits [98, 97, 100, 105], target 3: manual %s, cross_entropy %s\n", py_repr(manual).c_str(),
              py_repr(fused).c_str());
  return retrain("cross_entropy(W[xs], ys)", Forward::fused, ex, onehot_losses, W_onehot, vocab, cfg, opt,
                 {{"overflow_manual", std::isfinite(manual) ? json(manual) : json(nullptr)},
                  {"overflow_fused", fused}});
}

}  // namespace bigram
