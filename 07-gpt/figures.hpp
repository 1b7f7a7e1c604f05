#pragma once
// 07-gpt/figures.hpp — the stage's plots (PNG, common/plot/plot.hpp).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/tensor/tensor.hpp"

namespace stage07 {

// The training loss of every step (light) and the eval lines' train and val losses.
void plot_losses(const std::filesystem::path& png, const std::vector<float>& step_losses,
                 const std::map<int64_t, std::pair<float, float>>& evals, const std::string& title);

// A (T, T) matrix as a heatmap with its value in each cell (the trick's tril / wei matrices).
void plot_matrix(const std::filesystem::path& png, const z2h::Tensor& m, const std::string& title);

// An attention map (T, T) with the characters of the line on both axes: row t is the query at
// character t, column s the key at character s (a left column and a top row of labels).
void plot_attention(const std::filesystem::path& png, const z2h::Tensor& wei, const std::string& chars,
                    const std::string& title);

}  // namespace stage07
