#pragma once
// 02-bigram/exercises.hpp — the video's exercises E01-E05, each a function that prints its
// section and returns its numbers (they go into summary.json under "exercises").
//
//   E01 trigram model: two characters in, the third out — as counts and as a net
//   E02 80/10/10 split: train on train, measure on dev and test (bigram and trigram)
//   E03 tune the trigram smoothing on dev (plot), then measure the best setting on test, once
//   E04 no one-hot: W[xs] instead of one_hot(xs) @ W — the same logits, the same training
//   E05 F.cross_entropy instead of exp / normalise / log / mean — the same loss, and why it is better
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "02-bigram/counts.hpp"
#include "02-bigram/net.hpp"
#include "common/app/cli.hpp"
#include "common/data/names_dataset.hpp"
#include "common/tensor/tensor.hpp"

namespace bigram {

// The lecture's settings, which the exercises reuse: 02-bigram/main.cpp's hyper-parameter block
// holds one (Hyper::lecture) and binds each field to its flag. An exercise also takes the run's
// own options: the seed, the bigram net's steps, quiet, and --out (where E03 writes its plot).
struct Config {
  double smoothing = 1.0;   // fake counts added to every cell of N: P = (N+1) / row sums
  int samples = 5;          // names sampled from each model
  double lr = 50.0;         // W.data += -50 * W.grad
  double reg = 0.01;        // loss += 0.01 * (W**2).mean(): the net's counterpart of smoothing
  int64_t tri_steps = 300;  // E01/E02: gradient steps for the trigram net (its rare rows learn slowly)
  double tri_lr = 50.0;     // E01/E02: its learning rate
};

// The smoothing strengths E03 tries: 10^(k/4) for k = -12..4, i.e. 0.001 ... 10, four per decade.
std::vector<double> sweep_alphas();

nlohmann::json e01_trigram(const std::vector<std::string>& words, const z2h::Vocab& vocab, const Config& cfg, const z2h::CommonOptions& opt);
nlohmann::json e02_split(const z2h::WordSplit& split, const z2h::Vocab& vocab, const Config& cfg, const z2h::CommonOptions& opt);
nlohmann::json e03_smoothing(const z2h::WordSplit& split, const z2h::Vocab& vocab, const z2h::CommonOptions& opt);
// E04 and E05 train the lecture's net again the other way and compare with the one-hot run:
// `onehot_losses` are its per-step losses, `W_onehot` its trained weights.
nlohmann::json e04_row_indexing(const Examples& ex, const std::vector<double>& onehot_losses,
                                const z2h::Tensor& W_onehot, const z2h::Vocab& vocab, const Config& cfg, const z2h::CommonOptions& opt);
nlohmann::json e05_cross_entropy(const Examples& ex, const std::vector<double>& onehot_losses,
                                 const z2h::Tensor& W_onehot, const z2h::Vocab& vocab, const Config& cfg, const z2h::CommonOptions& opt);

}  // namespace bigram
