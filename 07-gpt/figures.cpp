// 07-gpt/figures.cpp — loss curves and attention heatmaps.
#include "figures.hpp"

#include <cstdio>

#include "common/plot/plot.hpp"

namespace stage07 {

namespace plot = z2h::plot;

void plot_losses(const std::filesystem::path& png, const std::vector<float>& step_losses,
                 const std::map<int64_t, std::pair<float, float>>& evals, const std::string& title) {
  plot::Line steps{.y = std::vector<double>(step_losses.begin(), step_losses.end()), .label = "minibatch loss", .color = "#c7d7ea"};
  plot::Line train{.label = "train (eval)", .color = "#1f77b4"}, val{.label = "val (eval)", .color = "#ff7f0e"};
  for (const auto& [step, tv] : evals) {
    train.x.push_back(static_cast<double>(step));
    train.y.push_back(tv.first);
    val.x.push_back(static_cast<double>(step));
    val.y.push_back(tv.second);
  }
  std::vector<plot::Line> lines;
  if (!steps.y.empty()) lines.push_back(steps);
  if (!train.y.empty()) lines.push_back(train), lines.push_back(val);
  plot::lines(png, lines, {.title = title, .xlabel = "step", .ylabel = "loss", .width = 800, .height = 500, .grid = true});
}

void plot_matrix(const std::filesystem::path& png, const z2h::Tensor& m, const std::string& title) {
  const int R = static_cast<int>(m.size(0)), C = static_cast<int>(m.size(1));
  plot::Heatmap h{.rows = R, .cols = C};
  char buf[32];
  for (int i = 0; i < R * C; ++i) {
    h.values.push_back(m.data()[i]);
    std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(m.data()[i]));
    h.lower.push_back(buf);
  }
  plot::heatmap(png, h, {.title = title, .width = 60 * C + 100, .height = 60 * R + 100});
}

namespace {
std::string shown(char c) {
  if (c == '\n') return "\\n";
  if (c == ' ') return "_";
  return std::string(1, c);
}
}  // namespace

void plot_attention(const std::filesystem::path& png, const z2h::Tensor& wei, const std::string& chars,
                    const std::string& title) {
  const int T = static_cast<int>(wei.size(0)), N = T + 1;
  plot::Heatmap h{.rows = N, .cols = N};
  h.values.assign(static_cast<size_t>(N * N), 0.0);
  h.upper.assign(h.values.size(), "");
  h.lower.assign(h.values.size(), "");
  for (int t = 0; t < T; ++t) {
    h.upper[static_cast<size_t>(t + 1)] = shown(chars[static_cast<size_t>(t)]);      // top row: keys
    h.upper[static_cast<size_t>((t + 1) * N)] = shown(chars[static_cast<size_t>(t)]);  // left column: queries
    for (int s = 0; s < T; ++s) h.values[static_cast<size_t>((t + 1) * N + s + 1)] = wei.data()[t * T + s];
  }
  plot::heatmap(png, h, {.title = title, .width = 24 * N + 120, .height = 24 * N + 120});
}

}  // namespace stage07
