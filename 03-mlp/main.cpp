// 03-mlp — lecture 3 of Neural Networks: Zero to Hero: the MLP of Bengio et al. 2003.
//
// Each name becomes examples "three characters of context -> the next character"; each character
// is looked up in a learned embedding table C, the embeddings go side by side through a tanh
// layer, and a linear layer gives the logits of the next character. Trained with minibatch SGD
// on 80 % of the names, measured on the other 10 % (dev) and, on request, the last 10 % (test).
//
//   ./z2h run 03-mlp                      the lecture's final run (200000 steps)
//   ./z2h run 03-mlp --lr-find            the learning-rate finder (1000 steps)
//   ./z2h run 03-mlp --overfit-batch      the lecture's first training: 32 examples, memorised
//   ./z2h run 03-mlp --emb 2 --hidden 100 the 2-D embedding of the lecture's figure
//   ./z2h run 03-mlp --sample-only        20 names from the last run's checkpoint
//
// Read it beside README.md, which follows the lecture's chapters.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "03-mlp/model.hpp"
#include "common/data/sample_names.hpp"
#include "common/app/cli.hpp"
#include "common/app/error.hpp"
#include "common/app/format.hpp"
#include "common/rng/generator.hpp"
#include "common/tensor/ops.hpp"
#include "common/data/names_dataset.hpp"
#include "common/nn/optim.hpp"
#include "common/io/output.hpp"
#include "common/plot/plot.hpp"
#include "common/app/run_info.hpp"
#include "common/app/run_report.hpp"
#include "common/app/settings.hpp"
#include "common/data/text_data.hpp"

namespace {

// ================================================================================================
// Hyper-parameters: the lecture's final version (seed and steps are in z2h::CommonOptions).
// ================================================================================================
struct Hyper {
  mlp::ModelConfig model;        // block_size 3, emb 10, hidden 200, init lecture, no direct (model.hpp)
  int batch_size = 32;           // examples per minibatch
  double lr = 0.1;               // learning rate for steps < decay_step ...
  double lr_final = 0.01;        // ... and from decay_step on
  int64_t decay_step = 100000;
  int samples = 20;              // names to sample at the end
  bool test = false;             // also evaluate the test split (the lecture leaves it alone)
  bool lr_find = false;          // run the learning-rate finder instead of the training
  bool overfit_batch = false;    // the lecture's first training: the first 5 names' examples, memorised
  std::string save, load;        // checkpoint paths (default: <out>/model.safetensors)
  bool sample_only = false;      // load a checkpoint and sample, no training
};

// The largest sizes the flags accept: far above the lecture's and the exercises', low enough that
// no single flag asks for more memory than a small machine has.
constexpr int64_t kMaxBlockSize = 32, kMaxEmb = 512, kMaxHidden = 4096, kMaxBatch = 16384, kMaxSamples = 100000;

// Every setting as a flag (and as summary.json's "config"), each named once: here.
void declare(z2h::Settings& s, Hyper& hp, z2h::CommonOptions& opt) {
  s.record("steps", opt.steps);
  s.option("--block-size", hp.model.block_size, "context length (characters)")->check(z2h::in_range(1, kMaxBlockSize));
  s.option("--emb", hp.model.emb, "embedding dimensions per character")->check(z2h::in_range(1, kMaxEmb));
  s.option("--hidden", hp.model.hidden, "neurons in the tanh layer")->check(z2h::in_range(1, kMaxHidden));
  s.option("--batch-size", hp.batch_size, "examples per minibatch")->check(z2h::in_range(1, kMaxBatch));
  s.option("--lr", hp.lr, "learning rate before --decay-step")->check(z2h::positive());
  s.option("--lr-final", hp.lr_final, "learning rate from --decay-step on")->check(z2h::positive());
  s.option("--decay-step", hp.decay_step, "step at which the learning rate drops")->check(z2h::at_least(0));
  s.choice("--init", hp.model.init, {{"lecture", mlp::Init::lecture}, {"tuned", mlp::Init::tuned}},
           "lecture: unscaled randn; tuned: near-uniform start (E02)");
  s.flag("--direct", hp.model.direct, "add direct embedding->output connections (E03)");
  s.option("--samples", hp.samples, "names to sample")->check(z2h::in_range(0, kMaxSamples));
  s.flag("--test", hp.test, "also evaluate the test split");
  s.flag("--lr-find", hp.lr_find, "learning-rate finder: lr = 10**linspace(-3, 0, steps), 1000 steps unless --steps");
  s.flag("--overfit-batch", hp.overfit_batch,
         "the lecture's first training: the examples of the first 5 names, all in every step, at --lr "
         "(emb 2, hidden 100 and 1000 steps unless given)");
  s.option("--save", hp.save, "where to write the checkpoint (default <out>/model.safetensors)")->option_text("PATH");
  s.option("--load", hp.load,
           "start from this checkpoint instead of a fresh init (--sample-only: default <out>/model.safetensors)")
      ->option_text("PATH");
  s.flag("--sample-only", hp.sample_only, "load a checkpoint and sample, no training");
}

constexpr int64_t kLrFindSteps = 1000;
constexpr int64_t kOverfitSteps = 1000;  // the lecture's `for _ in range(1000)` on one batch
constexpr size_t kOverfitWords = 5;      // words[:5]: emma, olivia, ava, isabella, sophia
constexpr uint64_t kSampleSeedOffset = 10;  // lecture: torch.Generator().manual_seed(2147483647 + 10)

// ================================================================================================
// Data: names -> the 80/10/10 split -> (context, next character) examples
// ================================================================================================
struct Data {
  z2h::Vocab vocab;
  z2h::Contexts train, dev, test;
};

Data load_data(const z2h::CommonOptions& opt, int block_size) {
  auto words = z2h::read_lines(z2h::data_file(opt, "names.txt"));
  auto vocab = z2h::Vocab::from_words(words, '.');
  auto split = z2h::split_words(words);  // random.seed(42); random.shuffle(words); 80/10/10
  return {vocab, z2h::build_contexts(split.train, block_size, vocab),
          z2h::build_contexts(split.dev, block_size, vocab),
          z2h::build_contexts(split.test, block_size, vocab)};
}

mlp::LongTensor inputs(const z2h::Contexts& c) {
  return mlp::LongTensor(c.X, z2h::Shape{static_cast<int64_t>(c.size()), c.block_size});
}
mlp::LongTensor targets(const z2h::Contexts& c) { return mlp::LongTensor(c.Y); }

// ================================================================================================
// Model: a fresh init from the seeded generator, or a checkpoint
// ================================================================================================
std::filesystem::path checkpoint_path(const std::string& flag, const std::filesystem::path& out) {
  return flag.empty() ? out / "model.safetensors" : std::filesystem::path(flag);
}

// The checkpoint decides the architecture; a flag given on the command line must agree with it.
void check_matches(const mlp::ModelConfig& ck, const Hyper& hp, const z2h::Settings& settings) {
  auto check = [&](const int& given, int stored) {
    if (settings.given(given) && given != stored)
      throw z2h::UserError("the checkpoint was trained with " + settings.flag_of(given) + " " +
                           std::to_string(stored) + ", not " + std::to_string(given) +
                           " (drop the flag to use the checkpoint's)");
  };
  check(hp.model.block_size, ck.block_size);
  check(hp.model.emb, ck.emb);
  check(hp.model.hidden, ck.hidden);
  if (settings.given(hp.model.direct) && !ck.direct)
    throw z2h::UserError("the checkpoint has no direct connections (it was trained without " +
                         settings.flag_of(hp.model.direct) + ")");
}

// ================================================================================================
// The lecture's look at the embedding and at view, on the untrained C and the first examples
// ================================================================================================
std::string row_str(const z2h::Tensor& t) {  // [0.1234, -1.2345, ...]
  std::string s = "[";
  char buf[32];
  for (int64_t i = 0; i < t.numel(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%.4f", i ? ", " : "", static_cast<double>(t.data()[i]));
    s += buf;
  }
  return s + "]";
}

bool same_values(const z2h::Tensor& a, const z2h::Tensor& b) {
  if (a.shape() != b.shape()) return false;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (a.data()[i] != b.data()[i]) return false;
  return true;
}

void print_tensor_demos(const mlp::Model& model, const Data& data) {
  z2h::NoGradGuard no_grad;
  const z2h::Tensor& C = model.C;
  // C[5] is row 5 of C; the same as one_hot(5) @ C, a matrix product that picks row 5
  const z2h::Tensor row = C[mlp::LongTensor({5})];
  const int64_t V = C.size(0);  // the vocabulary's size: 27 for names.txt
  const z2h::Tensor picked = z2h::matmul(z2h::one_hot(mlp::LongTensor({5}), V), C);
  std::printf("C[5]%*s = %s\n", V < 100 ? 22 : 23, "", row_str(row).c_str());
  std::printf("one_hot(5, %lld).float() @ C = %s  (equal: %s)\n", static_cast<long long>(V), row_str(picked).c_str(),
              same_values(row, picked) ? "True" : "False");
  // three ways to put the embeddings of a context side by side
  const int64_t B = 32, T = model.cfg.block_size, E = model.cfg.emb;
  const z2h::Tensor emb = C[inputs(data.train).slice(0, 0, B)];  // (32, T, E): the first 32 contexts
  std::vector<z2h::Tensor> parts;  // torch.unbind(emb, 1): emb[:, 0, :], emb[:, 1, :], ...
  for (int64_t t = 0; t < T; ++t) parts.push_back(z2h::select(emb, 1, t));
  const z2h::Tensor catted = z2h::cat(parts, 1);  // torch.cat(torch.unbind(emb, 1), 1): a new tensor
  const z2h::Tensor viewed = emb.view({B, T * E});  // emb.view(32, 30): the same numbers, no copy
  std::printf("emb = C[X[:32]]: (%lld, %lld, %lld); torch.cat(torch.unbind(emb, 1), 1) == emb.view(%lld, %lld): %s\n",
              static_cast<long long>(B), static_cast<long long>(T), static_cast<long long>(E),
              static_cast<long long>(B), static_cast<long long>(T * E), same_values(catted, viewed) ? "True" : "False");
  std::printf("  the view shares emb's storage: %s; the cat made a copy: %s\n",
              viewed.data() == emb.data() ? "True" : "False", catted.data() != emb.data() ? "True" : "False");
  // the storage behind a view: one row of numbers, read with another shape
  std::vector<float> values(18);
  for (int i = 0; i < 18; ++i) values[static_cast<size_t>(i)] = static_cast<float>(i);
  const z2h::Tensor a = z2h::tensor(values, z2h::Shape{18});  // torch.arange(18)
  const z2h::Tensor a332 = a.view({3, 3, 2});
  std::printf("a = arange(18); a.view(3, 3, 2)[1] = %s — row 1 is storage[6:12]; same storage: %s\n",
              row_str(a332[1]).c_str(), a332.data() == a.data() ? "True" : "False");
}

// ================================================================================================
// Training: the lecture's loop; lr-find replaces lr by 10**lre with lre = linspace(-3, 0, steps)
// ================================================================================================
struct History {
  std::vector<double> loss, lr;  // per step: the minibatch loss (before the update), the lr used
};

History train(mlp::Model& model, const Data& data, const Hyper& hp, int64_t steps, z2h::Generator& g,
              z2h::RunReport& report) {
  const auto Xtr = inputs(data.train);
  const auto Ytr = targets(data.train);
  std::vector<float> lrs;
  if (hp.lr_find)  // lre = torch.linspace(-3, 0, steps); lrs = 10**lre
    for (float lre : z2h::linspace(-3.0f, 0.0f, steps).tolist()) lrs.push_back(std::pow(10.0f, lre));

  // SGD with the lecture's schedule (lr, then lr_final from decay_step on), or the finder's lrs
  z2h::optim::SGD sgd(model.parameters(), [&](int64_t i) -> double {
    if (hp.lr_find) return lrs[static_cast<size_t>(i)];
    return i < hp.decay_step ? hp.lr : hp.lr_final;
  });
  History hist;
  report.start(steps, {"step", "loss", "lr"}, hp.lr_find ? "lr-find" : "train");
  for (int64_t i = 0; i < steps; ++i) {
    // minibatch construct (the lecture drew these from the unseeded global generator)
    mlp::LongTensor ix = z2h::randint(0, Xtr.size(0), z2h::Shape{hp.batch_size}, g);
    hist.lr.push_back(sgd.current_lr());
    float loss = mlp::train_step(model, sgd, Xtr[ix], Ytr[ix]);
    hist.loss.push_back(loss);
    report.step(i, loss, {hist.lr.back()});
  }
  report.stop();
  return hist;
}

// ================================================================================================
// Evaluation: the loss over whole splits
// ================================================================================================
nlohmann::json evaluate(const mlp::Model& model, const Data& data, bool with_test) {
  nlohmann::json loss = {{"train", mlp::split_loss(model, inputs(data.train), targets(data.train))},
                         {"val", mlp::split_loss(model, inputs(data.dev), targets(data.dev))},
                         {"test", nullptr}};
  if (with_test) loss["test"] = mlp::split_loss(model, inputs(data.test), targets(data.test));
  for (const char* split : {"train", "val", "test"})
    if (!loss[split].is_null()) std::printf("%-5s %.4f\n", split, loss[split].get<double>());
  return loss;
}

// ================================================================================================
// Plots
// ================================================================================================
void plot_loss(const std::filesystem::path& png, const History& h) {  // plt.plot(stepi, lossi)
  std::vector<double> log10_loss;
  for (double l : h.loss) log10_loss.push_back(std::log10(l));
  z2h::plot::lines(png, {{.y = log10_loss}},
                   {.title = "log10 of the minibatch loss", .xlabel = "step", .ylabel = "log10 loss"});
}

void plot_lr_find(const std::filesystem::path& png, const History& h) {  // plt.plot(lri, lossi)
  std::vector<double> lre;
  for (double lr : h.lr) lre.push_back(std::log10(lr));
  z2h::plot::lines(png, {{.x = lre, .y = h.loss}},
                   {.title = "learning-rate finder", .xlabel = "lre (learning rate = 10^lre)",
                    .ylabel = "minibatch loss", .grid = true});
}

void plot_embedding(const std::filesystem::path& png, const mlp::Model& model, const z2h::Vocab& vocab) {
  // plt.figure(figsize=(8,8)); plt.scatter(C[:,0], C[:,1], s=200); plt.text(..., color='white')
  z2h::plot::Points pts{.size = 200};
  const float* C = model.C.data();
  for (int i = 0; i < vocab.size(); ++i) {
    pts.x.push_back(C[i * model.cfg.emb + 0]);
    pts.y.push_back(C[i * model.cfg.emb + 1]);
    pts.labels.emplace_back(1, vocab.itos(i));
  }
  z2h::plot::scatter(png, pts,
                     {.title = model.cfg.emb == 2 ? "the 2-D character embeddings (C)"
                                                  : "character embeddings: dimensions 0 and 1 of C",
                      .xlabel = "C[:, 0]", .ylabel = "C[:, 1]", .width = 800, .height = 800,
                      .grid = true});
}

// ================================================================================================
// The run
// ================================================================================================
struct Run {
  const z2h::CommonOptions& opt;
  Hyper& hp;  // a loaded checkpoint settles the architecture
  const CLI::App& app;
  const z2h::Settings& settings;
};

int sample_only(const Run& r) {
  const auto path = checkpoint_path(r.hp.load, r.opt.out);
  if (!std::filesystem::exists(path))
    throw z2h::UserError("no checkpoint at '" + path.string() + "' (train first: ./z2h run 03-mlp, or pass --load PATH)");
  mlp::Checkpoint ck = mlp::load_checkpoint(path);
  check_matches(ck.model.cfg, r.hp, r.settings);
  const uint64_t seed = r.app.count("--seed") ? r.opt.seed : ck.seed;  // the saving run's, by default
  for (const auto& name : mlp::sample(ck.model, ck.vocab, r.hp.samples, seed + kSampleSeedOffset))
    std::printf("%s\n", name.c_str());
  return 0;
}

// ================================================================================================
// Overfitting one batch: the lecture's first training, before minibatches and splits
// ================================================================================================
// The examples of the first five names (32 with block_size 3), all of them in every step, with
// 3481 parameters (emb 2, hidden 100): the net memorises them. The loss cannot reach 0 where one
// context is followed by different characters ('...' begins all five names).
int overfit_batch(const Run& r) {
  Hyper& hp = r.hp;
  const z2h::CommonOptions& opt = r.opt;
  const auto out = z2h::prepare_out_dir(opt.out);
  z2h::RunReport report(opt, r.settings, out);

  // for w in words[:5]: ... X = torch.tensor(X); Y = torch.tensor(Y)
  const auto words = z2h::read_lines(z2h::data_file(opt, "names.txt"));
  const z2h::Vocab vocab = z2h::Vocab::from_words(words, '.');
  const std::vector<std::string> first(words.begin(), words.begin() + std::min(words.size(), kOverfitWords));
  const z2h::Contexts batch = z2h::build_contexts(first, hp.model.block_size, vocab);
  const mlp::LongTensor X = inputs(batch), Y = targets(batch);
  std::printf("%s\n", z2h::run_header(opt.stage, opt.seed, opt.threads).c_str());
  std::string names;
  for (const auto& w : first) names += (names.empty() ? "" : ", ") + z2h::quote(w);
  std::printf("one batch: the %zu examples of %s (block_size %d)\n", batch.size(), names.c_str(),
              hp.model.block_size);

  // g = torch.Generator().manual_seed(2147483647); C = torch.randn((27, 2), generator=g); ...
  z2h::Generator g(opt.seed);
  hp.model.vocab_size = vocab.size();
  mlp::Model model = mlp::Model::init(hp.model, g);
  std::printf("parameters: %lld\n", static_cast<long long>(model.num_params()));

  // for _ in range(1000): forward, loss, p.grad = None, backward, p.data += -0.1 * p.grad
  z2h::optim::SGD sgd(model.parameters(), hp.lr);
  History hist;
  report.start(opt.steps, {"step", "loss"}, "overfit", {.every = 100});
  for (int64_t i = 0; i < opt.steps; ++i) {
    hist.loss.push_back(mlp::train_step(model, sgd, X, Y));
    report.step(i, hist.loss.back());
  }
  report.stop();
  if (!hist.loss.empty()) std::printf("loss.item() = %s\n", z2h::py_repr(hist.loss.back()).c_str());

  // logits.max(1): the net's likeliest next character for each example, beside Y
  int64_t right = 0;
  std::vector<std::string> misses;
  {
    z2h::NoGradGuard no_grad;
    const mlp::LongTensor guess = z2h::argmax(model.forward(X), 1);
    const int T = hp.model.block_size;
    for (int64_t i = 0; i < Y.numel(); ++i) {
      if (guess.data[static_cast<size_t>(i)] == Y.data[static_cast<size_t>(i)]) {
        ++right;
        continue;
      }
      std::string context, followers;  // the context, and every character that follows it in the batch
      for (int t = 0; t < T; ++t) context += vocab.itos(static_cast<int>(batch.X[static_cast<size_t>(i * T + t)]));
      for (size_t j = 0; j < batch.size(); ++j)
        if (std::equal(batch.X.begin() + static_cast<std::ptrdiff_t>(j) * T, batch.X.begin() + static_cast<std::ptrdiff_t>(j + 1) * T,
                       batch.X.begin() + i * T))
          followers += std::string(followers.empty() ? "" : " ") + vocab.itos(static_cast<int>(batch.Y[j]));
      misses.push_back("  " + context + " ---> " + vocab.itos(static_cast<int>(Y.data[static_cast<size_t>(i)])) +
                       "  guessed " + vocab.itos(static_cast<int>(guess.data[static_cast<size_t>(i)])) + "  (" +
                       context + " is followed by: " + followers + ")");
    }
  }
  std::printf("logits.max(1).indices == Y for %lld of %lld examples; the others:\n", static_cast<long long>(right),
              static_cast<long long>(Y.numel()));
  for (const auto& m : misses) std::printf("%s\n", m.c_str());

  if (!hist.loss.empty()) plot_loss(out / "loss.png", hist);
  report.summary.update({
      {"params", model.num_params()},
      {"loss", {{"train", hist.loss.empty() ? nlohmann::json(nullptr) : nlohmann::json(hist.loss.back())}}},
      {"samples", nlohmann::json::array()},
      {"mode", "overfit-batch"},
      {"overfit", {{"words", first}, {"examples", batch.size()}, {"right", right}}},
      {"step0_loss", hist.loss.empty() ? nlohmann::json(nullptr) : nlohmann::json(hist.loss[0])},
  });
  report.write();
  std::printf("trained %s; wrote %s\n", report.speed().c_str(), out.string().c_str());
  return 0;
}

int train_and_report(const Run& r) {
  Hyper& hp = r.hp;
  const z2h::CommonOptions& opt = r.opt;
  const int64_t steps = opt.steps;
  const auto out = z2h::prepare_out_dir(opt.out);
  z2h::RunReport report(opt, r.settings, out);

  // data
  z2h::Generator g(opt.seed);  // g = torch.Generator().manual_seed(seed): the init, then the batches
  std::optional<mlp::Checkpoint> loaded;
  if (!hp.load.empty()) loaded = mlp::load_checkpoint(hp.load);
  if (loaded) {  // the checkpoint's architecture is the run's
    check_matches(loaded->model.cfg, hp, r.settings);
    hp.model = loaded->model.cfg;
  }
  const int block_size = hp.model.block_size;
  Data data = load_data(opt, block_size);
  if (loaded) mlp::check_vocab(*loaded, data.vocab);
  std::printf("%s\n", z2h::run_header(opt.stage, opt.seed, opt.threads).c_str());
  std::printf("examples: train %zu, dev %zu, test %zu (block_size %d)\n", data.train.size(),
              data.dev.size(), data.test.size(), block_size);

  // model
  hp.model.vocab_size = data.vocab.size();  // names.txt: 27
  mlp::Model model = loaded ? loaded->model : mlp::Model::init(hp.model, g);
  std::printf("parameters: %lld\n", static_cast<long long>(model.num_params()));
  if (!loaded && !hp.lr_find) print_tensor_demos(model, data);

  // training
  History hist = train(model, data, hp, steps, g, report);

  // evaluation
  nlohmann::json loss = evaluate(model, data, hp.test);

  // sampling
  auto names = mlp::sample(model, data.vocab, hp.samples, opt.seed + kSampleSeedOffset);
  for (const auto& name : names) std::printf("%s\n", name.c_str());

  // plots
  if (hp.lr_find) {
    plot_lr_find(out / "lr_find.png", hist);
  } else if (steps > 0) {
    plot_loss(out / "loss.png", hist);
  }
  if (model.cfg.emb >= 2) plot_embedding(out / "embedding.png", model, data.vocab);

  // metrics.csv, the checkpoint (not for the lr finder: its model is a by-product), summary.json
  std::string checkpoint;
  if (!hp.lr_find) {
    checkpoint = checkpoint_path(hp.save, out).string();
    mlp::save_checkpoint(checkpoint, model, data.vocab, opt.seed, (loaded ? loaded->steps : 0) + steps);
  }
  report.summary.update({
      {"params", model.num_params()},
      {"loss", loss},
      {"samples", names},
      {"mode", hp.lr_find ? "lr-find" : "train"},
      {"split_sizes", {{"train", data.train.size()}, {"val", data.dev.size()}, {"test", data.test.size()}}},
      {"step0_loss", hist.loss.empty() ? nlohmann::json(nullptr) : nlohmann::json(hist.loss[0])},
      {"checkpoint", checkpoint.empty() ? nlohmann::json(nullptr) : nlohmann::json(checkpoint)},
  });
  report.write();
  std::printf("trained %s; wrote %s\n",
              report.speed(", " + std::to_string(opt.threads) + (opt.threads == 1 ? " thread" : " threads")).c_str(),
              out.string().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"03-mlp: the MLP of Bengio et al. 2003 on names (lecture 3)"};
  z2h::CommonOptions opt{.stage = "03-mlp", .seed = 2147483647, .steps = 200000};
  z2h::add_common_options(app, opt);
  Hyper hp;
  z2h::Settings settings(app);
  declare(settings, hp, opt);
  z2h::add_max_len_option(app, z2h::max_name_length());
  return z2h::run_main(argc, argv, app, opt, [&] {
    const Run r{opt, hp, app, settings};
    if (hp.sample_only) return sample_only(r);
    if (hp.overfit_batch) {  // the lecture's sizes for it, unless given
      if (!app.count("--steps")) opt.steps = kOverfitSteps;
      if (!settings.given(hp.model.emb)) hp.model.emb = 2;
      if (!settings.given(hp.model.hidden)) hp.model.hidden = 100;
      return overfit_batch(r);
    }
    if (hp.lr_find && !app.count("--steps")) opt.steps = kLrFindSteps;
    return train_and_report(r);
  });
}
