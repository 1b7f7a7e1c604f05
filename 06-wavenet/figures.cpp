#include "figures.hpp"

#include <algorithm>
#include <cmath>

#include "common/plot/graph.hpp"
#include "common/plot/plot.hpp"

namespace stage06 {

namespace nn = z2h::nn;
namespace plot = z2h::plot;

// ---- the loss curve -----------------------------------------------------------------------------
std::vector<double> chunk_means_log10(const std::vector<float>& losses, int64_t chunk) {
  std::vector<double> means;
  const size_t c = static_cast<size_t>(std::max<int64_t>(chunk, 1));
  for (size_t start = 0; start < losses.size(); start += c) {
    const size_t end = std::min(losses.size(), start + c);
    double s = 0;
    for (size_t i = start; i < end; ++i) s += std::log10(static_cast<double>(losses[i]));
    means.push_back(s / static_cast<double>(end - start));
  }
  return means;
}

void plot_loss_chunks(const std::filesystem::path& png, const std::vector<float>& losses, int64_t chunk,
                      int64_t lr_decay_step, const std::string& title) {
  // x: the step where each chunk starts, in thousands (point i of the notebook's plot is x = i)
  std::vector<plot::Line> lines = {{.x = {}, .y = chunk_means_log10(losses, chunk), .label = "", .color = ""}};
  for (size_t i = 0; i < lines[0].y.size(); ++i)
    lines[0].x.push_back(static_cast<double>(i) * static_cast<double>(chunk) / 1000.0);
  const double drop = static_cast<double>(lr_decay_step) / 1000.0;
  if (lr_decay_step > 0 && lr_decay_step < static_cast<int64_t>(losses.size())) {  // where lr 0.1 -> 0.01
    const auto [lo, hi] = std::minmax_element(lines[0].y.begin(), lines[0].y.end());
    lines.push_back({.x = {drop, drop}, .y = {*lo, *hi}, .label = "learning rate 0.1 -> 0.01", .color = "#999999"});
  }
  plot::lines(png, lines,
              {.title = title, .xlabel = "step (thousands); each point the mean of " + std::to_string(chunk) + " steps",
               .ylabel = "mean log10(loss)"});
}

// ---- the tree ---------------------------------------------------------------------------------
namespace {
std::string quote_char(char c) { return c == '.' ? "'.'" : std::string("'") + c + "'"; }
}  // namespace

std::string model_tree_dot(const nn::Sequential& model, const std::string& context, const std::string& target) {
  // Walk the layers, tracking how many positions each level has, and draw one node per position.
  std::string dot = "digraph wavenet {\n  graph [rankdir=BT nodesep=0.25 ranksep=0.45 fontname=\"Helvetica\"]\n"
                    "  node [fontname=\"Helvetica\" fontsize=11 style=filled]\n  edge [color=\"#555555\"]\n";
  std::vector<std::string> below;  // node ids of the current level
  int64_t positions = static_cast<int64_t>(context.size());
  for (int64_t t = 0; t < positions; ++t) {
    const std::string id = "in" + std::to_string(t);
    dot += "  " + id + " [label=\"" + quote_char(context[static_cast<size_t>(t)]) +
           "\" shape=box fillcolor=\"#dbe9f6\"]\n";
    below.push_back(id);
  }
  int level = 0, group = 1;
  std::string pending;  // the description of the level being built (Linear, BatchNorm, Tanh)
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const nn::Module& m = *model.layers[i];
    if (const auto* f = dynamic_cast<const nn::FlattenConsecutive*>(&m)) group = static_cast<int>(f->n);
    if (const auto* lin = dynamic_cast<const nn::Linear*>(&m)) {
      const bool last = i + 1 == model.layers.size();
      ++level;
      const int64_t fan_in = lin->weight.size(0), fan_out = lin->weight.size(1);
      positions /= group;
      std::vector<std::string> here;
      for (int64_t p = 0; p < positions; ++p) {
        std::string id = "l";  // level 2, position 1: l2001
        id += std::to_string(level * 1000 + p);
        std::string label = "Linear ";
        label += std::to_string(fan_in);
        label += "&rarr;";
        label += std::to_string(fan_out);
        label += last ? "\nsoftmax: next char " + quote_char(target.empty() ? '?' : target[0]) : "\nBatchNorm, tanh";
        dot += "  " + id + " [label=\"" + label + "\" shape=box style=\"rounded,filled\" fillcolor=\"" +
               (last ? "#fde0c5" : "#e3f1dc") + "\"]\n";
        for (int k = 0; k < group; ++k)
          dot += "  " + below[static_cast<size_t>(p * group + k)] + " -> " + id + "\n";
        here.push_back(id);
      }
      below = here;
      group = 1;
    }
  }
  dot += "}\n";
  return dot;
}

void plot_model_tree(const std::filesystem::path& png, const nn::Sequential& model, const std::string& context,
                     const std::string& target) {
  plot::render_dot(png, model_tree_dot(model, context, target));
}

// ---- activation histograms ----------------------------------------------------------------------
std::vector<ActivationStats> activation_stats(const nn::Sequential& model) {
  std::vector<ActivationStats> stats;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const nn::Module& m = *model.layers[i];
    if (!dynamic_cast<const nn::Tanh*>(&m) || !m.out.defined()) continue;
    const float* d = m.out.data();
    const int64_t n = m.out.numel();
    double s = 0, ss = 0, sat = 0;
    for (int64_t k = 0; k < n; ++k) s += d[k];
    const double mean = s / static_cast<double>(n);
    for (int64_t k = 0; k < n; ++k) {
      ss += (d[k] - mean) * (d[k] - mean);
      sat += std::fabs(d[k]) > 0.97f ? 1 : 0;
    }
    stats.push_back({static_cast<int>(i), mean, std::sqrt(ss / static_cast<double>(std::max<int64_t>(n - 1, 1))),
                     100.0 * sat / static_cast<double>(n)});
  }
  return stats;
}

void plot_activations(const std::filesystem::path& png, const nn::Sequential& model, const std::string& title) {
  std::vector<plot::Line> lines;
  char buf[128];
  for (const ActivationStats& a : activation_stats(model)) {
    const z2h::Tensor& t = model.layers[static_cast<size_t>(a.layer)]->out;
    std::snprintf(buf, sizeof buf, "layer %d (Tanh): mean %+.2f, std %.2f, saturated %.2f%%", a.layer, a.mean, a.std,
                  a.saturated_percent);
    lines.push_back(plot::density(std::vector<double>(t.data(), t.data() + t.numel()), 100, buf));
  }
  plot::lines(png, lines, {.title = title, .xlabel = "activation", .ylabel = "density", .width = 1200, .height = 450});
}

}  // namespace stage06
