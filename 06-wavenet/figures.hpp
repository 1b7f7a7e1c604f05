#pragma once
// 06-wavenet's figures: the smoothed loss curve, the model as a tree, activation histograms.
#include <filesystem>
#include <string>
#include <vector>

#include "common/nn/nn.hpp"

namespace stage06 {

// Cell 11: plt.plot(torch.tensor(lossi).view(-1, 1000).mean(1)) — lossi holds log10(loss), so each
// point is the mean log10 loss of `chunk` consecutive steps (200 points for 200000 steps). A last,
// shorter chunk is averaged over the steps it has. Returns the points.
std::vector<double> chunk_means_log10(const std::vector<float>& losses, int64_t chunk);
void plot_loss_chunks(const std::filesystem::path& png, const std::vector<float>& losses, int64_t chunk,
                      int64_t lr_decay_step, const std::string& title);

// The model as WaveNet's figure draws it: `context` characters at the bottom, fused two at a time
// by the hierarchical layers up to the output (one node per position of each layer's output).
// Works for flat models too (every character feeds one hidden layer).
std::string model_tree_dot(const z2h::nn::Sequential& model, const std::string& context, const std::string& target);
void plot_model_tree(const std::filesystem::path& png, const z2h::nn::Sequential& model, const std::string& context,
                     const std::string& target);

// Lecture 4's activation histograms for this model: a density curve of each Tanh layer's last
// output, with its mean, std and share of saturated (|t| > 0.97) values in the legend.
struct ActivationStats {
  int layer;
  double mean, std, saturated_percent;
};
std::vector<ActivationStats> activation_stats(const z2h::nn::Sequential& model);
void plot_activations(const std::filesystem::path& png, const z2h::nn::Sequential& model, const std::string& title);

}  // namespace stage06
