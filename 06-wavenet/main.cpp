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
#include "common/app/format.hpp"
#include "common/app/run_report.hpp"
#include "common/app/settings.hpp"
#include "common/io/safetensors.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace nn = z2h::nn;
using namespace stage06;
using z2h::Tensor;
using z2h::py_repr;

// ================================================================================================
// hyper-parameters: the notebook's (the variant sets block_size, n_embd, n_hidden and the layers)
// ================================================================================================
struct Hyper {
  std::string mode = "train";       // train | cells
  std::string variant = "scaled";   // original | context8 | hierarchical | bnfix | scaled
  ModelConfig model;                // the variant's sizes and layers; --n-embd, --n-hidden override (wavenet.hpp)
  int batch_size = 32;
  double lr = 0.1;                  // lr = 0.1 if i < 150000 else 0.01
  double lr_decayed = 0.01;
  int64_t lr_decay_step = 150000;   // stays put when --steps shortens a run
  int64_t chunk = 1000;             // the loss plot's points: means over this many steps
  int samples = 20;                 // names sampled after training, on the same global generator
  std::string save, load;           // checkpoint paths ("" = out/model.safetensors, none)
};

// The largest sizes the flags accept: far above the lecture's and the exercises', low enough that
// no single flag asks for more memory than a small machine has (the splits are evaluated in one
// forward pass: 182625 x 4 x n_hidden floats in the first layer).
constexpr int64_t kMaxEmbd = 256, kMaxHidden = 1024, kMaxBatch = 8192, kMaxSamples = 100000;

// Every setting as a flag (and as summary.json's "config"), each named once: here. The sizes a
// --variant implies are recorded as the run settles them (settle_model: the variant's, unless
// --n-embd or --n-hidden is given).
void declare(z2h::Settings& s, Hyper& hp, z2h::CommonOptions& opt) {
  s.record("steps", opt.steps);
  s.record("seed", opt.seed);
  s.option("--mode", hp.mode, "train | cells (the video's shape and for-loop cells, at init)")
      ->check(CLI::IsMember({"train", "cells"}));
  s.option("--variant", hp.variant, "a row of the performance log: original | context8 | hierarchical | bnfix | scaled")
      ->check(CLI::IsMember({"original", "context8", "hierarchical", "bnfix", "scaled"}));
  s.option("--n-embd", hp.model.n_embd, "embedding dimensions per character, unless given the variant's")
      ->check(z2h::in_range(1, kMaxEmbd));
  s.option("--n-hidden", hp.model.n_hidden, "neurons per hidden layer, unless given the variant's")
      ->check(z2h::in_range(1, kMaxHidden));
  s.option("--batch", hp.batch_size, "minibatch size (batch norm needs 2 or more)", "batch_size")
      ->check(z2h::in_range(2, kMaxBatch));
  s.option("--lr", hp.lr, "learning rate before the decay step")->check(z2h::positive());
  s.option("--lr-decayed", hp.lr_decayed, "learning rate from the decay step on")->check(z2h::positive());
  s.option("--lr-decay-step", hp.lr_decay_step, "step of the learning-rate drop")->check(z2h::at_least(0));
  s.option("--chunk", hp.chunk, "the loss plot averages log10(loss) over chunks of this many steps")->check(z2h::at_least(1));
  s.option("--samples", hp.samples, "names to sample after training")->check(z2h::in_range(0, kMaxSamples));
  s.option("--save", hp.save, "checkpoint path (default: <out>/model.safetensors)");
  s.option("--load", hp.load, "start from this checkpoint (with --steps 0: evaluate and sample only)")
      ->check(CLI::ExistingFile);
  s.record("block_size", hp.model.block_size);
  s.record("hierarchical", hp.model.hierarchical);
  s.record("fixed_batchnorm", hp.model.fixed_bn);
}

// After parsing: the --variant's model, with the sizes the command line gave.
void settle_model(Hyper& hp, const z2h::Settings& s) {
  ModelConfig cfg = find_variant(hp.variant).model;
  if (s.given(hp.model.n_embd)) cfg.n_embd = hp.model.n_embd;
  if (s.given(hp.model.n_hidden)) cfg.n_hidden = hp.model.n_hidden;
  hp.model = cfg;
}

std::string model_id(const Hyper& hp) {
  const ModelConfig& cfg = hp.model;
  return "wavenet-" + hp.variant + "-" + std::to_string(cfg.n_embd) + "-" + std::to_string(cfg.n_hidden);
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
  std::cout << "model(Xtr[[7]]).shape: " << z2h::py_list(c.single_shape.vec()) << "\n";
  std::printf("for i in range(8): logits[i] = model(Xtr[[7+i]])  -> %s; vs model(Xtr[7:15]) at once: max |diff| %.3g\n",
              z2h::py_list(c.loop_shape.vec()).c_str(), c.max_abs_diff);
  return c;
}

// ================================================================================================
// mode train: the notebook from torch.manual_seed(42) to the last sample
// ================================================================================================
void run_train(const Hyper& hp, const z2h::CommonOptions& opt, const fs::path& out, z2h::RunReport& report) {
  const Variant& variant = find_variant(hp.variant);
  const ModelConfig& cfg = hp.model;
  const Data data = load_names(z2h::data_file(opt, "names.txt"), cfg.block_size);
  std::cout << z2h::run_header("06-wavenet", opt.seed, opt.threads) << "\n";
  std::cout << z2h::py_list(data.train.X.shape.vec()) << " " << z2h::py_list(data.val.X.shape.vec()) << " "
            << z2h::py_list(data.test.X.shape.vec()) << "\n";
  for (int64_t i = 0; i < 20; ++i)  // cell 6: the first examples
    std::cout << context_string(data.train, data.vocab, i) << " --> "
              << data.vocab.itos(static_cast<int>(data.train.Y.data[static_cast<size_t>(i)])) << "\n";

  // ---- model: every draw from the global generator, torch.manual_seed(42) ----
  z2h::manual_seed(opt.seed);
  nn::Sequential model = make_model(cfg);
  if (!hp.load.empty())
    z2h::load_model(hp.load, model, "06-wavenet", model_id(hp), "pass the --variant and sizes it was trained with");
  const int64_t params = num_parameters(model);
  std::cout << params << "\n";  // number of parameters in total

  // ---- training: seeded minibatches of 32, lr 0.1 -> 0.01 at step 150000 ----
  std::vector<float> losses;
  losses.reserve(static_cast<size_t>(opt.steps));
  z2h::optim::SGD sgd(model.parameters(), [hp](int64_t i) { return i < hp.lr_decay_step ? hp.lr : hp.lr_decayed; });
  report.start(opt.steps, {"step", "loss", "lr"});
  for (int64_t i = 0; i < opt.steps; ++i) {
    const double lr = sgd.current_lr();
    const float loss = train_step(model, data.train, hp.batch_size, sgd);
    losses.push_back(loss);
    report.step(i, loss, {lr});
  }
  report.stop();
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
  if (hp.variant != "scaled" || cfg.n_embd != variant.model.n_embd || cfg.n_hidden != variant.model.n_hidden)
    std::printf("performance log, \"%s\": train %.3f, val %.3f\n", variant.log_line.c_str(), variant.lecture_train,
                variant.lecture_val);

  // ---- sampling: the same global generator, straight after the last minibatch ----
  const auto names = sample(model, data, hp.samples);
  for (const std::string& name : names) std::cout << name << "\n";

  // ---- "next time": convolution is a for loop ----
  const ForLoopCheck conv = print_convolution_cells(model, data);
  std::cout << report.speed(", OpenBLAS kernel " + z2h::blas::core_name()) << "\n";

  // ---- plots and files ----
  if (!losses.empty()) {
    const int64_t chunk = std::min<int64_t>(hp.chunk, std::max<int64_t>(1, opt.steps / 20));
    plot_loss_chunks(out / "loss.png", losses, chunk, hp.lr_decay_step,
                     "log10 loss, mean over " + std::to_string(chunk) + "-step chunks (" + hp.variant + ")");
  }
  plot_model_tree(out / "model_tree.png", model, context_string(data.train, data.vocab, 14),
                  std::string(1, data.vocab.itos(static_cast<int>(data.train.Y.data[14]))));
  z2h::save_model(hp.save.empty() ? out / "model.safetensors" : fs::path(hp.save), model, "06-wavenet", model_id(hp));
  report.summary.update({{"mode", hp.mode}, {"variant", hp.variant}, {"params", params}});
  report.summary["loss"] = {{"train", train}, {"val", val}, {"test", test}};
  report.summary["lecture"] = {{"train", variant.lecture_train}, {"val", variant.lecture_val}, {"params", variant.lecture_params}};
  report.summary["samples"] = names;
  report.summary["step0_loss"] = losses.empty() ? nlohmann::json(nullptr) : nlohmann::json(losses[0]);
  report.summary["convolution_check_max_abs_diff"] = conv.max_abs_diff;
}

// ================================================================================================
// mode cells: the video's teaching cells on the model at init
// ================================================================================================
void run_cells(const Hyper& hp, const z2h::CommonOptions& opt, const fs::path& out, z2h::RunReport& report) {
  const ModelConfig& cfg = hp.model;
  const Data data = load_names(z2h::data_file(opt, "names.txt"), cfg.block_size);
  z2h::manual_seed(opt.seed);
  nn::Sequential model = make_model(cfg);
  // "let's look at a batch of just 4 examples"
  const z2h::LongTensor ix = z2h::randint(0, data.train.Y.size(0), {4});
  const z2h::LongTensor Xb = data.train.X[ix];
  model(Xb);
  std::cout << "Xb.shape: " << z2h::py_list(Xb.shape.vec()) << "\n" << Xb << "\n";
  print_layer_shapes(model);
  model.eval();
  const ForLoopCheck conv = print_convolution_cells(model, data);
  plot_model_tree(out / "model_tree.png", model, context_string(data.train, data.vocab, 14),
                  std::string(1, data.vocab.itos(static_cast<int>(data.train.Y.data[14]))));
  nlohmann::json shapes;
  for (const auto& layer : model.layers) shapes.push_back({layer->name(), layer->out.shape().vec()});
  report.summary.update({{"mode", hp.mode}, {"variant", hp.variant}, {"params", num_parameters(model)},
                         {"samples", nlohmann::json::array()}});
  report.summary["layer_shapes_eval_diondre"] = shapes;
  report.summary["convolution_check_max_abs_diff"] = conv.max_abs_diff;
}  // no optimisation steps: metrics.csv has its header only

int main(int argc, char** argv) {
  CLI::App app{"06-wavenet: a hierarchical model built from modules (lecture 6)"};
  z2h::CommonOptions opt{.stage = "06-wavenet", .seed = 42, .steps = 200000};
  Hyper hp;
  z2h::add_common_options(app, opt);
  z2h::Settings settings(app);
  declare(settings, hp, opt);
  z2h::add_max_len_option(app, z2h::max_name_length());
  return z2h::run_main(argc, argv, app, opt, [&] {
    settle_model(hp, settings);
    const fs::path out = z2h::prepare_out_dir(opt.out);
    z2h::RunReport report(opt, settings, out);  // both modes' metrics.csv and summary.json
    if (hp.mode == "cells") run_cells(hp, opt, out, report);
    else run_train(hp, opt, out, report);
    report.write();
    return 0;
  });
}
