// 07-gpt — a character-level transformer on Tiny Shakespeare (lecture 7: gpt_dev.ipynb, ng-video-lecture).
//
//   07-gpt                          the Colab's finished model: 0.209729 M parameters, 5000 steps,
//                                   `step 0: train loss 4.4116, val loss 4.4022` ... then 2000 characters
//   07-gpt --config bigram          bigram.py: the (65, 65) table, 3000 steps, eval every 300
//   07-gpt --config cpu             a CPU-sized transformer (4 layers, 4 heads, 128 wide, block 64)
//   07-gpt --config gpt             gpt.py's 10.79 M model (checkpoint every eval, --resume)
//   07-gpt --config add --digits 2  exercise 2: a GPT that learns a+b=c, scored on held-out problems
//   07-gpt --mode lecture           the Colab's cells before the finished model, with their numbers
//   07-gpt --mode sample --load F   sample from a checkpoint (--temperature, --top-k, --prompt)
//
// Every run writes into --out (default out/07-gpt/): metrics.csv (step,loss), summary.json, the
// plots, and a checkpoint (model.safetensors) at every evaluation.
#include "addition.hpp"
#include "figures.hpp"
#include "gpt.hpp"
#include "lecture.hpp"

#include "common/tensor/blas.hpp"
#include "common/nn/checkpoint.hpp"
#include "common/app/cli.hpp"
#include "common/app/error.hpp"
#include "common/rng/generator.hpp"
#include "common/tensor/ops.hpp"
#include "common/nn/optim.hpp"
#include "common/io/output.hpp"
#include "common/app/run_report.hpp"
#include "common/app/settings.hpp"
#include "common/io/safetensors.hpp"
#include "common/data/text_data.hpp"

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace stage07;

// ================================================================================================
// hyper-parameters: the Colab's "full finished code" by default; --config picks another script's
// ================================================================================================
struct Hyper {
  std::string mode = "train";    // train | lecture | sample
  std::string config = "colab";  // colab | bigram | cpu | gpt | add
  int64_t batch_size = 16;       // how many independent sequences are processed in parallel
  int64_t block_size = 32;       // the longest context for a prediction
  int64_t eval_interval = 100;
  double learning_rate = 1e-3;
  int64_t eval_iters = 200;
  int64_t n_embd = 64;
  int64_t n_head = 4;
  int64_t n_layer = 4;
  double dropout = 0.0;
  std::string scale = "n_embd";     // n_embd (the Colab's C**-0.5) | head (gpt.py's head_size**-0.5)
  std::string init = "torch";       // torch (PyTorch's default inits) | gpt (gpt.py's _init_weights)
  std::string attention = "batched";  // batched (exercise 1's fused heads) | per-head (gpt.py's modules)
  std::string activation = "relu";  // relu (the lecture) | gelu (exercise 4: GPT-2's)
  int64_t gen = 2000;               // characters generated at the end
  float temperature = 1.0f;
  int64_t top_k = 0;
  std::string prompt;               // "" = the script's zeros((1, 1)), a newline
  std::string load, resume;
  int64_t digits = 2;               // --config add: a, b < 10^digits
};

struct Preset {
  int64_t batch, block, steps, eval_interval;
  double lr;
  int64_t eval_iters, n_embd, n_head, n_layer;
  double dropout;
  const char *scale, *init;
  int64_t gen;
};
const std::map<std::string, Preset> kPresets = {
    // the Colab's "full finished code": the video's gpt.py at 0.21 M parameters
    {"colab", {16, 32, 5000, 100, 1e-3, 200, 64, 4, 4, 0.0, "n_embd", "torch", 2000}},
    // bigram.py
    {"bigram", {32, 8, 3000, 300, 1e-2, 200, 0, 0, 0, 0.0, "n_embd", "torch", 500}},
    // between the two: a CPU-sized transformer (4 layers, 4 heads, 128 wide, block 64)
    {"cpu", {32, 64, 3000, 250, 2e-3, 100, 128, 4, 4, 0.0, "head", "gpt", 500}},
    // gpt.py at HEAD: 10.79 M parameters
    {"gpt", {64, 256, 5000, 500, 3e-4, 200, 384, 6, 6, 0.2, "head", "gpt", 500}},
    // exercise 2: a+b=c (the block is the problem's length, 3 * digits + 2)
    {"add", {64, 0, 1500, 250, 1e-3, 20, 64, 4, 2, 0.0, "head", "gpt", 0}},
};

Config model_config(const Hyper& hp, int vocab_size) {
  return {.vocab_size = vocab_size,
          .block_size = hp.block_size,
          .n_embd = hp.n_embd,
          .n_head = hp.n_head,
          .n_layer = hp.n_layer,
          .dropout = static_cast<float>(hp.dropout),
          .scale = hp.scale == "head" ? Scale::HeadSize : Scale::NEmbd,
          .init = hp.init == "gpt" ? Init::Gpt : Init::Torch,
          .attention = hp.attention == "per-head" ? Attention::PerHead : Attention::Batched,
          .gelu = hp.activation == "gelu"};
}

// Every setting as a flag (and as summary.json's "config"), each named once: here.
void declare(z2h::Settings& s, Hyper& hp, z2h::CommonOptions& opt) {
  s.record("max_iters", opt.steps);
  s.record("seed", opt.seed);
  s.record("threads", opt.threads);
  s.option("--mode", hp.mode, "train | lecture (the Colab's cells) | sample (from --load)")
      ->check(CLI::IsMember({"train", "lecture", "sample"}));
  s.option("--config", hp.config,
           "colab (the Colab's finished model) | bigram (bigram.py) | cpu | gpt (gpt.py) | add (exercise 2: a+b=c)")
      ->check(CLI::IsMember({"colab", "bigram", "cpu", "gpt", "add"}));
  s.option("--digits", hp.digits, "--config add: a and b have up to this many digits (1 to 3)")->check(z2h::between(1, 3));
  s.option("--batch-size", hp.batch_size, "sequences per batch")->check(z2h::in_range(1, 1024));
  s.option("--block-size", hp.block_size, "context length")->check(z2h::in_range(1, 1024));
  s.option("--eval-interval", hp.eval_interval, "iterations between evaluations")->check(z2h::at_least(1));
  s.option("--eval-iters", hp.eval_iters, "batches per split in each evaluation")->check(z2h::at_least(1));
  s.option("--lr", hp.learning_rate, "AdamW learning rate", "learning_rate")->check(z2h::positive());
  s.option("--n-embd", hp.n_embd, "embedding width (0: bigram.py's table)")->check(z2h::in_range(0, 1024));
  s.option("--n-head", hp.n_head, "attention heads per block")->check(z2h::in_range(1, 64));
  s.option("--n-layer", hp.n_layer, "blocks")->check(z2h::in_range(1, 64));
  s.option("--dropout", hp.dropout, "dropout probability")->check(z2h::between(0, 0.99));
  s.option("--scale", hp.scale, "attention scale: n_embd (C**-0.5, the Colab) | head (head_size**-0.5, gpt.py)")
      ->check(CLI::IsMember({"n_embd", "head"}));
  s.option("--init", hp.init, "torch (PyTorch's default inits) | gpt (gpt.py's _init_weights)")
      ->check(CLI::IsMember({"torch", "gpt"}));
  s.option("--attention", hp.attention, "batched (all heads in one kernel) | per-head (gpt.py's Head modules)")
      ->check(CLI::IsMember({"batched", "per-head"}));
  s.option("--activation", hp.activation, "feed-forward non-linearity: relu (the lecture) | gelu (exercise 4, GPT-2's)")
      ->check(CLI::IsMember({"relu", "gelu"}));
  s.option("--gen", hp.gen, "characters to generate")->check(z2h::in_range(0, 10000000));
  s.option("--temperature", hp.temperature, "sampling temperature")->check(z2h::positive());
  s.option("--top-k", hp.top_k, "sample among the k likeliest characters (0: all)")->check(z2h::at_least(0));
  s.option("--prompt", hp.prompt, "mode sample: text to continue (default: a newline)");
  s.option("--load", hp.load, "mode sample: the checkpoint to sample from")->check(CLI::ExistingFile);
  s.option("--resume", hp.resume, "continue training from a checkpoint a run wrote")->check(CLI::ExistingFile);
}

// "step 0: train loss 4.4116, val loss 4.4022"
std::string eval_line(int64_t step, const Evaluation& e) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "step %lld: train loss %.4f, val loss %.4f", static_cast<long long>(step),
                static_cast<double>(e.train), static_cast<double>(e.val));
  return buf;
}

// ================================================================================================
// checkpoints: the model (gpt.py's parameter names), AdamW's moments, the step and the generator
// ================================================================================================
z2h::nn::NamedTensors training_state(const Gpt& model, const z2h::optim::AdamW& opt) {
  z2h::nn::NamedTensors t = model.named_parameters();
  const size_t n = t.size();
  for (size_t i = 0; i < n; ++i) {
    t.emplace_back("optimizer.exp_avg." + t[i].first, opt.exp_avg[i]);
    t.emplace_back("optimizer.exp_avg_sq." + t[i].first, opt.exp_avg_sq[i]);
  }
  return t;
}

z2h::Metadata model_metadata(const Hyper& hp, const std::string& vocab) {
  return {{"stage", "07-gpt"},
          {"vocab", vocab},
          {"block_size", std::to_string(hp.block_size)},
          {"n_embd", std::to_string(hp.n_embd)},
          {"n_head", std::to_string(hp.n_head)},
          {"n_layer", std::to_string(hp.n_layer)},
          {"scale", hp.scale},
          {"init", hp.init}};
}

void check_model_metadata(const std::string& path, const Hyper& hp, const std::string& vocab) {
  const z2h::Metadata meta = z2h::load_safetensors(path).metadata;
  for (const auto& [key, want] : model_metadata(hp, vocab)) {
    if (key == "init") continue;  // the init does not change the shapes
    const auto it = meta.find(key);
    if (it == meta.end() || it->second != want)
      throw z2h::UserError("checkpoint '" + path + "' has " + key + " = " + (it == meta.end() ? "(none)" : it->second) +
                           ", this run " + want + " (pass the --config or sizes it was trained with)");
  }
}

// ================================================================================================
// mode train
// ================================================================================================
int run_train(const Hyper& hp, const z2h::CommonOptions& opt, const z2h::Settings& settings) {
  const fs::path out = z2h::prepare_out_dir(opt.out);
  z2h::RunReport report(opt, settings, out);
  const std::string text = z2h::read_text(z2h::data_file(opt, "tinyshakespeare.txt"));
  const z2h::Vocab vocab = z2h::Vocab::from_text(text);
  const Split data = split_data(vocab.encode(text));

  // torch.manual_seed(1337): every draw below comes from g, in the script's order
  Generator g(opt.seed);
  Gpt model(model_config(hp, vocab.size()), g);
  if (hp.n_embd > 0) {  // print(sum(...) / 1e6, 'M parameters'): Python's shortest repr of the double
    char buf[32];
    const double m = static_cast<double>(model.num_parameters()) / 1e6;
    *std::to_chars(buf, buf + sizeof buf - 1, m).ptr = '\0';
    std::printf("%s M parameters\n", buf);
  }
  z2h::optim::AdamW optimizer(model.parameters(), hp.learning_rate);

  int64_t start = 0;
  std::vector<float> losses;
  std::map<int64_t, std::pair<float, float>> evals;
  nlohmann::json eval_json = nlohmann::json::object();
  if (!hp.resume.empty()) {
    check_model_metadata(hp.resume, hp, vocab.chars());
    const z2h::Metadata meta = z2h::load_checkpoint(hp.resume, training_state(model, optimizer));
    const auto step = meta.find("step"), rng = meta.find("generator");
    if (step == meta.end() || rng == meta.end())
      throw z2h::UserError("checkpoint '" + hp.resume + "' has no step or generator state: resume from a model.safetensors a training run wrote");
    start = std::stoll(step->second);
    if (start >= opt.steps)
      throw z2h::UserError("checkpoint '" + hp.resume + "' is at step " + step->second + ": pass --steps above it");
    optimizer.step_count = start;
    // the generator as it was at that step, before the evaluation: the run continues exactly as if
    // it had never stopped (it evaluates again at `start` if that is an evaluation step)
    try {
      g.set_state(Generator::parse_state(rng->second));
    } catch (const std::invalid_argument& e) {
      throw z2h::UserError("checkpoint '" + hp.resume + "': " + e.what());
    }
    std::printf("resumed from %s at step %lld\n", hp.resume.c_str(), static_cast<long long>(start));
  }

  const Mode train{true, &g};
  const bool is_bigram = hp.n_embd == 0;
  report.start(opt.steps - start, {"step", "loss"}, "train", {.every = 0});
  double eval_s = 0;
  for (int64_t it = start; it < opt.steps; ++it) {
    // every once in a while evaluate the loss on train and val sets (and at the last step: gpt.py)
    if (it % hp.eval_interval == 0 || (!is_bigram && it == opt.steps - 1)) {
      const Generator::State before_eval = g.state();  // what a resumed run restores
      z2h::Stopwatch ec;
      const Evaluation e = estimate_loss(model, data, hp.batch_size, hp.eval_iters, g);
      eval_s += ec.seconds();
      report.println(eval_line(it, e));
      evals[it] = {e.train, e.val};
      eval_json[std::to_string(it)] = {{"train", e.train}, {"val", e.val}};
      z2h::Metadata meta = model_metadata(hp, vocab.chars());
      meta["step"] = std::to_string(it);
      meta["generator"] = Generator::encode_state(before_eval);
      z2h::save_checkpoint(out / "model.safetensors", training_state(model, optimizer), meta);
    }
    const Batch b = get_batch(data.train, hp.batch_size, hp.block_size, g);
    Tensor loss = model.forward(b.x, &b.y, train).loss;
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    losses.push_back(loss.item());
    report.step(it, loss.item());
  }
  const double wall = report.stop();

  // generate from the model: context = zeros((1, 1)), a newline
  const LongTensor ctx({0}, {1, 1});
  const LongTensor idx = model.generate(ctx, hp.gen, g, hp.temperature, hp.top_k);
  const std::string sample = vocab.decode(std::vector<int>(idx.data.begin(), idx.data.end()));
  std::cout << sample << "\n";
  const int64_t steps = opt.steps - start;
  const double tokens_per_s = wall > 0 ? static_cast<double>(steps * hp.batch_size * hp.block_size) / wall : 0.0;
  std::printf("%lld steps in %.1f s (%.1f steps/s, %.0f tokens/s, evaluations %.1f s), %d thread(s), BLAS kernel %s\n",
              static_cast<long long>(steps), wall, static_cast<double>(steps) / std::max(wall, 1e-9), tokens_per_s, eval_s,
              opt.threads, z2h::blas::core_name().c_str());

  // ---- plots and files ----
  if (!losses.empty() || !evals.empty())
    plot_losses(out / "loss.png", losses, evals, "07-gpt --config " + hp.config + ": loss");
  if (!is_bigram) {
    // the last layer's attention on the first 32 generated characters, head by head
    const int64_t T = std::min<int64_t>(hp.block_size, std::min<int64_t>(idx.numel(), 32));
    const LongTensor line = idx.slice(1, 0, T);
    {
      z2h::NoGradGuard ng;
      model.blocks.back().sa.keep_weights = true;
      model.forward(line, nullptr, Mode{false, &g});
    }
    const auto maps = attention_maps(model.blocks.back().sa);
    const std::string chars = sample.substr(0, static_cast<size_t>(T));
    for (size_t h = 0; h < maps.size(); ++h)
      plot_attention(out / ("attention_head" + std::to_string(h) + ".png"), maps[h], chars,
                     "last layer, head " + std::to_string(h) + ": attention of each character (row) to the past");
  }
  report.summary.update({{"mode", hp.mode}, {"params", model.num_parameters()}, {"evals", eval_json},
                         {"sample", sample}, {"samples", {sample}}, {"eval_s", eval_s},
                         {"tokens_per_s", tokens_per_s}, {"blas_core", z2h::blas::core_name()}});
  if (!evals.empty())
    report.summary["loss"] = {{"train", evals.rbegin()->second.first}, {"val", evals.rbegin()->second.second}};
  report.write();
  return 0;
}

// ================================================================================================
// exercise 2 (--config add): a GPT that learns to add, scored on problems it never saw
// ================================================================================================
int run_add(Hyper& hp, const z2h::CommonOptions& opt, const z2h::Settings& settings) {
  const fs::path out = z2h::prepare_out_dir(opt.out);
  z2h::RunReport report(opt, settings, out);
  Generator g(opt.seed);
  const Addition data(hp.digits, g);  // the problems' randperm is the first draw, then the model's init
  hp.block_size = data.length() - 1;  // the whole problem but its last token
  Config cfg = model_config(hp, kAddVocabSize);
  cfg.ignore_index = -1;  // y = -1 on the prompt: the loss counts c's digits only
  Gpt model(cfg, g);
  char buf[32];
  *std::to_chars(buf, buf + sizeof buf - 1, static_cast<double>(model.num_parameters()) / 1e6).ptr = '\0';
  std::printf("%s M parameters\n", buf);
  std::printf("a+b=c with a, b < %lld: %zu problems to train on, %zu held out\n", static_cast<long long>(data.bound()),
              data.train.size(), data.val.size());
  z2h::optim::AdamW optimizer(model.parameters(), hp.learning_rate);

  std::vector<float> losses;
  std::map<int64_t, std::pair<float, float>> evals;
  nlohmann::json eval_json = nlohmann::json::object();
  const Mode train{true, &g};
  report.start(opt.steps, {"step", "loss"}, "train", {.every = 0});
  for (int64_t it = 0; it < opt.steps; ++it) {
    if (it % hp.eval_interval == 0 || it == opt.steps - 1) {
      const Evaluation e = estimate_add_loss(model, data, hp.batch_size, hp.eval_iters, g);
      report.println(eval_line(it, e));
      evals[it] = {e.train, e.val};
      eval_json[std::to_string(it)] = {{"train", e.train}, {"val", e.val}};
    }
    const Batch b = data.get_batch(true, hp.batch_size, g);
    Tensor loss = model.forward(b.x, &b.y, train).loss;
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    losses.push_back(loss.item());
    report.step(it, loss.item());
  }
  const double wall = report.stop();

  // every held-out problem, answered greedily; the first few shown
  const AddScore score = add_accuracy(model, data, data.val);
  std::printf("held-out accuracy: %lld/%lld = %.2f %%\n", static_cast<long long>(score.correct),
              static_cast<long long>(score.total), 100.0 * static_cast<double>(score.correct) / static_cast<double>(score.total));
  std::vector<std::string> shown;
  for (size_t i = 0; i < score.answers.size(); ++i) {
    const int64_t problem = data.val[i];
    std::string line = data.text(problem, score.answers[i]);
    if (line != data.text(problem, data.answer(problem))) line += "   (wrong: the sum is " + std::to_string(data.sum_of(problem)) + ")";
    std::printf("%s\n", line.c_str());
    shown.push_back(line);
  }
  std::printf("%lld steps in %.1f s (%.1f steps/s), %d thread(s), BLAS kernel %s\n", static_cast<long long>(opt.steps), wall,
              static_cast<double>(opt.steps) / std::max(wall, 1e-9), opt.threads, z2h::blas::core_name().c_str());

  if (!losses.empty()) plot_losses(out / "loss.png", losses, evals, "07-gpt --config add: loss on c's digits");
  z2h::save_checkpoint(out / "model.safetensors", model.named_parameters(),
                       {{"stage", "07-gpt"}, {"vocab", kAddVocab}, {"digits", std::to_string(hp.digits)}});
  report.summary.update({{"mode", hp.mode}, {"params", model.num_parameters()}, {"evals", eval_json}, {"samples", shown},
                         {"accuracy", {{"correct", score.correct}, {"total", score.total},
                                       {"fraction", static_cast<double>(score.correct) / static_cast<double>(score.total)}}},
                         {"blas_core", z2h::blas::core_name()}});
  if (!evals.empty())
    report.summary["loss"] = {{"train", evals.rbegin()->second.first}, {"val", evals.rbegin()->second.second}};
  report.write();
  return 0;
}

// ================================================================================================
// mode sample: load a checkpoint and generate
// ================================================================================================
int run_sample(const Hyper& hp, const z2h::CommonOptions& opt) {
  const std::string text = z2h::read_text(z2h::data_file(opt, "tinyshakespeare.txt"));
  const z2h::Vocab vocab = z2h::Vocab::from_text(text);
  if (hp.load.empty()) throw z2h::UserError("--mode sample needs --load CHECKPOINT (a model.safetensors a run wrote)");
  check_model_metadata(hp.load, hp, vocab.chars());
  Generator g(opt.seed);
  Gpt model(model_config(hp, vocab.size()), g);
  z2h::load_checkpoint(hp.load, model.named_parameters());
  std::vector<int64_t> prompt{0};
  if (!hp.prompt.empty()) {
    const std::vector<int> p = vocab.encode(hp.prompt);
    prompt.assign(p.begin(), p.end());
  }
  const int64_t n = static_cast<int64_t>(prompt.size());
  const LongTensor idx = model.generate(LongTensor(prompt, {1, n}), hp.gen, g, hp.temperature, hp.top_k);
  std::cout << vocab.decode(std::vector<int>(idx.data.begin(), idx.data.end())) << "\n";
  return 0;
}

int run_lecture(const z2h::CommonOptions& opt) {
  const std::string text = z2h::read_text(z2h::data_file(opt, "tinyshakespeare.txt"));
  const z2h::Vocab vocab = z2h::Vocab::from_text(text);
  const LectureCells c = stage07::run_lecture(text);
  print_lecture(c, vocab);
  const fs::path out = z2h::prepare_out_dir(opt.out);
  plot_matrix(out / "trick_tril_wei.png", c.tril_wei, "wei = tril(ones(8, 8)) / row sums");
  plot_matrix(out / "trick_head_wei0.png", c.head_wei0, "a single head, wei[0] (softmax of masked q @ k.T)");
  nlohmann::json summary = {{"stage", "07-gpt"}, {"mode", "lecture"}, {"seed", 1337},
                            {"bigram_loss", c.bigram_loss}, {"loss_after_100", c.loss_after_100},
                            {"untrained_100", c.untrained_100}, {"samples", {c.trained_500}},
                            {"allclose", {c.allclose2, c.allclose3}}};
  z2h::write_json_atomic(out / "summary.json", summary);
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{"07-gpt: a character-level transformer on Tiny Shakespeare (lecture 7)"};
  z2h::CommonOptions opt{.stage = "07-gpt", .seed = 1337, .steps = 5000};
  Hyper hp;
  z2h::add_common_options(app, opt);
  app.get_option("--steps")->description("training iterations (max_iters; the config's unless given)");
  z2h::Settings settings(app);
  declare(settings, hp, opt);
  bool sample_only = false;
  app.add_flag("--sample-only", sample_only, "the same as --mode sample");
  return z2h::run_main(argc, argv, app, opt, [&] {
    if (sample_only) hp.mode = "sample";
    const Preset& p = kPresets.at(hp.config);
    auto unless_given = [&](auto& field, auto value) {
      if (!settings.given(field)) field = value;
    };
    if (app.count("--steps") == 0) opt.steps = p.steps;
    unless_given(hp.batch_size, p.batch);
    unless_given(hp.block_size, p.block);
    unless_given(hp.eval_interval, p.eval_interval);
    unless_given(hp.eval_iters, p.eval_iters);
    unless_given(hp.learning_rate, p.lr);
    unless_given(hp.n_embd, p.n_embd);
    unless_given(hp.n_head, p.n_head);
    unless_given(hp.n_layer, p.n_layer);
    unless_given(hp.dropout, p.dropout);
    unless_given(hp.scale, std::string(p.scale));
    unless_given(hp.init, std::string(p.init));
    unless_given(hp.gen, p.gen);
    if (hp.n_embd > 0 && hp.n_embd % hp.n_head != 0)
      throw z2h::UserError(settings.flag_of(hp.n_embd) + " " + std::to_string(hp.n_embd) + " is not a multiple of " +
                           settings.flag_of(hp.n_head) + " " + std::to_string(hp.n_head));
    if (hp.config == "add") {
      if (hp.mode != "train" || !hp.resume.empty() || settings.given(hp.block_size))
        throw z2h::UserError("--config add trains from scratch on problems of 3 * digits + 2 tokens: drop " +
                             settings.flag_of(hp.mode) + ", " + settings.flag_of(hp.resume) + " and " +
                             settings.flag_of(hp.block_size));
      return run_add(hp, opt, settings);
    }
    if (settings.given(hp.digits)) throw z2h::UserError(settings.flag_of(hp.digits) + " is for --config add");
    if (hp.mode == "lecture") return run_lecture(opt);
    if (hp.mode == "sample") return run_sample(hp, opt);
    return run_train(hp, opt, settings);
  });
}
