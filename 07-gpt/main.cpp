// 07-gpt — a character-level transformer on Tiny Shakespeare (lecture 7: gpt_dev.ipynb, ng-video-lecture).
//
//   07-gpt                          the Colab's finished model: 0.209729 M parameters, 5000 steps,
//                                   `step 0: train loss 4.4116, val loss 4.4022` ... then 2000 characters
//   07-gpt --config bigram          bigram.py: the (65, 65) table, 3000 steps, eval every 300
//   07-gpt --config cpu             a CPU-sized transformer (4 layers, 4 heads, 128 wide, block 64), 2 replicas
//   07-gpt --config gpt             gpt.py's 10.79 M model (checkpoint every eval, --resume)
//   07-gpt --config gpt --replicas 2 --batch-size 32   the same batch of 64 on 2 threads, one copy of the model each (Replicas)
//   07-gpt --config add --digits 2  exercise 2: a GPT that learns a+b=c, scored on held-out problems
//   07-gpt --mode lecture           the Colab's cells before the finished model, with their numbers
//   07-gpt --mode sample --load F   sample from a checkpoint (--temperature, --top-k, --prompt)
//   mpirun -np 2 07-gpt --config gpt  data-parallel training on 2 processes (distributed.hpp, docs/mpi.md)
//
// Every run writes into --out (default out/07-gpt/): metrics.csv (step,loss), summary.json, the
// plots, and a checkpoint (model.safetensors) at every evaluation.
#include "addition.hpp"
#include "distributed.hpp"
#include "figures.hpp"
#include "gpt.hpp"
#include "lecture.hpp"

#include "common/tensor/blas.hpp"
#include "common/nn/checkpoint.hpp"
#include "common/app/cli.hpp"
#include "common/app/error.hpp"
#include "common/rng/generator.hpp"
#include "common/tensor/ops.hpp"
#include "common/tensor/parallel.hpp"
#include "common/nn/optim.hpp"
#include "common/io/output.hpp"
#include "common/app/run_report.hpp"
#include "common/app/settings.hpp"
#include "common/io/safetensors.hpp"
#include "common/data/text_data.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>
#include <functional>
#include <span>
#include <stdexcept>
#include <filesystem>
#include <iostream>
#include <cmath>
#include <map>
#include <numbers>
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
  Config model;                  // block_size, n_embd, n_head, n_layer, dropout, ... (gpt.hpp): the Colab's
  int64_t eval_interval = 100;
  double learning_rate = 1e-3;
  bool cosine = false;           // exercise 4 (nanoGPT's schedule): warm-up, then cosine decay to lr / 10
  int64_t warmup = 0;            // warm-up iterations of the cosine schedule
  int64_t eval_iters = 200;
  int64_t gen = 2000;            // characters generated at the end
  float temperature = 1.0f;
  int64_t top_k = 0;
  std::string prompt{};          // "" = the script's zeros((1, 1)), a newline
  std::string load{}, resume{};
  int64_t digits = 2;            // --config add: a, b < 10^digits
  int64_t grad_accum = 1;        // micro-batches per step (gradient accumulation)
  int64_t replicas = 1;          // data-parallel copies of the model, one thread each (Replicas)
};

// --config: each script's settings, as the fields that differ from the Colab's above (and
// max_iters, --steps). The flags are declared with the chosen config's values as their defaults,
// so a flag on the command line overrides one setting of it and --help shows the config's values.
struct Preset {
  int64_t max_iters;
  Hyper hp;
};
const std::map<std::string, Preset> kPresets = {
    // the Colab's "full finished code": the video's gpt.py at 0.21 M parameters
    {"colab", {5000, {}}},
    // bigram.py
    {"bigram", {3000, {.batch_size = 32, .model = {.block_size = 8, .n_embd = 0, .n_head = 0, .n_layer = 0}, .eval_interval = 300,
                       .learning_rate = 1e-2, .gen = 500}}},
    // between the two: a CPU-sized transformer (4 layers, 4 heads, 128 wide, block 64) with exercise
    // 4's cosine schedule, trained as 2 replicas of 16 rows (a batch of 32, on 2 threads): val ≈ 1.59
    // after its 2500 steps, in ≈ 4.3 minutes on 2 cores
    {"cpu", {2500, {.batch_size = 16,
                    .model = {.block_size = 64, .n_embd = 128, .scale = Scale::HeadSize, .init = Init::Gpt},
                    .eval_interval = 500, .learning_rate = 2e-3, .cosine = true, .warmup = 100, .eval_iters = 50,
                    .gen = 500, .replicas = 2}}},
    // gpt.py at HEAD: 10.79 M parameters
    {"gpt", {5000, {.batch_size = 64,
                    .model = {.block_size = 256, .n_embd = 384, .n_head = 6, .n_layer = 6, .dropout = 0.2,
                              .scale = Scale::HeadSize, .init = Init::Gpt},
                    .eval_interval = 500, .learning_rate = 3e-4, .gen = 500}}},
    // exercise 2: a+b=c (the block is the problem's length, 3 * digits + 2)
    {"add", {1500, {.batch_size = 64, .model = {.n_layer = 2, .scale = Scale::HeadSize, .init = Init::Gpt},
                    .eval_interval = 250, .eval_iters = 20, .gen = 0}}},
};

// The --config the command line names, read before the flags are declared (they take its values
// as their defaults). An unknown name reads as the Colab's; the real parse then reports it.
const Preset& preset_named_in(int argc, char** argv) {
  CLI::App first;
  first.allow_extras();
  first.set_help_flag();
  std::string name = "colab";
  first.add_option("--config", name);
  try {
    first.parse(argc, argv);
  } catch (const CLI::ParseError&) {
  }
  const auto it = kPresets.find(name);
  return it == kPresets.end() ? kPresets.at("colab") : it->second;
}

// Every setting as a flag (and as summary.json's "config"), each named once: here.
void declare(z2h::Settings& s, Hyper& hp, z2h::CommonOptions& opt) {
  Config& model = hp.model;
  s.record("max_iters", opt.steps);
  s.record("seed", opt.seed);
  s.record("threads", opt.threads);
  s.option("--mode", hp.mode, "train | lecture (the Colab's cells) | sample (from --load)")
      ->check(CLI::IsMember({"train", "lecture", "sample"}));
  s.option("--config", hp.config,
           "colab (the Colab's finished model) | bigram (bigram.py) | cpu | gpt (gpt.py) | add (exercise 2: a+b=c); "
           "its settings are the other flags' defaults")
      ->check(CLI::IsMember({"colab", "bigram", "cpu", "gpt", "add"}));
  s.option("--digits", hp.digits, "--config add: a and b have up to this many digits (1 to 3)")->check(z2h::between(1, 3));
  s.option("--batch-size", hp.batch_size, "sequences per batch")->check(z2h::in_range(1, 1024));
  s.option("--block-size", model.block_size, "context length")->check(z2h::in_range(1, 1024));
  s.option("--eval-interval", hp.eval_interval, "iterations between evaluations")->check(z2h::at_least(1));
  s.option("--eval-iters", hp.eval_iters, "batches per split in each evaluation")->check(z2h::at_least(1));
  s.option("--lr", hp.learning_rate, "AdamW learning rate", "learning_rate")->check(z2h::positive());
  s.choice("--lr-schedule", hp.cosine, {{"constant", false}, {"cosine", true}},
           "constant (the lecture) | cosine (exercise 4: linear warm-up, then cosine decay to lr/10 at the last step)");
  s.option("--warmup", hp.warmup, "--lr-schedule cosine: warm-up iterations")->check(z2h::at_least(0));
  s.option("--n-embd", model.n_embd, "embedding width (0: bigram.py's table)")->check(z2h::in_range(0, 1024));
  s.option("--n-head", model.n_head, "attention heads per block")->check(z2h::in_range(1, 64));
  s.option("--n-layer", model.n_layer, "blocks")->check(z2h::in_range(1, 64));
  s.option("--dropout", model.dropout, "dropout probability")->check(z2h::between(0, 0.99));
  s.choice("--scale", model.scale, {{"n_embd", Scale::NEmbd}, {"head", Scale::HeadSize}},
           "attention scale: n_embd (C**-0.5, the Colab) | head (head_size**-0.5, gpt.py)");
  s.choice("--init", model.init, {{"torch", Init::Torch}, {"gpt", Init::Gpt}},
           "torch (PyTorch's default inits) | gpt (gpt.py's _init_weights)");
  s.choice("--attention", model.attention, {{"batched", Attention::Batched}, {"per-head", Attention::PerHead}},
           "batched (all heads in one kernel) | per-head (gpt.py's Head modules)");
  s.choice("--activation", model.gelu, {{"relu", false}, {"gelu", true}},
           "feed-forward non-linearity: relu (the lecture) | gelu (exercise 4, GPT-2's)");
  s.option("--gen", hp.gen, "characters to generate")->check(z2h::in_range(0, 10000000));
  s.option("--temperature", hp.temperature, "sampling temperature")->check(z2h::positive());
  s.option("--top-k", hp.top_k, "sample among the k likeliest characters (0: all)")->check(z2h::at_least(0));
  s.option("--prompt", hp.prompt, "mode sample: text to continue (default: a newline)");
  s.option("--load", hp.load, "mode sample: the checkpoint to sample from")->check(CLI::ExistingFile);
  s.option("--resume", hp.resume, "continue training from a checkpoint a run wrote")->check(CLI::ExistingFile);
  s.option("--grad-accum", hp.grad_accum,
           "micro-batches of --batch-size per step, their gradients averaged (gradient accumulation)")
      ->check(z2h::at_least(1));
  s.option("--replicas", hp.replicas,
           "data-parallel training on this many threads, one copy of the model each, each on --batch-size rows of every "
           "batch (mpirun -np N's numbers, in one process)")
      ->check(z2h::in_range(1, 64));
}

// The model these settings describe, for a vocabulary of vocab_size tokens.
Config model_config(const Hyper& hp, int64_t vocab_size) {
  Config cfg = hp.model;
  cfg.vocab_size = vocab_size;
  return cfg;
}

// The learning rate of iteration `it` of `steps`: --lr, or with --lr-schedule cosine nanoGPT's
// get_lr(): a linear warm-up to --lr, then half a cosine down to --lr / 10 at the last iteration.
double lr_at(const Hyper& hp, int64_t it, int64_t steps) {
  if (!hp.cosine) return hp.learning_rate;
  if (it < hp.warmup) return hp.learning_rate * static_cast<double>(it + 1) / static_cast<double>(hp.warmup);
  const double min_lr = hp.learning_rate / 10;
  const double progress = static_cast<double>(it - hp.warmup) / static_cast<double>(std::max<int64_t>(1, steps - 1 - hp.warmup));
  return min_lr + 0.5 * (1.0 + std::cos(std::numbers::pi * std::min(1.0, progress))) * (hp.learning_rate - min_lr);
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

// The checkpoint's record of the model's shape: these settings as summary.json's "config" has them.
z2h::Metadata model_metadata(const z2h::Settings& settings, const std::string& vocab) {
  z2h::Metadata meta{{"stage", "07-gpt"}, {"vocab", vocab}};
  const nlohmann::json config = settings.json();
  for (const char* key : {"block_size", "n_embd", "n_head", "n_layer", "scale", "init"})
    meta[key] = config[key].is_string() ? config[key].get<std::string>() : config[key].dump();
  return meta;
}

void check_model_metadata(const std::string& path, const z2h::Settings& settings, const std::string& vocab) {
  const z2h::Metadata meta = z2h::load_safetensors(path).metadata;
  for (const auto& [key, want] : model_metadata(settings, vocab)) {
    if (key == "init") continue;  // the init does not change the shapes
    const auto it = meta.find(key);
    if (it == meta.end() || it->second != want)
      throw z2h::UserError("checkpoint '" + path + "' has " + key + " = " + (it == meta.end() ? "(none)" : z2h::quote(it->second)) +
                           ", this run " + want + " (pass the --config or sizes it was trained with)");
  }
}

// ================================================================================================
// data parallel (distributed.hpp): the same run on several processes, each a share of every batch
// ================================================================================================
// An error that every rank met at the same point (so each can end normally, rank 0 printing it).
struct SharedError : z2h::UserError {
  using z2h::UserError::UserError;
};

// Runs `setup` — what can fail on one rank alone: its data file, rank 0's --out and --resume — on
// every rank; if it failed on any, every rank throws that rank's message before the ranks talk.
template <typename F>
void on_every_rank(F&& setup) {
  std::string error;
  try {
    setup();
  } catch (const z2h::UserError& e) {
    error = e.what();
  }
  if (const std::string first = dist::first_error(error); !first.empty()) throw SharedError(first);
}

// Once the ranks talk, an error on one of them must end them all: the others would wait for it
// forever. One line on stderr, then MPI_Abort (docs/mpi.md shows what mpirun adds).
int run_ranks(const std::function<int()>& body) {
  if (dist::size() == 1) return body();
  try {
    return body();
  } catch (const SharedError&) {
    throw;
  } catch (const z2h::UserError& e) {
    dist::abort(e.what(), 2);
  } catch (const std::exception& e) {
    dist::abort(std::string("internal: ") + e.what(), 1);
  }
}

// Rows [r * B, (r + 1) * B) of a batch: rank (or replica) r's share.
Batch share_of(const Batch& all, int64_t B, int64_t r) {
  return {all.x.slice(0, r * B, (r + 1) * B), all.y.slice(0, r * B, (r + 1) * B)};
}

// This rank's rows of the batch. Every rank draws the offsets of the whole batch, size() * B rows,
// from the same generator g (exactly what one process with batch size() * B draws) and keeps rows
// [rank * B, (rank + 1) * B): N ranks see the data one process sees, and g is the same on all.
Batch rank_batch(const LongTensor& data, int64_t B, int64_t T, Generator& g) {
  if (dist::size() == 1) return get_batch(data, B, T, g);
  return share_of(get_batch(data, B * dist::size(), T, g), B, dist::rank());
}

// The seed of the generator rank (or replica) r draws dropout's masks from, in a run of several that
// starts at step `start`: each its own stream, and another one after a resume.
uint64_t dropout_seed(uint64_t seed, int64_t start, int r) {
  return seed + 1000 * static_cast<uint64_t>(start) + static_cast<uint64_t>(r) + 1;
}

// estimate_loss() on the batches the run trains on: each of the eval_iters batches is K micro-
// batches of size() * batch_size rows (rank_batch), each rank computing the losses of its rows; a
// batch's loss is the mean of its micro-batches' losses over all ranks, and the mean over the
// batches is torch's. One process with K = 1 calls estimate_loss() itself (the lecture's).
Evaluation estimate_loss_of_steps(Gpt& model, const Split& data, const Hyper& hp, Generator& g) {
  z2h::NoGradGuard no_grad;
  const Mode m{false, &g};  // model.eval()
  const int64_t K = hp.grad_accum;
  Evaluation e;
  for (int split = 0; split < 2; ++split) {
    Tensor losses = z2h::zeros({hp.eval_iters});
    float* l = losses.data();
    for (int64_t k = 0; k < hp.eval_iters; ++k)
      for (int64_t micro = 0; micro < K; ++micro) {
        const Batch b = rank_batch(split == 0 ? data.train : data.val, hp.batch_size, hp.model.block_size, g);
        l[k] += model.forward(b.x, &b.y, m).loss.item();
      }
    dist::allreduce_sum({l, static_cast<size_t>(hp.eval_iters)});
    for (int64_t k = 0; k < hp.eval_iters; ++k) l[k] /= static_cast<float>(K * dist::size());
    (split == 0 ? e.train : e.val) = z2h::mean(losses).item();
  }
  return e;
}

// One step's gradient on this rank: K = --grad-accum micro-batches of batch_size rows, each loss
// scaled by 1/K. Each micro-batch's gradient is added to the sum of the ones before it, as PyTorch's
// AccumulateGrad adds a new gradient to the one a parameter holds. Returns the sum of the K losses.
// The micro-batches come from next_batch(), one call each, in order.
float accumulate_gradients(Gpt& model, const Hyper& hp, const std::function<Batch()>& next_batch, const Mode& m) {
  const int64_t K = hp.grad_accum;
  std::vector<Tensor> params = model.parameters();
  std::vector<Tensor> sum;  // the gradients of the micro-batches so far
  float loss_sum = 0;
  for (int64_t k = 0; k < K; ++k) {
    for (Tensor& p : params) p.zero_grad();
    const Batch b = next_batch();
    Tensor loss = model.forward(b.x, &b.y, m).loss;
    loss_sum += loss.item();
    if (K == 1) {
      loss.backward();
      return loss_sum;
    }
    (loss * (1.0f / static_cast<float>(K))).backward();
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor grad = params[i].grad();
      if (k == 0) {
        sum.push_back(grad);  // zero_grad() lets go of it, the sum keeps it
        continue;
      }
      float* s = sum[i].data();
      const float* d = grad.data();
      for (int64_t j = 0; j < grad.numel(); ++j) s[j] += d[j];
    }
  }
  for (size_t i = 0; i < params.size(); ++i) std::copy_n(sum[i].data(), sum[i].numel(), params[i].grad().data());
  return loss_sum;
}

// Every parameter's gradient, averaged over the ranks (before every AdamW step).
void average_gradients(const Gpt& model) {
  std::vector<std::span<float>> grads;
  for (const Tensor& p : model.parameters()) {
    Tensor g = p.grad();
    if (!g.defined()) throw std::logic_error("a parameter received no gradient");
    grads.emplace_back(g.data(), static_cast<size_t>(g.numel()));
  }
  dist::allreduce_average(grads);
}

// FNV-1a over the parameters' float32 words: equal on every rank when the weights are.
uint64_t weights_fnv1a(const Gpt& model) {
  uint64_t h = 14695981039346656037ull;
  for (const Tensor& p : model.parameters()) {
    const float* x = p.data();
    for (int64_t i = 0; i < p.numel(); ++i) {
      uint32_t w = 0;
      std::memcpy(&w, x + i, sizeof w);
      h = (h ^ w) * 1099511628211ull;
    }
  }
  return h;
}

std::string hex(uint64_t x) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

// ================================================================================================
// replicas (--replicas R): the same data parallelism on R threads of one process
// ================================================================================================
// Replica 0 is the model; replicas 1 .. R-1 are copies of it. Each step, thread r runs replica r on
// rows [r * B, (r + 1) * B) of the batch of R * B rows drawn from g, its dropout masks drawn from a
// generator of its own seeded as rank r's; then replica 0's gradient becomes the mean of the R
// gradients (summed in replica order), AdamW steps replica 0, and the others copy its weights.
// That is what `mpirun -np R` computes, in one process: for R = 2 bit for bit (a sum of two has one
// order; MPI's sum of more may take another). Each thread keeps to its own replica's tensors (a
// Tensor handle's count is a plain int: threads must not share handles); every kernel called from a
// replica's thread computes alone (z2h::parallel::in_part), and OpenBLAS runs on one thread (--replicas
// takes --threads 1).
class Replicas {
 public:
  Replicas(Gpt& model, int count, uint64_t seed, int64_t start) : model_(model) {
    Generator scratch(0);  // the copies' initial weights are overwritten at once
    for (int r = 0; r < count; ++r) {
      if (r > 0) copies_.push_back(std::make_unique<Gpt>(model.cfg, scratch));
      dropout_.emplace_back(dropout_seed(seed, start, r));
    }
    copy_weights();
  }
  int size() const { return static_cast<int>(dropout_.size()); }

  // One step's gradient, left in replica 0's parameters: the K micro-batches of R * B rows each,
  // drawn from g in the order of one process's K batches of R * B rows. Returns the sum of the R * K
  // micro-batch losses, in replica order.
  float gradients(const Hyper& hp, const LongTensor& train_data, Generator& g) {
    const std::vector<std::vector<Batch>> rows = draw(train_data, hp, hp.grad_accum, g);
    std::vector<float> sums(dropout_.size());
    run([&](int r) {
      size_t k = 0;
      sums[r] = accumulate_gradients(replica(r), hp, [&] { return rows[r][k++]; }, Mode{true, &dropout_[r]});
    });
    average_gradients();
    float all = 0;
    for (float x : sums) all += x;
    return all;
  }

  // estimate_loss_of_steps() on R threads: every batch drawn first, then each replica computes the
  // losses of its rows of all of them; batch k's loss is the sum over the replicas, in replica
  // order, of their micro-batches' losses, over R * K.
  Evaluation estimate_loss(const Split& data, const Hyper& hp, Generator& g) {
    const int64_t K = hp.grad_accum, R = size();
    Evaluation e;
    for (int split = 0; split < 2; ++split) {
      const std::vector<std::vector<Batch>> rows = draw(split == 0 ? data.train : data.val, hp, hp.eval_iters * K, g);
      std::vector<std::vector<float>> sums(dropout_.size(), std::vector<float>(static_cast<size_t>(hp.eval_iters), 0.0f));
      run([&](int r) {
        z2h::NoGradGuard no_grad;  // (grad mode is per thread)
        const Mode m{false, &dropout_[r]};  // model.eval()
        for (size_t i = 0; i < rows[r].size(); ++i)
          sums[r][i / static_cast<size_t>(K)] += replica(r).forward(rows[r][i].x, &rows[r][i].y, m).loss.item();
      });
      Tensor losses = z2h::zeros({hp.eval_iters});
      float* l = losses.data();
      for (int64_t k = 0; k < hp.eval_iters; ++k) {
        for (const std::vector<float>& s : sums) l[k] += s[static_cast<size_t>(k)];
        l[k] /= static_cast<float>(K * R);
      }
      (split == 0 ? e.train : e.val) = z2h::mean(losses).item();
    }
    return e;
  }

  // Replica 0's weights into the others (after each AdamW step), one thread per replica.
  void copy_weights() {
    const std::vector<std::vector<float*>> w = pointers([](const Tensor& t) { return t.data(); });
    const std::vector<Tensor> params = model_.parameters();
    run([&](int r) {
      if (r == 0) return;
      for (size_t i = 0; i < params.size(); ++i) std::copy_n(w[0][i], params[i].numel(), w[static_cast<size_t>(r)][i]);
    });
  }

  // Each replica's weights_fnv1a(), in replica order.
  std::vector<uint64_t> hashes() {
    std::vector<uint64_t> h;
    for (int r = 0; r < size(); ++r) h.push_back(weights_fnv1a(replica(r)));
    return h;
  }

 private:
  Gpt& replica(int r) { return r == 0 ? model_ : *copies_[static_cast<size_t>(r - 1)]; }

  // n batches of R * B rows from `data`, cut into each replica's rows: result[r][i] is batch i's.
  std::vector<std::vector<Batch>> draw(const LongTensor& data, const Hyper& hp, int64_t n, Generator& g) const {
    const int64_t B = hp.batch_size;
    std::vector<std::vector<Batch>> rows(dropout_.size());
    for (int64_t i = 0; i < n; ++i) {
      const Batch all = get_batch(data, B * size(), hp.model.block_size, g);
      for (int64_t r = 0; r < size(); ++r) rows[static_cast<size_t>(r)].push_back(share_of(all, B, r));
    }
    return rows;
  }

  // Replica 0's gradient = the mean of the replicas' (the sum in replica order, times 1/R, as
  // dist::allreduce_average), its elements shared among the replicas' threads.
  void average_gradients() {
    const std::vector<std::vector<float*>> grads = pointers([](const Tensor& t) {
      const Tensor g = t.grad();
      if (!g.defined()) throw std::logic_error("a parameter received no gradient");
      return g.data();
    });
    std::vector<int64_t> sizes;
    for (const Tensor& p : model_.parameters()) sizes.push_back(p.numel());
    const float scale = 1.0f / static_cast<float>(size());
    run([&](int part) {
      for (size_t i = 0; i < sizes.size(); ++i) {
        long begin, end;
        z2h::parallel::share(static_cast<long>(sizes[i]), size(), part, 16, begin, end);
        float* mean = grads[0][i];
        for (long j = begin; j < end; ++j) {
          float sum = mean[j];
          for (size_t r = 1; r < grads.size(); ++r) sum += grads[r][i][j];
          mean[j] = sum * scale;
        }
      }
    });
  }

  // f(parameter) for every parameter of every replica, taken here, on the calling thread.
  template <class F>
  std::vector<std::vector<float*>> pointers(F&& f) {
    std::vector<std::vector<float*>> p;
    for (int r = 0; r < size(); ++r) {
      p.emplace_back();
      for (const Tensor& t : replica(r).parameters()) p.back().push_back(f(t));
    }
    return p;
  }

  // part(r) for every replica r, each on a thread of its own; an exception of any part is thrown
  // here, on the calling thread, once all have ended.
  void run(const std::function<void(int)>& part) {
    std::vector<std::exception_ptr> errors(dropout_.size());
    z2h::parallel::run(size(), [&](int r) {
      try {
        part(r);
      } catch (...) {
        errors[static_cast<size_t>(r)] = std::current_exception();
      }
    });
    for (const std::exception_ptr& e : errors)
      if (e) std::rethrow_exception(e);
  }

  Gpt& model_;
  std::vector<std::unique_ptr<Gpt>> copies_;
  std::vector<Generator> dropout_;  // each replica's dropout stream
};

// ================================================================================================
// mode train
// ================================================================================================
int run_train(const Hyper& hp, const z2h::CommonOptions& opt, const z2h::Settings& settings) {
  const int rank = dist::rank(), ranks = dist::size();
  fs::path out = opt.out;
  std::string text;
  on_every_rank([&] {
    if (rank == 0) out = z2h::prepare_out_dir(opt.out);  // rank 0 alone writes files
    text = z2h::read_text(z2h::data_file(opt, "tinyshakespeare.txt"));
  });
  z2h::RunReport report(opt, settings, out);
  const z2h::Vocab vocab = z2h::Vocab::from_text(text);
  const Split data = split_data(vocab.encode(text));
  on_every_rank([&] {  // a text too short for one block fails here, not in the ranks' first batch
    Generator probe;
    get_batch(data.train, 1, hp.model.block_size, probe);
    get_batch(data.val, 1, hp.model.block_size, probe);
  });

  // torch.manual_seed(1337): every draw below comes from g, in the script's order
  Generator g(opt.seed);
  Gpt model(model_config(hp, vocab.size()), g);
  if (hp.model.n_embd > 0) {  // print(sum(...) / 1e6, 'M parameters'): Python's shortest repr of the double
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
    std::string step_text, rng_text;
    on_every_rank([&] {  // rank 0 reads the checkpoint; the others need no access to it
      if (rank != 0) return;
      check_model_metadata(hp.resume, settings, vocab.chars());
      const z2h::Metadata meta = z2h::load_checkpoint(hp.resume, training_state(model, optimizer));
      const auto step = meta.find("step"), rng = meta.find("generator");
      if (step == meta.end() || rng == meta.end())
        throw z2h::UserError("checkpoint '" + hp.resume + "' has no step or generator state: resume from a model.safetensors a training run wrote");
      int64_t at = -1;
      const std::string& text = step->second;
      if (std::from_chars(text.data(), text.data() + text.size(), at).ptr != text.data() + text.size() || at < 0)
        throw z2h::UserError("checkpoint '" + hp.resume + "' has step = " + z2h::quote(text) +
                             ", not a step number: resume from a model.safetensors a training run wrote");
      if (at >= opt.steps)
        throw z2h::UserError("checkpoint '" + hp.resume + "' is at step " + text + ": pass --steps above it");
      try {
        Generator::parse_state(rng->second);
      } catch (const std::invalid_argument& e) {
        throw z2h::UserError("checkpoint '" + hp.resume + "': " + e.what());
      }
      step_text = step->second;
      rng_text = rng->second;
    });
    dist::broadcast(step_text);
    dist::broadcast(rng_text);
    start = std::stoll(step_text);
    optimizer.step_count = start;
    // the generator as it was at that step, before the evaluation: the run continues exactly as if
    // it had never stopped (it evaluates again at `start` if that is an evaluation step)
    g.set_state(Generator::parse_state(rng_text));
    std::printf("resumed from %s at step %lld\n", hp.resume.c_str(), static_cast<long long>(start));
  }
  // every rank starts from rank 0's numbers (the same init everywhere anyway, or the checkpoint's)
  for (auto& [name, t] : training_state(model, optimizer)) dist::broadcast({t.data(), static_cast<size_t>(t.numel())});

  // One process draws dropout's masks from g. Several draw them from a generator of each rank's own,
  // seeded with seed + 1000 * start + rank + 1, and keep g, the batches' stream, the same on all.
  Generator rank_g(dropout_seed(opt.seed, start, rank));
  const Mode train{true, ranks == 1 ? &g : &rank_g};
  Replicas replicas(model, static_cast<int>(hp.replicas), opt.seed, start);  // --replicas: R - 1 copies
  const int R = replicas.size();
  dist::last_words("error: the job was stopped (a rank ended, or mpirun was interrupted) before its first checkpoint");
  const bool is_bigram = hp.model.n_embd == 0;
  const int64_t K = hp.grad_accum;
  report.start(opt.steps - start, {"step", "loss"}, "train", {.every = 0});
  double eval_s = 0;
  const std::clock_t cpu0 = std::clock();
  for (int64_t it = start; it < opt.steps; ++it) {
    // every once in a while evaluate the loss on train and val sets (and at the last step: gpt.py)
    if (it % hp.eval_interval == 0 || (!is_bigram && it == opt.steps - 1)) {
      const Generator::State before_eval = g.state();  // what a resumed run restores
      z2h::Stopwatch ec;
      const Evaluation e = R > 1                    ? replicas.estimate_loss(data, hp, g)
                           : ranks == 1 && K == 1 ? estimate_loss(model, data, hp.batch_size, hp.eval_iters, g)
                                                  : estimate_loss_of_steps(model, data, hp, g);
      eval_s += ec.seconds();
      report.println(eval_line(it, e));
      evals[it] = {e.train, e.val};
      eval_json[std::to_string(it)] = {{"train", e.train}, {"val", e.val}};
      const std::vector<uint64_t> h = R > 1 ? replicas.hashes() : dist::allgather(weights_fnv1a(model));
      if (std::count(h.begin(), h.end(), h[0]) != static_cast<std::ptrdiff_t>(h.size()))
        throw std::logic_error("the ranks' (replicas') weights differ at step " + std::to_string(it));
      if (rank == 0) {
        z2h::Metadata meta = model_metadata(settings, vocab.chars());
        meta["step"] = std::to_string(it);
        meta["generator"] = Generator::encode_state(before_eval);
        z2h::save_checkpoint(out / "model.safetensors", training_state(model, optimizer), meta);
        const std::string ckpt = (out / "model.safetensors").string();
        dist::last_words("error: the job was stopped (a rank ended, or mpirun was interrupted); its last checkpoint, " + ckpt +
                         " (step " + std::to_string(it) + "), continues it: add --resume " + ckpt);
      }
    }
    float all_losses = 0;
    if (R > 1) {
      all_losses = replicas.gradients(hp, data.train, g);
    } else {
      all_losses = accumulate_gradients(model, hp, [&] { return rank_batch(data.train, hp.batch_size, hp.model.block_size, g); }, train);
      average_gradients(model);
      dist::allreduce_sum({&all_losses, 1});
    }
    optimizer.lr = lr_at(hp, it, opt.steps);
    optimizer.step();
    if (R > 1) replicas.copy_weights();
    const float step_loss = all_losses / static_cast<float>(K * ranks * R);  // the mean over every row of the step
    losses.push_back(step_loss);
    report.step(it, step_loss);
  }
  const double wall = report.stop();
  const double cpu_s = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  // what every rank holds at the end (the same weights) and the CPU time its training took
  const std::vector<uint64_t> hashes = R > 1 ? replicas.hashes() : dist::allgather(weights_fnv1a(model));
  const std::vector<double> rank_cpu_s = dist::allgather(cpu_s);
  if (rank != 0) return 0;

  // generate from the model: context = zeros((1, 1)), a newline
  const LongTensor ctx({0}, {1, 1});
  const LongTensor idx = model.generate(ctx, hp.gen, g, hp.temperature, hp.top_k);
  const std::string sample = vocab.decode(std::vector<int>(idx.data.begin(), idx.data.end()));
  std::cout << sample << "\n";
  const int64_t steps = opt.steps - start;
  const int64_t global_batch = hp.batch_size * K * ranks * R;
  const double tokens_per_s = wall > 0 ? static_cast<double>(steps * global_batch * hp.model.block_size) / wall : 0.0;
  char more[96] = "";  // one process without accumulation: nothing, as the lecture's run prints
  if (ranks > 1)
    std::snprintf(more, sizeof more, ", %d ranks (all-reduce %.1f s), global batch %lld", ranks, dist::allreduce_seconds(),
                  static_cast<long long>(global_batch));
  else if (R > 1)
    std::snprintf(more, sizeof more, ", %d replicas, global batch %lld", R, static_cast<long long>(global_batch));
  else if (K > 1)
    std::snprintf(more, sizeof more, ", global batch %lld", static_cast<long long>(global_batch));
  std::printf("%lld steps in %.1f s (%.1f steps/s, %.0f tokens/s, evaluations %.1f s), %d thread(s)%s, BLAS kernel %s\n",
              static_cast<long long>(steps), wall, static_cast<double>(steps) / std::max(wall, 1e-9), tokens_per_s, eval_s,
              opt.threads, more, z2h::blas::core_name().c_str());

  // ---- plots and files ----
  if (!losses.empty() || !evals.empty())
    plot_losses(out / "loss.png", losses, evals, "07-gpt --config " + hp.config + ": loss");
  if (!is_bigram) {
    // the last layer's attention on the first 32 generated characters, head by head
    const int64_t T = std::min<int64_t>(hp.model.block_size, std::min<int64_t>(idx.numel(), 32));
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
                         {"tokens_per_s", tokens_per_s}, {"blas_core", z2h::blas::core_name()},
                         {"ranks", ranks}, {"replicas", R}, {"global_batch", global_batch}, {"allreduce_s", dist::allreduce_seconds()},
                         {"rank_train_cpu_s", rank_cpu_s}, {"weights_fnv1a", nlohmann::json::array()}});
  for (uint64_t h : hashes) report.summary["weights_fnv1a"].push_back(hex(h));
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
  hp.model.block_size = data.length() - 1;  // the whole problem but its last token
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
int run_sample(const Hyper& hp, const z2h::CommonOptions& opt, const z2h::Settings& settings) {
  const std::string text = z2h::read_text(z2h::data_file(opt, "tinyshakespeare.txt"));
  const z2h::Vocab vocab = z2h::Vocab::from_text(text);
  if (hp.load.empty()) throw z2h::UserError("--mode sample needs --load CHECKPOINT (a model.safetensors a run wrote)");
  check_model_metadata(hp.load, settings, vocab.chars());
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
  const dist::Session mpi(argc, argv);  // under mpirun: MPI_Init, and this process's rank
  CLI::App app{"07-gpt: a character-level transformer on Tiny Shakespeare (lecture 7)"};
  const Preset& preset = preset_named_in(argc, argv);  // --config's settings are the flags' defaults
  z2h::CommonOptions opt{.stage = "07-gpt", .seed = 1337, .steps = preset.max_iters};
  Hyper hp = preset.hp;
  z2h::add_common_options(app, opt);
  app.get_option("--steps")->description("training iterations (max_iters; the --config's by default)");
  z2h::Settings settings(app);
  declare(settings, hp, opt);
  bool sample_only = false;
  app.add_flag("--sample-only", sample_only, "the same as --mode sample");
  return z2h::run_main(argc, argv, app, opt, [&] {
    if (sample_only) hp.mode = "sample";
    if (hp.model.n_embd > 0 && hp.model.n_embd % hp.model.n_head != 0)
      throw z2h::UserError(settings.flag_of(hp.model.n_embd) + " " + std::to_string(hp.model.n_embd) + " is not a multiple of " +
                           settings.flag_of(hp.model.n_head) + " " + std::to_string(hp.model.n_head));
    if (dist::size() > 1 && (hp.config == "add" || hp.mode != "train"))
      throw z2h::UserError("only the training of --config colab, bigram, cpu or gpt runs on several processes: start this one without mpirun");
    if (hp.replicas > 1 && !settings.given(hp.replicas) && (dist::size() > 1 || hp.config == "add" || hp.mode != "train"))
      hp.replicas = 1;  // a config's replicas: under mpirun each rank is one; sampling has none
    if (hp.replicas > 1) {
      const std::string r = settings.flag_of(hp.replicas) + " " + std::to_string(hp.replicas);
      if (dist::size() > 1) throw z2h::UserError(r + " under mpirun: each rank is one replica already; pass --replicas 1");
      if (hp.config == "add" || hp.mode != "train")
        throw z2h::UserError(r + " is for training --config colab, bigram, cpu or gpt: pass --replicas 1");
      if (opt.threads > 1)
        throw z2h::UserError(r + " computes each replica on one thread of its own: drop --threads, or pass --replicas 1 --batch-size " +
                             std::to_string(hp.replicas * hp.batch_size) + " to share one model's work among --threads " +
                             std::to_string(opt.threads));
    }
    if (hp.config == "add") {
      if (hp.mode != "train" || !hp.resume.empty() || settings.given(hp.model.block_size))
        throw z2h::UserError("--config add trains from scratch on problems of 3 * digits + 2 tokens: drop " +
                             settings.flag_of(hp.mode) + ", " + settings.flag_of(hp.resume) + " and " +
                             settings.flag_of(hp.model.block_size));
      if (settings.given(hp.grad_accum)) throw z2h::UserError(settings.flag_of(hp.grad_accum) + " is for the text models, not --config add");
      return run_add(hp, opt, settings);
    }
    if (settings.given(hp.digits)) throw z2h::UserError(settings.flag_of(hp.digits) + " is for --config add");
    if (hp.mode == "lecture") return run_lecture(opt);
    if (hp.mode == "sample") return run_sample(hp, opt, settings);
    return run_ranks([&] { return run_train(hp, opt, settings); });
  });
}
