// 06-wavenet — a hierarchical (WaveNet-like) model built from modules (lecture 6,
// makemore_part5_cnn1.ipynb).
//
//   06-wavenet                          the notebook's final model, 200000 steps: train 1.7690, val 1.9937
//   06-wavenet --variant original       a row of the notebook's performance log:
//                                       original | context8 | hierarchical | bnfix | scaled (the default)
//   06-wavenet --mode cells             the video's teaching cells at init: layer shapes for a batch of 4,
//                                       "convolution is a for loop"
//
// Every run writes its plots, metrics.csv and summary.json into --out (default out/06-wavenet/),
// and train writes a checkpoint (model.safetensors, see --save / --load).
#include "figures.hpp"
#include "wavenet.hpp"

#include "common/data/sample_names.hpp"
#include "common/app/run_info.hpp"
#include "common/tensor/blas.hpp"
#include "common/nn/checkpoint.hpp"
#include "common/app/cli.hpp"
#include "common/app/error.hpp"
#include "common/rng/generator.hpp"
#include "common/tensor/ops.hpp"
#include "common/nn/optim.hpp"
#include "common/io/output.hpp"
#include "common/app/progress.hpp"
#include "common/io/safetensors.hpp"

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace nn = z2h::nn;
using namespace stage06;
using z2h::Tensor;

// ================================================================================================
// hyper-parameters: the notebook's (the variant sets block_size, n_embd, n_hidden and the layers)
// ================================================================================================
struct Hyper {
  std::string mode = "train";       // train | cells
  std::string variant = "scaled";   // original | context8 | hierarchical | bnfix | scaled
  int n_embd = 0;                   // 0: the variant's (scaled: 24)
  int n_hidden = 0;                 // 0: the variant's (scaled: 128)
  int batch_size = 32;
  double lr = 0.1;                  // lr = 0.1 if i < 150000 else 0.01
  double lr_decayed = 0.01;
  int64_t lr_decay_step = 150000;   // stays put when --steps shortens a run
  int64_t chunk = 1000;             // the loss plot's points: means over this many steps
  int samples = 20;                 // names sampled after training, on the same global generator
  std::string save, load;           // checkpoint paths ("" = out/model.safetensors, none)
};

ModelConfig model_config(const Hyper& hp) {
  ModelConfig cfg = config_of(find_variant(hp.variant));
  if (hp.n_embd > 0) cfg.n_embd = hp.n_embd;
  if (hp.n_hidden > 0) cfg.n_hidden = hp.n_hidden;
  return cfg;
}

// Python's repr of a float32 result: the shortest digits that read back as the same double,
// as `print(split, loss.item())` prints it (1.7690284252166748).
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

std::string shape_list(const z2h::Shape& s) {  // [182625, 8]
  std::string out = "[";
  for (int i = 0; i < s.ndim(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

nlohmann::json config_json(const Hyper& hp, const z2h::CommonOptions& opt) {
  const ModelConfig cfg = model_config(hp);
  return {{"mode", hp.mode},           {"variant", hp.variant},         {"block_size", cfg.block_size},
          {"n_embd", cfg.n_embd},       {"n_hidden", cfg.n_hidden},       {"hierarchical", cfg.hierarchical},
          {"fixed_batchnorm", cfg.fixed_bn}, {"batch_size", hp.batch_size}, {"lr", hp.lr},
          {"lr_decayed", hp.lr_decayed}, {"lr_decay_step", hp.lr_decay_step}, {"steps", opt.steps},
          {"seed", opt.seed},           {"samples", hp.samples},          {"chunk", hp.chunk},
          {"load", hp.load}};
}

std::string model_id(const Hyper& hp) {
  const ModelConfig cfg = model_config(hp);
  return "wavenet-" + hp.variant + "-" + std::to_string(cfg.n_embd) + "-" + std::to_string(cfg.n_hidden);
}

void load_model(const std::string& path, nn::Sequential& model, const std::string& id) {
  const auto meta = z2h::load_safetensors(path).metadata;  // which model, before any tensor is copied
  const auto it = meta.find("model");
  if (it == meta.end() || it->second != id)
    throw z2h::UserError("checkpoint '" + path + "' holds " +
                         (it == meta.end() ? std::string("no 06-wavenet model") : "model '" + it->second + "'") +
                         ", not '" + id + "' (pass the --variant and sizes it was trained with)");
  z2h::load_checkpoint(path, model);
}

void print_layer_shapes(const nn::Sequential& model) {
  for (const auto& layer : model.layers) {
    std::string s = "(";
    for (int i = 0; i < layer->out.ndim(); ++i) s += (i ? ", " : "") + std::to_string(layer->out.size(i));
    std::cout << layer->name() << " : " << s << ")\n";
  }
}

// Cells 17-19: the 8 examples of "diondre", one forwarded alone, then all 8 one by one vs at once.
ForLoopCheck print_convolution_cells(nn::Sequential& model, const Data& data) {
  for (int64_t i = 7; i < 15; ++i)
    std::cout << context_string(data.train, data.vocab, i) << " --> "
              << data.vocab.itos(static_cast<int>(data.train.Y.data[static_cast<size_t>(i)])) << "\n";
  const ForLoopCheck c = convolution_check(model, data.train, 7, 8);
  std::cout << "model(Xtr[[7]]).shape: " << shape_list(c.single_shape) << "\n";
  std::printf("for i in range(8): logits[i] = model(Xtr[[7+i]])  -> %s; vs model(Xtr[7:15]) at once: max |diff| %.3g\n",
              shape_list(c.loop_shape).c_str(), c.max_abs_diff);
  return c;
}

// ================================================================================================
// mode train: the notebook from torch.manual_seed(42) to the last sample
// ================================================================================================
int run_train(const Hyper& hp, const z2h::CommonOptions& opt) {
  const fs::path out = z2h::prepare_out_dir(opt.out);
  const Variant& variant = find_variant(hp.variant);
  const ModelConfig cfg = model_config(hp);
  const Data data = load_names(z2h::data_file(opt, "names.txt"), cfg.block_size);
  std::cout << z2h::run_header("06-wavenet", opt.seed, opt.threads) << "\n";
  std::cout << shape_list(data.train.X.shape) << " " << shape_list(data.val.X.shape) << " "
            << shape_list(data.test.X.shape) << "\n";
  for (int64_t i = 0; i < 20; ++i)  // cell 6: the first examples
    std::cout << context_string(data.train, data.vocab, i) << " --> "
              << data.vocab.itos(static_cast<int>(data.train.Y.data[static_cast<size_t>(i)])) << "\n";

  // ---- model: every draw from the global generator, torch.manual_seed(42) ----
  z2h::manual_seed(opt.seed);
  nn::Sequential model = make_model(cfg);
  if (!hp.load.empty()) load_model(hp.load, model, model_id(hp));
  const int64_t params = num_parameters(model);
  std::cout << params << "\n";  // number of parameters in total

  // ---- training: seeded minibatches of 32, lr 0.1 -> 0.01 at step 150000 ----
  z2h::MetricsCsv metrics({"step", "loss", "lr"});
  std::vector<float> losses;
  losses.reserve(static_cast<size_t>(opt.steps));
  z2h::Progress bar(opt.steps, "train", opt.quiet);
  z2h::optim::SGD sgd(model.parameters(), [hp](int64_t i) { return i < hp.lr_decay_step ? hp.lr : hp.lr_decayed; });
  z2h::Stopwatch clock;
  for (int64_t i = 0; i < opt.steps; ++i) {
    const double lr = sgd.current_lr();
    const float loss = train_step(model, data.train, hp.batch_size, sgd);
    if (i % 10000 == 0) bar.println(lecture_line(i, opt.steps, loss));
    losses.push_back(loss);
    metrics.add_row(i, loss, lr);
    bar.update(i + 1, loss);
  }
  bar.finish();
  const double wall = clock.seconds();
  if (opt.steps > 0) {  // the Tanh layers' outputs of the last training batch (lecture 4's histograms)
    plot_activations(out / "activations.png", model,
                     "Tanh outputs of the last training batch (" + hp.variant + ")");
    for (const ActivationStats& a : activation_stats(model))
      std::printf("layer %d (Tanh): mean %+.2f, std %.2f, saturated: %.2f%%\n", a.layer, a.mean, a.std,
                  a.saturated_percent);
  }

  // ---- evaluation: every layer in eval mode (the batch norms use their running statistics) ----
  model.eval();
  const float train = split_loss(model, data.train), val = split_loss(model, data.val),
              test = split_loss(model, data.test);
  std::cout << "train " << py_repr(train) << "\nval " << py_repr(val) << "\ntest " << py_repr(test) << "\n";
  if (hp.variant != "scaled" || hp.n_embd || hp.n_hidden)
    std::printf("performance log, \"%s\": train %.3f, val %.3f\n", variant.log_line.c_str(), variant.lecture_train,
                variant.lecture_val);

  // ---- sampling: the same global generator, straight after the last minibatch ----
  const auto names = sample(model, data, hp.samples);
  for (const std::string& name : names) std::cout << name << "\n";

  // ---- "next time": convolution is a for loop ----
  const ForLoopCheck conv = print_convolution_cells(model, data);
  std::printf("%lld steps in %.1f s (%.0f steps/s, OpenBLAS kernel %s)\n", static_cast<long long>(opt.steps), wall,
              static_cast<double>(opt.steps) / std::max(wall, 1e-9), z2h::blas::core_name().c_str());

  // ---- plots and files ----
  if (!losses.empty()) {
    const int64_t chunk = std::min<int64_t>(hp.chunk, std::max<int64_t>(1, opt.steps / 20));
    plot_loss_chunks(out / "loss.png", losses, chunk, hp.lr_decay_step,
                     "log10 loss, mean over " + std::to_string(chunk) + "-step chunks (" + hp.variant + ")");
  }
  plot_model_tree(out / "model_tree.png", model, context_string(data.train, data.vocab, 14),
                  std::string(1, data.vocab.itos(static_cast<int>(data.train.Y.data[14]))));
  metrics.save(out / "metrics.csv");
  z2h::save_checkpoint(hp.save.empty() ? out / "model.safetensors" : fs::path(hp.save), model,
                       {{"stage", "06-wavenet"}, {"model", model_id(hp)}});
  nlohmann::json summary = {{"stage", "06-wavenet"}, {"mode", hp.mode},         {"variant", hp.variant},
                            {"seed", opt.seed},      {"config", config_json(hp, opt)}, {"params", params},
                            {"steps", opt.steps},    {"threads", opt.threads}};
  summary["loss"] = {{"train", train}, {"val", val}, {"test", test}};
  summary["lecture"] = {{"train", variant.lecture_train}, {"val", variant.lecture_val}, {"params", variant.lecture_params}};
  summary["samples"] = names;
  summary["wall_s"] = wall;
  summary["steps_per_s"] = static_cast<double>(opt.steps) / std::max(wall, 1e-9);
  summary["step0_loss"] = losses.empty() ? nlohmann::json(nullptr) : nlohmann::json(losses[0]);
  summary["openblas_core"] = z2h::openblas_core();
  summary["convolution_check_max_abs_diff"] = conv.max_abs_diff;
  z2h::write_json_atomic(out / "summary.json", summary);
  return 0;
}

// ================================================================================================
// mode cells: the video's teaching cells on the model at init
// ================================================================================================
int run_cells(const Hyper& hp, const z2h::CommonOptions& opt) {
  const fs::path out = z2h::prepare_out_dir(opt.out);
  const ModelConfig cfg = model_config(hp);
  const Data data = load_names(z2h::data_file(opt, "names.txt"), cfg.block_size);
  z2h::manual_seed(opt.seed);
  nn::Sequential model = make_model(cfg);
  // "let's look at a batch of just 4 examples"
  const z2h::LongTensor ix = z2h::randint(0, data.train.Y.size(0), {4});
  const z2h::LongTensor Xb = data.train.X[ix];
  model(Xb);
  std::cout << "Xb.shape: " << shape_list(Xb.shape) << "\n" << Xb << "\n";
  print_layer_shapes(model);
  model.eval();
  const ForLoopCheck conv = print_convolution_cells(model, data);
  plot_model_tree(out / "model_tree.png", model, context_string(data.train, data.vocab, 14),
                  std::string(1, data.vocab.itos(static_cast<int>(data.train.Y.data[14]))));
  nlohmann::json shapes;
  for (const auto& layer : model.layers) shapes.push_back({layer->name(), layer->out.shape().vec()});
  nlohmann::json summary = {{"stage", "06-wavenet"}, {"mode", hp.mode}, {"variant", hp.variant},
                            {"seed", opt.seed},      {"config", config_json(hp, opt)},
                            {"params", num_parameters(model)}, {"steps", 0}, {"threads", opt.threads},
                            {"samples", nlohmann::json::array()}};
  summary["layer_shapes_eval_diondre"] = shapes;
  summary["convolution_check_max_abs_diff"] = conv.max_abs_diff;
  z2h::write_json_atomic(out / "summary.json", summary);
  z2h::MetricsCsv({"step", "loss"}).save(out / "metrics.csv");  // no optimisation steps
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{"06-wavenet: a hierarchical model built from modules (lecture 6)"};
  z2h::CommonOptions opt{.stage = "06-wavenet", .seed = 42, .steps = 200000};
  Hyper hp;
  z2h::add_common_options(app, opt);
  app.add_option("--mode", hp.mode, "train | cells (the video's shape and for-loop cells, at init)")
      ->check(CLI::IsMember({"train", "cells"}));
  app.add_option("--variant", hp.variant, "a row of the performance log: original | context8 | hierarchical | bnfix | scaled")
      ->check(CLI::IsMember({"original", "context8", "hierarchical", "bnfix", "scaled"}));
  app.add_option("--n-embd", hp.n_embd, "embedding dimensions per character (default: the variant's)")
      ->check(z2h::at_least(1));
  app.add_option("--n-hidden", hp.n_hidden, "neurons per hidden layer (default: the variant's)")->check(z2h::at_least(1));
  app.add_option("--batch", hp.batch_size, "minibatch size (batch norm needs 2 or more)")->check(z2h::at_least(2));
  app.add_option("--lr", hp.lr, "learning rate before the decay step")->check(z2h::positive());
  app.add_option("--lr-decayed", hp.lr_decayed, "learning rate from the decay step on")->check(z2h::positive());
  app.add_option("--lr-decay-step", hp.lr_decay_step, "step of the learning-rate drop")->check(z2h::at_least(0));
  app.add_option("--chunk", hp.chunk, "the loss plot averages log10(loss) over chunks of this many steps")
      ->check(z2h::at_least(1));
  app.add_option("--samples", hp.samples, "names to sample after training")->check(z2h::at_least(0));
  z2h::add_max_len_option(app, z2h::max_name_length());
  app.add_option("--save", hp.save, "checkpoint path (default: <out>/model.safetensors)");
  app.add_option("--load", hp.load, "start from this checkpoint (with --steps 0: evaluate and sample only)")
      ->check(CLI::ExistingFile);
  return z2h::run_main(argc, argv, app, opt, [&] {
    if (hp.mode == "cells") return run_cells(hp, opt);
    return run_train(hp, opt);
  });
}
