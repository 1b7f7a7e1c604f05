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
#include "common/app/format.hpp"
#include "common/app/run_info.hpp"
#include "common/app/run_report.hpp"
#include "common/app/settings.hpp"
#include "common/io/safetensors.hpp"
#include "common/data/sample_names.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace stage04;
using z2h::Tensor;
using z2h::py_repr;

// ================================================================================================
// hyper-parameters: the lecture's
// ================================================================================================
struct Hyper {
  std::string mode = "train";        // train | deep | bonus | e01 | e02
  std::string variant = "batchnorm"; // train: original | softmax | tanh | kaiming | batchnorm
  DeepConfig net{.n_hidden = 200};   // every mode's sizes (block_size 3, n_embd 10, n_hidden 200; deep and
                                     // e02: 100) and the deep net's gain, batchnorm, tanh (deep.hpp)
  int batch_size = 32;
  double lr = 0.1;                   // lr = 0.1 if i < lr_decay_step else 0.01
  double lr_decayed = 0.01;
  int64_t lr_decay_step = 100000;    // deep: 150000. Stays put when --steps shortens a run
  double saturation = 0.99;         // the video's h.abs() > 0.99 image (the deep net's printout uses 0.97)
  int samples = 20;                  // names sampled at the end, with seed + 10 as the notebook
  std::string save, load;            // checkpoint paths ("" = out/model.safetensors, none)
};

// The largest sizes the flags accept: far above the lecture's and the exercises', low enough that
// no single flag asks for more memory than a small machine has (the splits are evaluated in one
// forward pass: 182625 x n_hidden floats per layer).
constexpr int64_t kMaxEmbd = 256, kMaxHidden = 1024, kMaxBatch = 8192, kMaxSamples = 100000;

// Every setting as a flag (and as summary.json's "config"), each named once: here.
void declare(z2h::Settings& s, Hyper& hp, z2h::CommonOptions& opt) {
  s.record("steps", opt.steps);
  s.record("seed", opt.seed);
  s.option("--mode", hp.mode, "train | deep (the 6-layer diagnostic net) | bonus | e01 | e02")
      ->check(CLI::IsMember({"train", "deep", "bonus", "e01", "e02"}));
  s.option("--variant", hp.variant, "mode train: the init of the video's loss log")->check(CLI::IsMember(variant_names()));
  s.record("block_size", hp.net.block_size);
  s.option("--n-embd", hp.net.n_embd, "embedding dimensions per character")->check(z2h::in_range(1, kMaxEmbd));
  s.option("--n-hidden", hp.net.n_hidden, "neurons per hidden layer (deep, e02: 100 unless given)")
      ->check(z2h::in_range(2, kMaxHidden));
  s.option("--batch", hp.batch_size, "minibatch size (batch norm needs 2 or more)", "batch_size")
      ->check(z2h::in_range(2, kMaxBatch));
  s.option("--lr", hp.lr, "learning rate before the decay step")->check(z2h::positive());
  s.option("--lr-decayed", hp.lr_decayed, "learning rate from the decay step on")->check(z2h::positive());
  s.option("--lr-decay-step", hp.lr_decay_step, "step of the learning-rate drop (deep: 150000 unless given)")
      ->check(z2h::at_least(0));
  s.record("saturation", hp.saturation);
  s.option("--gain", hp.net.gain, "deep: multiply every Linear weight but the last by this (5/3: tanh's Kaiming gain)")
      ->check(z2h::positive());
  s.flag("--no-batchnorm{false}", hp.net.batchnorm,
         "deep: no BatchNorm1d layers (Linear layers with bias, as before BatchNorm)", "batchnorm");
  s.flag("--no-tanh{false}", hp.net.tanh, "deep: no Tanh layers (a linear sandwich)", "tanh");
  s.option("--samples", hp.samples, "names to sample after training")->check(z2h::in_range(0, kMaxSamples));
  s.option("--save", hp.save, "checkpoint path (default: <out>/model.safetensors)");
  s.option("--load", hp.load, "start from this checkpoint (with --steps 0: evaluate and sample only)")
      ->check(CLI::ExistingFile);
}

int64_t default_steps(const std::string& mode) {
  if (mode == "deep") return 1001;   // the notebook breaks out of its 200000-step loop after step 1000
  if (mode == "e02") return 20000;
  return 200000;
}

// The first line of every mode's output: stage, seed, threads and OpenBLAS's kernel set.
void print_header(const z2h::CommonOptions& opt) {
  std::cout << z2h::run_header("04-batchnorm", opt.seed, opt.threads) << "\n";
}

// ================================================================================================
// data
// ================================================================================================
Data load_data(const z2h::CommonOptions& opt, const Hyper& hp) {
  return load_names(z2h::data_file(opt, "names.txt"), hp.net.block_size);
}

// ================================================================================================
// checkpoints: the model's tensors by their notebook names (safetensors, common/nn/checkpoint.hpp)
// ================================================================================================
void save_model(const fs::path& path, const z2h::nn::NamedTensors& tensors, const std::string& model_id) {
  z2h::save_model(path, tensors, "04-batchnorm", model_id);
}

void load_model(const std::string& path, const z2h::nn::NamedTensors& tensors, const std::string& model_id) {
  z2h::load_model(path, tensors, "04-batchnorm", model_id, "pass the --mode, --variant and sizes it was trained with");
}

// The notebook's schedule: lr = 0.1 if i < 100000 else 0.01 (the drop stays put when --steps
// shortens a run).
z2h::optim::Schedule schedule(const Hyper& hp) {
  return [hp](int64_t i) { return i < hp.lr_decay_step ? hp.lr : hp.lr_decayed; };
}

// ================================================================================================
// mode train: the MLP, in one of the video's variants
// ================================================================================================
void run_train(const Hyper& hp, const z2h::CommonOptions& opt, const fs::path& out, z2h::RunReport& report) {
  const Data data = load_data(opt, hp);

  // ---- model: the notebook's draws from g = torch.Generator().manual_seed(seed) ----
  z2h::Generator g(opt.seed);
  Mlp m = make_mlp({.variant = parse_variant(hp.variant), .vocab_size = data.vocab.size(),
                    .block_size = hp.net.block_size, .n_embd = hp.net.n_embd, .n_hidden = hp.net.n_hidden},
                   g);
  const std::string model_id = "mlp-" + hp.variant;
  if (!hp.load.empty()) load_model(hp.load, state(m), model_id);
  print_header(opt);
  std::cout << m.num_parameters() << "\n";  // number of parameters in total

  // ---- training: 200000 seeded minibatches of 32 ----
  std::vector<float> losses;
  Tensor hpreact0, h0;
  z2h::optim::SGD sgd(m.parameters(), schedule(hp));
  report.start(opt.steps, {"step", "loss", "lr"});
  for (int64_t i = 0; i < opt.steps; ++i) {
    const double lr = sgd.current_lr();
    const float loss = train_step(m, data.train, g, hp.batch_size, sgd);
    if (i == 0) hpreact0 = m.hpreact.detach(), h0 = m.h.detach();
    losses.push_back(loss);
    report.step(i, loss, {lr});
  }
  report.stop();

  // ---- evaluation: the notebook's split_loss, with the running batch-norm statistics ----
  const float train = split_loss(m, data.train), val = split_loss(m, data.val), test = split_loss(m, data.test);
  std::cout << "train " << py_repr(train) << "\nval " << py_repr(val) << "\ntest " << py_repr(test) << "\n";

  // ---- sampling ----
  z2h::Generator sg(opt.seed + 10);
  const auto names = z2h::sample_names([&](const z2h::LongTensor& x) { return forward(m, x, /*training=*/false); },
                                       hp.net.block_size, data.vocab, hp.samples, sg);
  for (const std::string& name : names) std::cout << name << "\n";
  std::cout << report.speed() << "\n";

  // ---- plots and files ----
  if (!losses.empty()) {
    plot_log10_loss(out / "loss.png", losses, "log10 loss (" + hp.variant + ")");
    const std::string v = " at step 0 (" + hp.variant + ")";
    plot_hist(out / "hpreact_step0.png", hpreact0, "hpreact" + v, "hpreact = embcat @ W1" + std::string(hp.variant == "batchnorm" ? "" : " + b1"));
    plot_hist(out / "h_step0.png", h0, "h = tanh(hpreact)" + v, "h");
    plot_saturation(out / "saturation_step0.png", h0, hp.saturation);
  }
  save_model(hp.save.empty() ? out / "model.safetensors" : fs::path(hp.save), state(m), model_id);
  report.summary["variant"] = hp.variant;
  report.summary["params"] = m.num_parameters();
  report.summary["loss"] = {{"train", train}, {"val", val}, {"test", test}};
  report.summary["samples"] = names;
  report.summary["step0_loss"] = losses.empty() ? nlohmann::json(nullptr) : nlohmann::json(losses[0]);
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

// "no BatchNorm, gain 5/3, lr 0.1": the deep net's experiment, for the figures' titles
std::string experiment(const Hyper& hp) {
  std::string s = hp.net.batchnorm ? "BatchNorm" : "no BatchNorm";
  if (!hp.net.tanh) s += ", no tanh";
  char buf[64];
  if (std::fabs(hp.net.gain - 5.0 / 3.0) < 1e-6) std::snprintf(buf, sizeof buf, ", gain 5/3, lr %g", hp.lr);
  else std::snprintf(buf, sizeof buf, ", gain %g, lr %g", hp.net.gain, hp.lr);
  return s + buf;
}

void plot_diagnostics(const fs::path& out, const DeepNet& net, const Diagnostics& d,
                      const std::vector<std::vector<double>>& ud, const std::string& label) {
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
  const std::string watched = layer_kind(net, d.activations.empty() ? 0 : d.activations[0].layer);
  plot_distributions(out / "activations.png", acts, "activation distribution (" + label + ")",
                     "output of each hidden " + watched);
  plot_distributions(out / "gradients.png", grads, "gradient distribution (" + label + ")",
                     "gradient at each hidden " + watched + "'s output");
  plot_distributions(out / "weight_gradients.png", weights, "weights gradient distribution (" + label + ")",
                     "gradient of each 2-D weight");
  plot_update_ratios(out / "update_ratios.png", ratios, "update:data ratio (" + label + ")");
}

void run_deep(const Hyper& hp, const z2h::CommonOptions& opt, const fs::path& out, z2h::RunReport& report) {
  const Data data = load_data(opt, hp);
  z2h::Generator g(opt.seed);
  DeepConfig cfg = hp.net;
  cfg.vocab_size = data.vocab.size();
  cfg.bias = !cfg.batchnorm;  // without BatchNorm after them, the Linear layers need their bias
  DeepNet net = make_deep_net(cfg, g);
  const std::string model_id = "deep-" + std::to_string(cfg.n_hidden) + (cfg.batchnorm ? "" : "-nobatchnorm") +
                               (cfg.tanh ? "" : "-notanh");
  if (!hp.load.empty()) load_model(hp.load, state(net), model_id);
  print_header(opt);
  std::cout << num_parameters(net) << "\n";

  std::vector<std::string> columns = {"step", "loss", "lr"};
  for (const std::string& name : parameter_names(net)) columns.push_back("ud_" + name);
  std::vector<float> losses;
  std::vector<std::vector<double>> ud;  // [step][parameter] log10 update:data ratios
  z2h::optim::SGD sgd(net.parameters(), schedule(hp));
  // the notebook's loop runs to max_steps = 200000 and breaks after step 1000: it prints "0/ 200000"
  report.start(opt.steps, columns, "train", {.max_steps = std::max<int64_t>(opt.steps, 200000)});
  for (int64_t i = 0; i < opt.steps; ++i) {
    const double lr = sgd.current_lr();
    const DeepStep step = train_step(net, data.train, g, hp.batch_size, sgd);
    losses.push_back(step.loss);
    ud.push_back(step.update_ratios);
    std::vector<double> extra = {lr};
    extra.insert(extra.end(), step.update_ratios.begin(), step.update_ratios.end());
    report.step(i, step.loss, extra);
  }
  report.stop();

  report.summary["params"] = num_parameters(net);
  if (opt.steps > 0) {  // the statistics of the last step's forward and backward pass
    const Diagnostics d = diagnose(net);
    print_diagnostics(net, d);
    // the statistics are those of the last step's batch: "step 0" is the net at init
    plot_diagnostics(out, net, d, ud, experiment(hp) + "; step " + std::to_string(opt.steps - 1));
    plot_log10_loss(out / "loss.png", losses, "log10 loss (deep net, " + experiment(hp) + ")");
    report.summary["diagnostics"] = to_json(d);
  }
  set_training(net, false);  // put layers into eval mode
  const float train = split_loss(net, data.train), val = split_loss(net, data.val), test = split_loss(net, data.test);
  std::cout << "train " << py_repr(train) << "\nval " << py_repr(val) << "\n";
  z2h::Generator sg(opt.seed + 10);
  const auto names =
      z2h::sample_names([&](const z2h::LongTensor& x) { return forward(net, x); }, hp.net.block_size, data.vocab, hp.samples, sg);
  for (const std::string& name : names) std::cout << name << "\n";
  std::cout << report.speed() << "\n";

  save_model(hp.save.empty() ? out / "model.safetensors" : fs::path(hp.save), state(net), model_id);
  report.summary["loss"] = {{"train", train}, {"val", val}, {"test", test}};
  report.summary["samples"] = names;
  report.summary["step0_loss"] = losses.empty() ? nlohmann::json(nullptr) : nlohmann::json(losses[0]);
}

// ================================================================================================
// mode bonus: the notebook's last two cells
// ================================================================================================
void run_bonus(const z2h::CommonOptions& opt, z2h::RunReport& report) {
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
  report.summary["params"] = 0;
  report.summary["bonus"] = stats;
  report.summary["samples"] = nlohmann::json::array();
}  // no optimisation steps: metrics.csv has its header only

// ================================================================================================
// mode e01: all-zero init
// ================================================================================================
void run_e01(const Hyper& hp, const z2h::CommonOptions& opt, const fs::path& out, z2h::RunReport& report) {
  const Data data = load_data(opt, hp);
  print_header(opt);
  const z2h::optim::Schedule lr_at = schedule(hp);
  report.start(opt.steps, {"step", "loss", "lr"});
  const ZeroInitResult r = train_zero_init(data, opt.seed, opt.steps, hp.batch_size, lr_at,
                                           [&](int64_t i, float loss) { report.step(i, loss, {lr_at(i)}); });
  report.stop();

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
  report.summary["params"] = 11897;
  report.summary["loss"] = {{"train", r.train}, {"val", r.val}};
  report.summary["samples"] = nlohmann::json::array();
  report.summary["unigram_entropy"] = r.unigram_entropy;
  for (size_t k = 0; k < r.names.size(); ++k) report.summary["nonzero"][r.names[k]] = r.nonzero[k];
}

// ================================================================================================
// mode e02: fold BatchNorm into the Linear before it
// ================================================================================================
void run_e02(const Hyper& hp, const z2h::CommonOptions& opt, z2h::RunReport& report) {
  const Data data = load_data(opt, hp);
  z2h::Generator g(opt.seed);
  DeepConfig cfg = hp.net;  // three Linear layers with bias, each followed by BatchNorm
  cfg.vocab_size = data.vocab.size();
  cfg.n_linear = 3;
  cfg.bias = true;
  DeepNet net = make_deep_net(cfg, g);
  print_header(opt);
  std::cout << num_parameters(net) << "\n";
  z2h::optim::SGD sgd(net.parameters(), schedule(hp));
  report.start(opt.steps, {"step", "loss", "lr"});
  for (int64_t i = 0; i < opt.steps; ++i) {
    const double lr = sgd.current_lr();
    report.step(i, train_step(net, data.train, g, hp.batch_size, sgd).loss, {lr});
  }
  report.stop();
  const FoldResult r = fold_and_compare(net, data.val);
  std::printf("parameters: %lld with batch norm, %lld folded\n", static_cast<long long>(r.params_bn),
              static_cast<long long>(r.params_folded));
  std::printf("val loss with batch norm: %s\nval loss folded:          %s\n", py_repr(r.val_bn).c_str(),
              py_repr(r.val_folded).c_str());
  std::printf("largest |logit difference| over the %lld validation examples: %.3g\n",
              static_cast<long long>(data.val.size()), r.max_abs_diff);
  report.summary["params"] = r.params_bn;
  report.summary["params_folded"] = r.params_folded;
  report.summary["loss"] = {{"val", r.val_bn}, {"val_folded", r.val_folded}};
  report.summary["max_abs_logit_diff"] = r.max_abs_diff;
  report.summary["samples"] = nlohmann::json::array();
}

int main(int argc, char** argv) {
  CLI::App app{"04-batchnorm: activations, gradients and BatchNorm (lecture 4)"};
  z2h::CommonOptions opt{.stage = "04-batchnorm", .seed = 2147483647, .steps = 200000};
  Hyper hp;
  z2h::add_common_options(app, opt);
  app.get_option("--steps")->description("optimisation steps (deep: 1001, e02: 20000 unless given)");
  z2h::Settings settings(app);
  declare(settings, hp, opt);
  z2h::add_max_len_option(app, z2h::max_name_length());
  return z2h::run_main(argc, argv, app, opt, [&] {
    if (app.count("--steps") == 0) opt.steps = default_steps(hp.mode);
    if ((hp.mode == "deep" || hp.mode == "e02") && !settings.given(hp.net.n_hidden)) hp.net.n_hidden = 100;
    if (hp.mode == "deep" && !settings.given(hp.lr_decay_step)) hp.lr_decay_step = 150000;
    auto only_in = [&](const std::string& mode, const auto& field) {
      if (hp.mode != mode && settings.given(field))
        throw z2h::UserError(settings.flag_of(field) + " applies to --mode " + mode + " only (got --mode " + hp.mode + ")");
    };
    only_in("train", hp.variant);
    only_in("deep", hp.net.gain);
    only_in("deep", hp.net.batchnorm);
    only_in("deep", hp.net.tanh);
    const fs::path out = z2h::prepare_out_dir(opt.out);
    z2h::RunReport report(opt, settings, out);  // every mode's metrics.csv and summary.json
    report.summary["mode"] = hp.mode;
    if (hp.mode == "deep") run_deep(hp, opt, out, report);
    else if (hp.mode == "bonus") run_bonus(opt, report);
    else if (hp.mode == "e01") run_e01(hp, opt, out, report);
    else if (hp.mode == "e02") run_e02(hp, opt, report);
    else run_train(hp, opt, out, report);
    report.write();
    return 0;
  });
}
