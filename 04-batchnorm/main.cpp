// 04-batchnorm — activations, gradients and BatchNorm (lecture 4, makemore_part3_bn.ipynb).
//
//   04-batchnorm                      the notebook's batch-norm MLP, 200000 steps: train 2.0674, val 2.1057
//   04-batchnorm --variant original   the video's earlier states: original | softmax | tanh | kaiming
//   04-batchnorm --mode deep          the "PyTorch-ified" 6-layer net, 1001 steps, its statistics and plots
//   04-batchnorm --mode bonus         the notebook's bonus cells: Linear and Linear+BatchNorm statistics
//   04-batchnorm --mode e01           exercise 1: every weight and bias zero — what trains, and why
//   04-batchnorm --mode e02           exercise 2: fold BatchNorm into the Linear before it
//
// Every run writes its plots, metrics.csv and summary.json into --out (default out/04-batchnorm/);
// train and deep also write a checkpoint (model.safetensors, see --save / --load).
#include "deep.hpp"
#include "exercises.hpp"
#include "figures.hpp"
#include "mlp.hpp"

#include "common/nn/checkpoint.hpp"
#include "common/app/cli.hpp"
#include "common/app/error.hpp"
#include "common/rng/generator.hpp"
#include "common/tensor/ops.hpp"
#include "common/nn/optim.hpp"
#include "common/io/output.hpp"
#include "common/app/progress.hpp"
#include "common/app/run_info.hpp"
#include "common/io/safetensors.hpp"
#include "common/data/sample_names.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace stage04;
using z2h::Tensor;

// ================================================================================================
// hyper-parameters: the lecture's
// ================================================================================================
struct Hyper {
  std::string mode = "train";        // train | deep | bonus | e01 | e02
  std::string variant = "batchnorm"; // train: original | softmax | tanh | kaiming | batchnorm
  int block_size = 3;                // context length: how many characters predict the next one
  int n_embd = 10;                   // the dimensionality of the character embedding vectors
  int n_hidden = 200;                // neurons per hidden layer (deep and e02: 100)
  int batch_size = 32;
  double lr = 0.1;                   // lr = 0.1 if i < lr_decay_step else 0.01
  double lr_decayed = 0.01;
  int64_t lr_decay_step = 100000;    // deep: 150000. Stays put when --steps shortens a run
  double saturation = 0.99;         // the video's h.abs() > 0.99 image (the deep net's printout uses 0.97)
  int samples = 20;                  // names sampled at the end, with seed + 10 as the notebook
  std::string save, load;            // checkpoint paths ("" = out/model.safetensors, none)
};

int64_t default_steps(const std::string& mode) {
  if (mode == "deep") return 1001;   // the notebook breaks out of its 200000-step loop after step 1000
  if (mode == "e02") return 20000;
  return 200000;
}

// Python's repr of a float32 result: the shortest digits that read back as the same double,
// as `print(split, loss.item())` prints it (2.0674145221710205).
std::string py_repr(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, end);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

// The notebook's progress line: f'{i:7d}/{max_steps:7d}: {loss.item():.4f}'
std::string lecture_line(int64_t i, int64_t max_steps, float loss) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%7lld/%7lld: %.4f", static_cast<long long>(i), static_cast<long long>(max_steps),
                static_cast<double>(loss));
  return buf;
}

nlohmann::json config_json(const Hyper& hp, const z2h::CommonOptions& opt) {
  return {{"mode", hp.mode},           {"variant", hp.variant},       {"block_size", hp.block_size},
          {"n_embd", hp.n_embd},       {"n_hidden", hp.n_hidden},     {"batch_size", hp.batch_size},
          {"lr", hp.lr},               {"lr_decayed", hp.lr_decayed}, {"lr_decay_step", hp.lr_decay_step},
          {"steps", opt.steps},        {"seed", opt.seed},            {"samples", hp.samples},
          {"saturation", hp.saturation}, {"load", hp.load}};
}

nlohmann::json summary_base(const Hyper& hp, const z2h::CommonOptions& opt) {
  return {{"stage", "04-batchnorm"}, {"mode", hp.mode},       {"seed", opt.seed},
          {"config", config_json(hp, opt)}, {"steps", opt.steps}, {"threads", opt.threads},
          {"openblas_core", z2h::openblas_core()}};
}

// The first line of every mode's output: stage, seed, threads and OpenBLAS's kernel set.
void print_header(const z2h::CommonOptions& opt) {
  std::cout << z2h::run_header("04-batchnorm", opt.seed, opt.threads) << "\n";
}

// ================================================================================================
// data
// ================================================================================================
Data load_data(const z2h::CommonOptions& opt, const Hyper& hp) {
  return load_names(z2h::data_file(opt, "names.txt"), hp.block_size);
}

// ================================================================================================
// checkpoints: the model's tensors by their notebook names (safetensors, common/nn/checkpoint.hpp)
// ================================================================================================
void save_model(const fs::path& path, const z2h::nn::NamedTensors& tensors, const std::string& model_id) {
  z2h::save_checkpoint(path, tensors, {{"stage", "04-batchnorm"}, {"model", model_id}});
}

void load_model(const std::string& path, const z2h::nn::NamedTensors& tensors, const std::string& model_id) {
  const auto meta = z2h::load_safetensors(path).metadata;  // which model, before any tensor is copied
  const auto it = meta.find("model");
  if (it == meta.end() || it->second != model_id)
    throw z2h::UserError("checkpoint '" + path + "' holds " +
                         (it == meta.end() ? std::string("no 04-batchnorm model") : "model '" + it->second + "'") +
                         ", not '" + model_id + "' (pass the --mode, --variant and sizes it was trained with)");
  z2h::load_checkpoint(path, tensors);
}

// The notebook's schedule: lr = 0.1 if i < 100000 else 0.01 (the drop stays put when --steps
// shortens a run).
z2h::optim::Schedule schedule(const Hyper& hp) {
  return [hp](int64_t i) { return i < hp.lr_decay_step ? hp.lr : hp.lr_decayed; };
}

// ================================================================================================
// mode train: the MLP, in one of the video's variants
// ================================================================================================
int run_train(const Hyper& hp, const z2h::CommonOptions& opt) {
  const fs::path out = z2h::prepare_out_dir(opt.out);
  const Data data = load_data(opt, hp);

  // ---- model: the notebook's draws from g = torch.Generator().manual_seed(seed) ----
  z2h::Generator g(opt.seed);
  Mlp m = make_mlp({.variant = parse_variant(hp.variant), .vocab_size = data.vocab.size(), .block_size = hp.block_size,
                    .n_embd = hp.n_embd, .n_hidden = hp.n_hidden},
                   g);
  const std::string model_id = "mlp-" + hp.variant;
  if (!hp.load.empty()) load_model(hp.load, state(m), model_id);
  print_header(opt);
  std::cout << m.num_parameters() << "\n";  // number of parameters in total

  // ---- training: 200000 seeded minibatches of 32 ----
  z2h::MetricsCsv metrics({"step", "loss", "lr"});
  std::vector<float> losses;
  Tensor hpreact0, h0;
  z2h::Progress bar(opt.steps, "train", opt.quiet);
  z2h::optim::SGD sgd(m.parameters(), schedule(hp));
  z2h::Stopwatch clock;
  for (int64_t i = 0; i < opt.steps; ++i) {
    const double lr = sgd.current_lr();
    const float loss = train_step(m, data.train, g, hp.batch_size, sgd);
    if (i == 0) hpreact0 = m.hpreact.detach(), h0 = m.h.detach();
    if (i % 10000 == 0) bar.println(lecture_line(i, opt.steps, loss));
    losses.push_back(loss);
    metrics.add_row(i, loss, lr);
    bar.update(i + 1, loss);
  }
  bar.finish();
  const double wall = clock.seconds();

  // ---- evaluation: the notebook's split_loss, with the running batch-norm statistics ----
  const float train = split_loss(m, data.train), val = split_loss(m, data.val), test = split_loss(m, data.test);
  std::cout << "train " << py_repr(train) << "\nval " << py_repr(val) << "\ntest " << py_repr(test) << "\n";

  // ---- sampling ----
  z2h::Generator sg(opt.seed + 10);
  const auto names = z2h::sample_names([&](const z2h::LongTensor& x) { return forward(m, x, /*training=*/false); },
                                       hp.block_size, data.vocab, hp.samples, sg);
  for (const std::string& name : names) std::cout << name << "\n";
  std::printf("%lld steps in %.1f s (%.0f steps/s)\n", static_cast<long long>(opt.steps), wall,
              static_cast<double>(opt.steps) / std::max(wall, 1e-9));

  // ---- plots and files ----
  if (!losses.empty()) {
    plot_log10_loss(out / "loss.png", losses, "log10 loss (" + hp.variant + ")");
    const std::string v = " at step 0 (" + hp.variant + ")";
    plot_hist(out / "hpreact_step0.png", hpreact0, "hpreact" + v, "hpreact = embcat @ W1" + std::string(hp.variant == "batchnorm" ? "" : " + b1"));
    plot_hist(out / "h_step0.png", h0, "h = tanh(hpreact)" + v, "h");
    plot_saturation(out / "saturation_step0.png", h0, hp.saturation);
  }
  metrics.save(out / "metrics.csv");
  save_model(hp.save.empty() ? out / "model.safetensors" : fs::path(hp.save), state(m), model_id);
  nlohmann::json summary = summary_base(hp, opt);
  summary["variant"] = hp.variant;
  summary["params"] = m.num_parameters();
  summary["loss"] = {{"train", train}, {"val", val}, {"test", test}};
  summary["samples"] = names;
  summary["wall_s"] = wall;
  summary["steps_per_s"] = static_cast<double>(opt.steps) / std::max(wall, 1e-9);
  summary["step0_loss"] = losses.empty() ? nlohmann::json(nullptr) : nlohmann::json(losses[0]);
  z2h::write_json_atomic(out / "summary.json", summary);
  return 0;
}

// ================================================================================================
// mode deep: the 6-layer net and its diagnostics
// ================================================================================================
std::string layer_label(const DeepNet& net, int i) { return "layer " + std::to_string(i) + " (" + layer_kind(net, i) + ")"; }

void print_diagnostics(const DeepNet& net, const Diagnostics& d) {
  char buf[160];
  for (const ActivationStats& a : d.activations) {
    std::snprintf(buf, sizeof buf, "layer %d (%10s): mean %+.2f, std %.2f, saturated: %.2f%%", a.layer,
                  layer_kind(net, a.layer).c_str(), a.mean, a.std, a.saturated);
    std::cout << buf << "\n";
  }
  for (const GradientStats& gs : d.gradients) {
    std::snprintf(buf, sizeof buf, "layer %d (%10s): mean %+f, std %e", gs.layer, layer_kind(net, gs.layer).c_str(),
                  gs.mean, gs.std);
    std::cout << buf << "\n";
  }
  for (const WeightStats& w : d.weights) {
    std::snprintf(buf, sizeof buf, "weight %10s | mean %+f | std %e | grad:data ratio %e", w.shape.c_str(), w.mean,
                  w.std, w.grad_data);
    std::cout << buf << "\n";
  }
}

void plot_diagnostics(const fs::path& out, const DeepNet& net, const Diagnostics& d,
                      const std::vector<std::vector<double>>& ud) {
  std::vector<Series> acts, grads, weights;
  for (const ActivationStats& a : d.activations) acts.push_back({layer_label(net, a.layer), layer_out(net, a.layer)});
  for (const GradientStats& gs : d.gradients) grads.push_back({layer_label(net, gs.layer), layer_out(net, gs.layer).grad()});
  const auto params = net.parameters();
  std::vector<RatioCurve> ratios;
  for (const WeightStats& w : d.weights) {
    weights.push_back({std::to_string(w.param) + " " + w.shape, params[static_cast<size_t>(w.param)].grad()});
    RatioCurve c{"param " + std::to_string(w.param), {}};
    for (const auto& step : ud) c.log10_ratio.push_back(step[static_cast<size_t>(w.param)]);
    ratios.push_back(std::move(c));
  }
  plot_distributions(out / "activations.png", acts, "activation distribution");
  plot_distributions(out / "gradients.png", grads, "gradient distribution");
  plot_distributions(out / "weight_gradients.png", weights, "weights gradient distribution");
  plot_update_ratios(out / "update_ratios.png", ratios);
}

int run_deep(const Hyper& hp, const z2h::CommonOptions& opt) {
  const fs::path out = z2h::prepare_out_dir(opt.out);
  const Data data = load_data(opt, hp);
  z2h::Generator g(opt.seed);
  DeepNet net = make_deep_net({.vocab_size = data.vocab.size(), .block_size = hp.block_size, .n_embd = hp.n_embd,
                               .n_hidden = hp.n_hidden},
                              g);
  const std::string model_id = "deep-" + std::to_string(hp.n_hidden);
  if (!hp.load.empty()) load_model(hp.load, state(net), model_id);
  print_header(opt);
  std::cout << num_parameters(net) << "\n";

  z2h::MetricsCsv metrics([&] {
    std::vector<std::string> cols = {"step", "loss", "lr"};
    for (const std::string& name : parameter_names(net)) cols.push_back("ud_" + name);
    return cols;
  }());
  std::vector<float> losses;
  std::vector<std::vector<double>> ud;  // [step][parameter] log10 update:data ratios
  z2h::Progress bar(opt.steps, "train", opt.quiet);
  z2h::optim::SGD sgd(net.parameters(), schedule(hp));
  z2h::Stopwatch clock;
  for (int64_t i = 0; i < opt.steps; ++i) {
    const double lr = sgd.current_lr();
    const DeepStep step = train_step(net, data.train, g, hp.batch_size, sgd);
    // the notebook's loop runs to max_steps = 200000 and breaks after step 1000: it prints "0/ 200000"
    if (i % 10000 == 0) bar.println(lecture_line(i, std::max<int64_t>(opt.steps, 200000), step.loss));
    losses.push_back(step.loss);
    ud.push_back(step.update_ratios);
    std::vector<double> row = {static_cast<double>(i), step.loss, lr};
    row.insert(row.end(), step.update_ratios.begin(), step.update_ratios.end());
    metrics.add_row(row);
    bar.update(i + 1, step.loss);
  }
  bar.finish();
  const double wall = clock.seconds();

  nlohmann::json summary = summary_base(hp, opt);
  summary["params"] = num_parameters(net);
  if (opt.steps > 0) {  // the statistics of the last step's forward and backward pass
    const Diagnostics d = diagnose(net);
    print_diagnostics(net, d);
    plot_diagnostics(out, net, d, ud);
    plot_log10_loss(out / "loss.png", losses, "log10 loss (deep net)");
    summary["diagnostics"] = to_json(d);
  }
  set_training(net, false);  // put layers into eval mode
  const float train = split_loss(net, data.train), val = split_loss(net, data.val), test = split_loss(net, data.test);
  std::cout << "train " << py_repr(train) << "\nval " << py_repr(val) << "\n";
  z2h::Generator sg(opt.seed + 10);
  const auto names =
      z2h::sample_names([&](const z2h::LongTensor& x) { return forward(net, x); }, hp.block_size, data.vocab, hp.samples, sg);
  for (const std::string& name : names) std::cout << name << "\n";
  std::printf("%lld steps in %.1f s (%.0f steps/s)\n", static_cast<long long>(opt.steps), wall,
              static_cast<double>(opt.steps) / std::max(wall, 1e-9));

  metrics.save(out / "metrics.csv");
  save_model(hp.save.empty() ? out / "model.safetensors" : fs::path(hp.save), state(net), model_id);
  summary["loss"] = {{"train", train}, {"val", val}, {"test", test}};
  summary["samples"] = names;
  summary["wall_s"] = wall;
  summary["steps_per_s"] = static_cast<double>(opt.steps) / std::max(wall, 1e-9);
  summary["step0_loss"] = losses.empty() ? nlohmann::json(nullptr) : nlohmann::json(losses[0]);
  z2h::write_json_atomic(out / "summary.json", summary);
  return 0;
}

// ================================================================================================
// mode bonus: the notebook's last two cells
// ================================================================================================
int run_bonus(const Hyper& hp, const z2h::CommonOptions& opt) {
  const fs::path out = z2h::prepare_out_dir(opt.out);
  print_header(opt);
  const BonusStats s = bonus_statistics();
  nlohmann::json stats;
  for (size_t i = 0; i < s.linear.size(); ++i) {
    if (i == 3) std::cout << "-----\n";
    std::cout << s.linear[i].first << ": " << py_repr(s.linear[i].second) << "\n";
    stats["linear"][s.linear[i].first] = s.linear[i].second;
  }
  std::cout << "\n";
  for (size_t i = 0; i < s.linear_bn.size(); ++i) {
    if (i == 4) std::cout << "------\n";
    std::cout << s.linear_bn[i].first << ":  " << py_repr(s.linear_bn[i].second) << "\n";
    stats["linear_bn"][s.linear_bn[i].first] = s.linear_bn[i].second;
  }
  std::printf("\nnormshow x = randn(5) * 5: [%.4f, %.4f, %.4f, %.4f, %.4f]\n", s.normshow_x[0], s.normshow_x[1],
              s.normshow_x[2], s.normshow_x[3], s.normshow_x[4]);
  stats["normshow_x"] = s.normshow_x;
  nlohmann::json summary = summary_base(hp, opt);
  summary["steps"] = 0;
  summary["params"] = 0;
  summary["bonus"] = stats;
  summary["samples"] = nlohmann::json::array();
  z2h::write_json_atomic(out / "summary.json", summary);
  z2h::MetricsCsv({"step", "loss"}).save(out / "metrics.csv");  // no optimisation steps
  return 0;
}

// ================================================================================================
// mode e01: all-zero init
// ================================================================================================
int run_e01(const Hyper& hp, const z2h::CommonOptions& opt) {
  const fs::path out = z2h::prepare_out_dir(opt.out);
  const Data data = load_data(opt, hp);
  print_header(opt);
  z2h::MetricsCsv metrics({"step", "loss", "lr"});
  z2h::Progress bar(opt.steps, "train", opt.quiet);
  const z2h::optim::Schedule lr_at = schedule(hp);
  z2h::Stopwatch clock;
  const ZeroInitResult r = train_zero_init(data, opt.seed, opt.steps, hp.batch_size, lr_at, [&](int64_t i, float loss) {
    if (i % 10000 == 0) bar.println(lecture_line(i, opt.steps, loss));
    metrics.add_row(i, loss, lr_at(i));
    bar.update(i + 1, loss);
  });
  bar.finish();
  const double wall = clock.seconds();

  std::cout << "largest |gradient| of each parameter, over all steps:\n";
  for (size_t k = 0; k < r.names.size(); ++k) {
    double mx = 0;
    for (double v : r.max_abs_grad[k]) mx = std::max(mx, v);
    std::printf("  %-3s %-9.6g nonzero entries after training: %lld\n", r.names[k].c_str(), mx,
                static_cast<long long>(r.nonzero[k]));
  }
  std::cout << "train " << py_repr(r.train) << "\nval " << py_repr(r.val) << "\n";
  std::printf("entropy of the training set's next-character frequencies: %.4f (the best a bias alone can do)\n",
              r.unigram_entropy);
  double max_dev = 0;
  for (size_t j = 0; j < r.unigram.size(); ++j) max_dev = std::max(max_dev, std::fabs(r.b2_probs[j] - r.unigram[j]));
  std::printf("softmax(b2) vs those frequencies: largest difference %.4f\n", max_dev);

  std::vector<Curve> grads;
  for (size_t k = 0; k < r.names.size(); ++k) grads.push_back({r.names[k], r.max_abs_grad[k]});
  if (!r.losses.empty()) {
    plot_log10_loss(out / "e01_loss.png", r.losses, "log10 loss, all-zero init");
    plot_curves(out / "e01_gradients.png", grads, "largest |gradient| per step, all-zero init (C, W1, b1, W2: exactly 0)", "step", "max |grad|");
    plot_curves(out / "e01_b2.png", {{"softmax(b2) after training", r.b2_probs}, {"next-character frequency (train)", r.unigram}},
                "what trains: the output bias learns the character frequencies", "character index (0 = '.', 1 = 'a', ...)",
                "probability");
    plot_hist(out / "e01_h_step0.png", r.h0, "h = tanh(hpreact) at step 0, all-zero init", "h");
  }
  metrics.save(out / "metrics.csv");
  nlohmann::json summary = summary_base(hp, opt);
  summary["params"] = 11897;
  summary["loss"] = {{"train", r.train}, {"val", r.val}};
  summary["samples"] = nlohmann::json::array();
  summary["wall_s"] = wall;
  summary["steps_per_s"] = static_cast<double>(opt.steps) / std::max(wall, 1e-9);
  summary["unigram_entropy"] = r.unigram_entropy;
  for (size_t k = 0; k < r.names.size(); ++k) summary["nonzero"][r.names[k]] = r.nonzero[k];
  z2h::write_json_atomic(out / "summary.json", summary);
  return 0;
}

// ================================================================================================
// mode e02: fold BatchNorm into the Linear before it
// ================================================================================================
int run_e02(const Hyper& hp, const z2h::CommonOptions& opt) {
  const fs::path out = z2h::prepare_out_dir(opt.out);
  const Data data = load_data(opt, hp);
  z2h::Generator g(opt.seed);
  DeepNet net = make_deep_net({.vocab_size = data.vocab.size(), .block_size = hp.block_size, .n_embd = hp.n_embd,
                               .n_hidden = hp.n_hidden, .n_linear = 3, .bias = true},
                              g);
  print_header(opt);
  std::cout << num_parameters(net) << "\n";
  z2h::MetricsCsv metrics({"step", "loss", "lr"});
  z2h::Progress bar(opt.steps, "train", opt.quiet);
  z2h::optim::SGD sgd(net.parameters(), schedule(hp));
  z2h::Stopwatch clock;
  for (int64_t i = 0; i < opt.steps; ++i) {
    const double lr = sgd.current_lr();
    const float loss = train_step(net, data.train, g, hp.batch_size, sgd).loss;
    if (i % 10000 == 0) bar.println(lecture_line(i, opt.steps, loss));
    metrics.add_row(i, loss, lr);
    bar.update(i + 1, loss);
  }
  bar.finish();
  const double wall = clock.seconds();
  const FoldResult r = fold_and_compare(net, data.val);
  std::printf("parameters: %lld with batch norm, %lld folded\n", static_cast<long long>(r.params_bn),
              static_cast<long long>(r.params_folded));
  std::printf("val loss with batch norm: %s\nval loss folded:          %s\n", py_repr(r.val_bn).c_str(),
              py_repr(r.val_folded).c_str());
  std::printf("largest |logit difference| over the %lld validation examples: %.3g\n",
              static_cast<long long>(data.val.size()), r.max_abs_diff);
  metrics.save(out / "metrics.csv");
  nlohmann::json summary = summary_base(hp, opt);
  summary["params"] = r.params_bn;
  summary["params_folded"] = r.params_folded;
  summary["loss"] = {{"val", r.val_bn}, {"val_folded", r.val_folded}};
  summary["max_abs_logit_diff"] = r.max_abs_diff;
  summary["samples"] = nlohmann::json::array();
  summary["wall_s"] = wall;
  summary["steps_per_s"] = static_cast<double>(opt.steps) / std::max(wall, 1e-9);
  z2h::write_json_atomic(out / "summary.json", summary);
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{"04-batchnorm: activations, gradients and BatchNorm (lecture 4)"};
  z2h::CommonOptions opt{.stage = "04-batchnorm", .seed = 2147483647, .steps = 200000};
  Hyper hp;
  z2h::add_common_options(app, opt);
  app.get_option("--steps")->description("optimisation steps (deep: 1001, e02: 20000 unless given)");
  app.add_option("--mode", hp.mode, "train | deep (the 6-layer diagnostic net) | bonus | e01 | e02")
      ->check(CLI::IsMember({"train", "deep", "bonus", "e01", "e02"}));
  app.add_option("--variant", hp.variant, "mode train: the init of the video's loss log")
      ->check(CLI::IsMember(variant_names()));
  app.add_option("--n-embd", hp.n_embd, "embedding dimensions per character")->check(z2h::at_least(1));
  app.add_option("--n-hidden", hp.n_hidden, "neurons per hidden layer (deep, e02: 100 unless given)")->check(z2h::at_least(2));
  app.add_option("--batch", hp.batch_size, "minibatch size (batch norm needs 2 or more)")->check(z2h::at_least(2));
  app.add_option("--lr", hp.lr, "learning rate before the decay step")->check(z2h::positive());
  app.add_option("--lr-decayed", hp.lr_decayed, "learning rate from the decay step on")->check(z2h::positive());
  app.add_option("--lr-decay-step", hp.lr_decay_step, "step of the learning-rate drop (deep: 150000 unless given)")
      ->check(z2h::at_least(0));
  app.add_option("--samples", hp.samples, "names to sample after training")->check(z2h::at_least(0));
  z2h::add_max_len_option(app, z2h::max_name_length());
  app.add_option("--save", hp.save, "checkpoint path (default: <out>/model.safetensors)");
  app.add_option("--load", hp.load, "start from this checkpoint (with --steps 0: evaluate and sample only)")
      ->check(CLI::ExistingFile);
  return z2h::run_main(argc, argv, app, opt, [&] {
    if (app.count("--steps") == 0) opt.steps = default_steps(hp.mode);
    if ((hp.mode == "deep" || hp.mode == "e02") && app.count("--n-hidden") == 0) hp.n_hidden = 100;
    if (hp.mode == "deep" && app.count("--lr-decay-step") == 0) hp.lr_decay_step = 150000;
    if (hp.mode != "train" && app.count("--variant") > 0)
      throw z2h::UserError("--variant applies to --mode train only (got --mode " + hp.mode + ")");
    if (hp.mode == "deep") return run_deep(hp, opt);
    if (hp.mode == "bonus") return run_bonus(hp, opt);
    if (hp.mode == "e01") return run_e01(hp, opt);
    if (hp.mode == "e02") return run_e02(hp, opt);
    return run_train(hp, opt);
  });
}
