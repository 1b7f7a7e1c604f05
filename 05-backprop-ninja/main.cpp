// 05-backprop-ninja — the backward pass written by hand (lecture 5, makemore_part4_backprop.ipynb).
//
//   05-backprop-ninja                    the notebook, in order:
//     exercise 1   the chunked forward pass, the backward pass through all 26 tensors by hand,
//                  and the cmp table against autograd
//     exercise 2   cross-entropy backward in one go (and images/dlogits.png)
//     exercise 3   batch-norm backward in one go
//     exercise 4   200000 training steps on the hand-written gradients alone, batch-norm
//                  calibration, train/val losses, 20 samples (and images/loss.png)
//   05-backprop-ninja --check-every 10000   also compare exercise 4's gradients with autograd
//
// Every run writes dlogits.png, loss.png, metrics.csv (one row per training step) and summary.json
// into --out (default out/05-backprop-ninja/).
#include "chunked.hpp"
#include "ninja.hpp"

#include "common/app/format.hpp"
#include "common/app/run_info.hpp"
#include "common/app/run_report.hpp"
#include "common/app/settings.hpp"
#include "common/tensor/blas.hpp"
#include "common/app/cli.hpp"
#include "common/app/error.hpp"
#include "common/rng/generator.hpp"
#include "common/plot/image.hpp"
#include "common/data/names_dataset.hpp"
#include "common/tensor/ops.hpp"
#include "common/io/output.hpp"
#include "common/plot/plot.hpp"
#include "common/data/sample_names.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace stage05;
using z2h::LongTensor;
using z2h::Shape;
using z2h::Tensor;

// ================================================================================================
// hyper-parameters: the lecture's
// ================================================================================================
struct Hyper {
  NinjaConfig net;                 // block_size 3, n_embd 10, n_hidden 200 (exercise 4), batch_size 32 (n):
                                   // ninja.hpp; exercises 1-3 use its block_size, n_embd and batch_size
  int n_hidden_ex1 = 64;           // exercises 1-3: neurons in the hidden layer
  double lr = 0.1;                 // lr = 0.1 if i < 100000 else 0.01
  double lr_decayed = 0.01;
  int64_t lr_decay_step = 100000;  // stays put when --steps shortens a run
  int64_t print_every = 10000;     // if i % 10000 == 0: print
  int64_t check_every = 0;         // exercise 4: compare with autograd every N steps (0: never)
  int samples = 20;                // names sampled at the end, with seed + 10 as the notebook
};

// The largest sizes the flags accept: far above the lecture's and the exercises', low enough that
// no single flag asks for more memory than a small machine has (the splits are evaluated in one
// forward pass: 182625 x n_hidden floats per intermediate).
constexpr int64_t kMaxEmbd = 256, kMaxHidden = 1024, kMaxBatch = 8192, kMaxSamples = 100000;

// Every setting as a flag (and as summary.json's "config"), each named once: here.
void declare(z2h::Settings& s, Hyper& hp, z2h::CommonOptions& opt) {
  s.record("steps", opt.steps);
  s.record("seed", opt.seed);
  s.record("block_size", hp.net.block_size);
  s.record("print_every", hp.print_every);
  s.option("--n-embd", hp.net.n_embd, "embedding dimensions per character")->check(z2h::in_range(1, kMaxEmbd));
  s.option("--n-hidden", hp.net.n_hidden, "exercise 4: neurons in the hidden layer")->check(z2h::in_range(1, kMaxHidden));
  s.option("--n-hidden-ex1", hp.n_hidden_ex1, "exercises 1-3: neurons in the hidden layer")
      ->check(z2h::in_range(1, kMaxHidden));
  s.option("--batch", hp.net.batch_size, "minibatch size n (batch norm's Bessel correction needs 2 or more)", "batch_size")
      ->check(z2h::in_range(2, kMaxBatch));
  s.option("--lr", hp.lr, "learning rate before the decay step")->check(z2h::positive());
  s.option("--lr-decayed", hp.lr_decayed, "learning rate from the decay step on")->check(z2h::positive());
  s.option("--lr-decay-step", hp.lr_decay_step, "step of the learning-rate drop")->check(z2h::at_least(0));
  s.option("--check-every", hp.check_every,
           "exercise 4: every N steps, compare the hand-written gradients with autograd's (0: never)")
      ->check(z2h::at_least(0));
  s.option("--samples", hp.samples, "names to sample after training")->check(z2h::in_range(0, kMaxSamples));
}

// ================================================================================================
// printing like the notebook
// ================================================================================================
std::string fixed4(const float* v, int64_t n) {  // [0.0719, 0.0881, ...]
  std::string s = "[";
  char buf[32];
  for (int64_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%s%.4f", i ? ", " : "", static_cast<double>(v[i]));
    s += buf;
  }
  return s + "]";
}

std::string shape_str(const Tensor& t) { return "torch.Size(" + z2h::py_list(t.shape().vec()) + ")"; }  // torch.Size([32, 64])

nlohmann::json to_json(const Cmp& c) {
  return {{"name", c.name}, {"exact", c.exact}, {"approximate", c.approximate}, {"maxdiff", c.maxdiff}};
}

// plt.imshow(dlogits, cmap='gray'): the 32x27 gradient, darkest most negative, each entry a square
void plot_dlogits(const fs::path& png, const Tensor& dlogits) {
  const float* d = dlogits.data();
  std::vector<double> v(d, d + dlogits.numel());
  const int rows = static_cast<int>(dlogits.size(0)), cols = static_cast<int>(dlogits.size(1));
  z2h::plot::write_png(png, z2h::plot::upscale(z2h::plot::gray_image(v, rows, cols), std::max(1, 384 / rows)));
}

void plot_log10_loss(const fs::path& png, const std::vector<float>& losses) {
  z2h::plot::Line line;
  line.y.reserve(losses.size());
  for (float l : losses) line.y.push_back(std::log10(static_cast<double>(l)));
  z2h::plot::lines(png, {line},
                   {.title = "log10 loss, training on the hand-written gradients", .xlabel = "step", .ylabel = "log10(loss)"});
}

// ================================================================================================
// exercises 1-3 (cells 8-21)
// ================================================================================================
nlohmann::json run_exercises_1_to_3(const Hyper& hp, const z2h::CommonOptions& opt, const z2h::NamesData& data, const fs::path& out) {
  z2h::Generator g(opt.seed);
  const Params p = init_params(g, hp.n_hidden_ex1, hp.net.n_embd, hp.net.block_size, static_cast<int>(data.vocab.size()));
  std::cout << p.numel() << "\n";  // number of parameters in total
  const int64_t n = hp.net.batch_size;
  const LongTensor ix = z2h::randint(0, data.train.Y.numel(), Shape{n}, g);  // construct a minibatch
  const LongTensor Xb = data.train.X[ix], Yb = data.train.Y[ix];

  // exercise 1: the chunked forward pass and autograd's backward, then the same backward by hand
  const Chunked f = chunked_forward_backward(p, Xb, Yb);
  std::cout << "loss " << py_repr(f.loss.item()) << "\n";
  const ManualGrads d = manual_backward(p, f, Xb, Yb);
  nlohmann::json table = nlohmann::json::array();
  for (const Compared& c : cmp_list(p, f, d)) {
    const Cmp r = cmp(c.name, c.manual, c.tensor.grad());
    std::cout << cmp_line(r) << "\n";
    table.push_back(to_json(r));
  }

  // exercise 2: cross-entropy backward in one go
  z2h::NoGradGuard no_grad;
  const float loss_fast = z2h::cross_entropy(f.logits, Yb).item();
  std::cout << py_repr(loss_fast) << " diff: " << py_repr(loss_fast - f.loss.item()) << "\n";
  const Tensor dlogits = cross_entropy_backward_fused(f.logits, Yb);
  const Cmp ex2 = cmp("logits", dlogits, f.logits.grad());
  std::cout << cmp_line(ex2) << "\n";
  const Tensor softmax = z2h::softmax(f.logits, 1);
  const int64_t V = f.logits.size(1);
  std::vector<float> row0(dlogits.data(), dlogits.data() + V);
  for (float& v : row0) v *= static_cast<float>(n);
  const float row0_sum = z2h::sum(dlogits[0]).item();
  std::cout << "softmax(logits)[0] " << fixed4(softmax.data(), V) << "\n"
            << "dlogits[0] * n     " << fixed4(row0.data(), V) << "\n";
  std::printf("dlogits[0].sum()   %.4e\n", static_cast<double>(row0_sum));
  plot_dlogits(out / "dlogits.png", dlogits);

  // exercise 3: batch norm forward in one line, backward in one formula
  const Tensor hpreact_fast = batchnorm_forward_fused(f.hprebn, p.bngain, p.bnbias);
  float bn_maxdiff = 0;
  for (int64_t i = 0; i < hpreact_fast.numel(); ++i)
    bn_maxdiff = std::max(bn_maxdiff, std::fabs(hpreact_fast.data()[i] - f.hpreact.data()[i]));
  std::printf("max diff: %.4e\n", static_cast<double>(bn_maxdiff));
  const Tensor dhprebn = batchnorm_backward_fused(d.dhpreact, f.bnraw, f.bnvar_inv, p.bngain);  // exercise 1's dhpreact
  const Cmp ex3 = cmp("hprebn", dhprebn, f.hprebn.grad());
  std::cout << cmp_line(ex3) << "\n";
  std::cout << "(" << shape_str(dhprebn) << ", " << shape_str(p.bngain) << ", " << shape_str(f.bnvar_inv) << ", "
            << shape_str(d.dbnraw) << ", " << shape_str(z2h::sum(d.dbnraw, {0})) << ")\n";

  return {{"params", p.numel()},
          {"loss", f.loss.item()},
          {"cmp", table},
          {"ex2", {{"loss_fast", loss_fast}, {"diff", loss_fast - f.loss.item()}, {"cmp", to_json(ex2)},
                   {"softmax0", std::vector<float>(softmax.data(), softmax.data() + V)},
                   {"dlogits0_times_n", row0}, {"dlogits0_sum", row0_sum}}},
          {"ex3", {{"forward_maxdiff", bn_maxdiff}, {"cmp", to_json(ex3)}}}};
}

// ================================================================================================
// exercise 4 (cells 22-27)
// ================================================================================================
int run(const Hyper& hp, const z2h::CommonOptions& opt, const z2h::Settings& settings) {
  const fs::path out = z2h::prepare_out_dir(opt.out);
  z2h::RunReport report(opt, settings, out);
  std::cout << z2h::run_header("05-backprop-ninja", opt.seed, opt.threads) << "\n";
  // the makemore split (cells 3-5): names.txt's 80/10/10 split as tensors (common/data/names_dataset.hpp)
  const z2h::NamesData data = z2h::load_names(z2h::data_file(opt, "names.txt"), hp.net.block_size);
  nlohmann::json ex123 = run_exercises_1_to_3(hp, opt, data, out);

  z2h::Generator g(opt.seed);
  NinjaConfig cfg = hp.net;
  cfg.vocab_size = static_cast<int>(data.vocab.size());
  Ninja m = make_ninja(cfg, g);
  std::cout << m.p.numel() << "\n";  // number of parameters in total

  std::vector<float> losses;
  nlohmann::json checks = nlohmann::json::array();
  const char* names[] = {"C", "W1", "b1", "W2", "b2", "bngain", "bnbias"};
  report.start(opt.steps, {"step", "loss", "lr"}, "train", {.every = hp.print_every});
  for (int64_t i = 0; i < opt.steps; ++i) {
    // minibatch construct
    const LongTensor ix = z2h::randint(0, data.train.Y.numel(), Shape{hp.net.batch_size}, g);
    const LongTensor Xb = data.train.X[ix], Yb = data.train.Y[ix];
    const float loss = forward(m, Xb, Yb);
    backward(m);  // manual backprop! no graph, no autograd
    std::vector<double> diff;  // the optional check, before the update changes the parameters
    if (hp.check_every > 0 && i % hp.check_every == 0) diff = autograd_check(m, Xb, Yb);
    const double lr = i < hp.lr_decay_step ? hp.lr : hp.lr_decayed;  // step learning rate decay
    update(m, lr);
    std::string line;
    if (!diff.empty()) {
      line = "  autograd check at step " + std::to_string(i) + ", maxdiff:";
      nlohmann::json row = {{"step", i}};
      for (size_t k = 0; k < diff.size(); ++k) {
        char buf[48];
        std::snprintf(buf, sizeof buf, " %s %.3g", names[k], diff[k]);
        line += buf;
        row["maxdiff"][names[k]] = diff[k];
      }
      checks.push_back(row);
    }
    losses.push_back(loss);
    report.step(i, loss, {lr}, line);
  }
  report.stop();

  // calibrate the batch norm at the end of training, then evaluate train and val loss
  calibrate(m, data.train.X);
  const float train = split_loss(m, data.train.X, data.train.Y), val = split_loss(m, data.val.X, data.val.Y);
  std::cout << "train " << py_repr(train) << "\nval " << py_repr(val) << "\n";

  // sample from the model
  z2h::Generator sg(opt.seed + 10);
  const auto samples = z2h::sample_names([&](const LongTensor& x) { return logits_eval(m, x); }, hp.net.block_size,
                                         data.vocab, hp.samples, sg);
  for (const std::string& s : samples) std::cout << s << "\n";
  std::cout << report.speed() << "\n";

  if (!losses.empty()) plot_log10_loss(out / "loss.png", losses);
  report.summary.update({{"params", m.p.numel()},
                         {"params_ex1", ex123["params"]},
                         {"loss", {{"init", ex123["loss"]}, {"train", train}, {"val", val}}},
                         {"cmp", ex123["cmp"]},
                         {"ex2", ex123["ex2"]},
                         {"ex3", ex123["ex3"]},
                         {"autograd_checks", checks},
                         {"samples", samples}});
  report.write();
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{"05-backprop-ninja: the backward pass written by hand (lecture 5)"};
  z2h::CommonOptions opt{.stage = "05-backprop-ninja", .seed = 2147483647, .steps = 200000};
  Hyper hp;
  z2h::add_common_options(app, opt);
  app.get_option("--steps")->description("exercise 4: training steps on the hand-written gradients");
  z2h::Settings settings(app);
  declare(settings, hp, opt);
  z2h::add_max_len_option(app, z2h::max_name_length());
  return z2h::run_main(argc, argv, app, opt, [&] { return run(hp, opt, settings); });
}
