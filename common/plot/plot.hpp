#pragma once
// PNG figures in the style of the lecture's matplotlib plots, drawn in-process with PLplot.
//
//   plot::lines("out/loss.png", {{.y = lossi}}, {.title = "log10 loss", .xlabel = "step"});
//
// Sizes are pixels and text is sized like matplotlib at 100 dpi, so the lecture's
// plt.figure(figsize=(8,8)) is {.width = 800, .height = 800}. Every figure has a white background,
// is written to a temporary file beside `png` and renamed into place (a crash never leaves half a
// PNG), and prints nothing. Bad input (empty data, mismatched sizes, a directory that does not
// exist) throws z2h::UserError.
//
// Meant for single-threaded use: PLplot keeps global state, so figures are drawn one at a time
// (calls from several threads are safe but wait on one lock).
// Pixel images and computation graphs live beside this file: image.hpp, graph.hpp.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace z2h::plot {

// What every figure shares. The heatmap uses only the title and the size; logx/logy are for lines().
struct Figure {
  std::string title{}, xlabel{}, ylabel{};
  int width = 640, height = 480;    // pixels (matplotlib's default 6.4x4.8 inch figure)
  bool logx = false, logy = false;  // log10 axes; values <= 0 are left out, as matplotlib does
  bool grid = false;                // plt.grid(): light gray lines at the major ticks
};

// One curve of plt.plot(x, y, label=...).
struct Line {
  std::vector<double> x{};  // empty: 0, 1, 2, ... like plt.plot(y)
  std::vector<double> y{};
  std::string label{};  // legend entry; "" keeps it out of the legend
  std::string color{};  // "" = next colour of matplotlib's cycle; else "#rrggbb" ("#000000" = 'k')
};

// plt.plot of several curves, with a legend of the labelled ones where it covers the least data.
// NaN and inf break a curve, as in matplotlib. Curves far longer than the figure is wide (a
// 200k-step loss) are drawn from each pixel column's min and max: it looks the same and stays fast.
void lines(const std::filesystem::path& png, const std::vector<Line>& curves, const Figure& fig);

// torch.histogram(t, bins, density=True) as a curve, as lecture 4 plots it: x = left bin edges,
// y = density (the area under the curve is 1).
Line density(const std::vector<double>& values, int bins = 100, std::string label = "");

// One data set of plt.hist.
struct Hist {
  std::vector<double> values{};
  std::string label{};  // legend entry; "" keeps it out of the legend
};

// plt.hist(values, bins) for each data set over one common range (translucent when several).
void histogram(const std::filesystem::path& png, const std::vector<Hist>& sets, int bins, const Figure& fig);

enum class Colormap { blues, spectral, jet, gray };  // matplotlib's maps of the same names

// plt.imshow(values, cmap) with text in each cell, axes off (lecture 2's bigram count figure).
struct Heatmap {
  std::vector<double> values{};  // rows x cols, row-major; row 0 is drawn at the top
  int rows = 0, cols = 0;
  std::vector<std::string> upper{};  // optional: one text per cell, above its centre (gray)
  std::vector<std::string> lower{};  // optional: one text per cell, below its centre (gray)
  Colormap cmap = Colormap::blues;
};
void heatmap(const std::filesystem::path& png, const Heatmap& map, const Figure& fig);

// plt.scatter(x, y, c=value, s=size, cmap=cmap), optionally plt.text(label) centred on each point.
struct Points {
  std::vector<double> x{}, y{};
  std::vector<double> value{};  // colours through `cmap`; empty: all matplotlib blue
  Colormap cmap = Colormap::spectral;
  double size = 20;                   // marker area in points^2, matplotlib's s=
  std::vector<std::string> labels{};  // optional: one text per point, white, centred (lecture 3)
};
void scatter(const std::filesystem::path& png, const Points& points, const Figure& fig);

// Values of a function on an evenly spaced mesh: z[j * xs.size() + i] = f(xs[i], ys[j]). contourf
// fills bands between "nice" levels over z, as matplotlib's automatic levels do.
struct Grid {
  std::vector<double> xs{}, ys{};  // np.arange(x_min, x_max, h) and the same for y
  std::vector<double> z{};
};

// plt.contourf(xx, yy, Z, cmap=Spectral, alpha=0.8) with the points (may be empty) on top, axes
// limited to the mesh: micrograd's decision-boundary figure.
void contourf(const std::filesystem::path& png, const Grid& grid, const Points& points, const Figure& fig);

namespace detail {
// A temporary file beside `target` (z2h::temp_path) that becomes `target` on commit() and is
// removed otherwise. Throws UserError when the directory cannot be written, and from commit()
// when the file is not a complete PNG or cannot be synced to the disk (the target is untouched). (PLplot writes the file itself, so it
// needs a path; in-memory PNGs go through z2h::write_file_atomic in common/io/output.hpp.)
class TempFile {
 public:
  explicit TempFile(const std::filesystem::path& target);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::filesystem::path& path() const { return tmp_; }
  void commit();

 private:
  std::filesystem::path target_, tmp_;
  bool committed_ = false;
};

// True when `png` is a whole PNG file: the signature, then chunks whose lengths fit, ending with
// IEND at the last byte. A file cut short by a full disk fails this.
bool complete_png(std::string_view png);
}  // namespace detail

}  // namespace z2h::plot
