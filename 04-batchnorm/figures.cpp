#include "figures.hpp"

#include "common/plot/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace stage04 {

namespace plot = z2h::plot;

std::vector<double> to_doubles(const z2h::Tensor& t) {
  const float* d = t.data();
  return std::vector<double>(d, d + t.numel());
}

void plot_log10_loss(const std::filesystem::path& png, const std::vector<float>& losses, const std::string& title) {
  plot::Line line;
  line.y.reserve(losses.size());
  for (float l : losses) line.y.push_back(std::log10(static_cast<double>(l)));
  plot::lines(png, {line}, {.title = title, .xlabel = "step", .ylabel = "log10(loss)"});
}

void plot_hist(const std::filesystem::path& png, const z2h::Tensor& t, const std::string& title,
               const std::string& xlabel) {
  plot::histogram(png, {{.values = to_doubles(t), .label = ""}}, 50,
                  {.title = title, .xlabel = xlabel, .ylabel = "count"});
}

void plot_saturation(const std::filesystem::path& png, const z2h::Tensor& h, double threshold) {
  const int rows = static_cast<int>(h.size(0)), cols = static_cast<int>(h.numel() / h.size(0));
  plot::Heatmap map{.rows = rows, .cols = cols, .cmap = plot::Colormap::gray};
  const float* d = h.data();
  for (int64_t i = 0; i < h.numel(); ++i) map.values.push_back(std::fabs(d[i]) > threshold ? 1.0 : 0.0);
  char title[160];
  std::snprintf(title, sizeof title, "|h| > %g, white where saturated: rows = the %d examples of the batch, columns = the %d neurons",
                threshold, rows, cols);
  plot::heatmap(png, map, {.title = title, .width = 2000, .height = 60 + 2000 * rows / cols});  // the lecture's 20-inch figure
}

void plot_distributions(const std::filesystem::path& png, const std::vector<Series>& series, const std::string& title,
                        const std::string& xlabel) {
  std::vector<plot::Line> lines;
  for (const Series& s : series) lines.push_back(plot::density(to_doubles(s.values), 100, s.label));
  plot::lines(png, lines, {.title = title, .xlabel = xlabel, .ylabel = "density", .width = 1400, .height = 350});
}

void plot_update_ratios(const std::filesystem::path& png, const std::vector<RatioCurve>& curves, const std::string& title) {
  std::vector<plot::Line> lines;
  size_t steps = 0;
  for (const RatioCurve& c : curves) {
    lines.push_back({.x = {}, .y = c.log10_ratio, .label = c.label, .color = ""});
    steps = std::max(steps, c.log10_ratio.size());
  }
  // plt.plot([0, len(ud)], [-3, -3], 'k'): these ratios should be ~1e-3
  lines.push_back({.x = {0.0, static_cast<double>(steps)}, .y = {-3.0, -3.0}, .label = "", .color = "#000000"});
  plot::lines(png, lines,
              {.title = title, .xlabel = "step", .ylabel = "log10(std(lr*grad) / std(data))",
               .width = 1400, .height = 350});
}

void plot_curves(const std::filesystem::path& png, const std::vector<Curve>& curves, const std::string& title,
                 const std::string& xlabel, const std::string& ylabel) {
  std::vector<plot::Line> lines;
  for (const Curve& c : curves) lines.push_back({.x = {}, .y = c.y, .label = c.label, .color = ""});
  plot::lines(png, lines, {.title = title, .xlabel = xlabel, .ylabel = ylabel});
}

}  // namespace stage04
