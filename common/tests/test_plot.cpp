// The figure gallery: one PNG of every kind the course draws, each checked to be a valid PNG of
// the requested size that is not blank; then the error paths.
//
// To look at the gallery:  Z2H_GALLERY_DIR=out/gallery build/release/bin/common_plot_tests
// (the PNGs are kept there; without the variable they go to a temporary directory).
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "common/app/error.hpp"
#include "common/plot/graph.hpp"
#include "common/plot/image.hpp"
#include "common/plot/plot.hpp"

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#include <stb/stb_image.h>

namespace fs = std::filesystem;
namespace plot = z2h::plot;
using z2h::UserError;

#ifdef Z2H_SOURCE_DIR
// Under -fsanitize=address, LeakSanitizer reads its options from here: the suppressions file
// lists what PLplot, graphviz and fontconfig never free (unused in other builds).
extern "C" const char* __lsan_default_options() {
  return "suppressions=" Z2H_SOURCE_DIR "/common/tests/lsan.supp";
}
#endif

namespace {

// ---- test support ---------------------------------------------------------------------------

// For the gallery: Z2H_GALLERY_DIR if set (kept for a person to look at); otherwise, and for the
// other tests, a fresh temporary directory removed at scope exit.
class GalleryDir {
 public:
  explicit GalleryDir(bool gallery = true) {
    if (const char* dir = std::getenv("Z2H_GALLERY_DIR"); gallery && dir && *dir) {
      path_ = dir;
      keep_ = true;
    } else {
      static std::atomic<int> counter{0};
      path_ = fs::temp_directory_path() /
              ("z2h-plot-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
      fs::remove_all(path_);
    }
    fs::create_directories(path_);
  }
  ~GalleryDir() {
    std::error_code ec;
    if (!keep_) fs::remove_all(path_, ec);
  }
  GalleryDir(const GalleryDir&) = delete;
  GalleryDir& operator=(const GalleryDir&) = delete;
  fs::path operator/(const std::string& name) const { return path_ / name; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  bool keep_ = false;
};

// Leftover temporaries: <name>.tmp.<pid>.<n> (z2h::temp_path), or hidden files.
std::vector<std::string> hidden_files(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind('.', 0) == 0 || name.find(".tmp.") != std::string::npos) names.push_back(name);
  }
  return names;
}

// Checks the PNG signature, the size in the IHDR chunk and, decoding it, that it is not blank: at
// least `min_fraction` of the pixels differ from the corner (background) pixel.
void check_png(const fs::path& png, int width, int height, double min_fraction = 0.01) {
  INFO(png.string());
  std::ifstream in(png, std::ios::binary);
  REQUIRE(in);
  unsigned char head[24] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  REQUIRE(std::memcmp(head, signature, 8) == 0);
  REQUIRE(std::memcmp(head + 12, "IHDR", 4) == 0);
  auto be32 = [&](int at) {
    return (head[at] << 24) | (head[at + 1] << 16) | (head[at + 2] << 8) | head[at + 3];
  };
  CHECK(be32(16) == width);
  CHECK(be32(20) == height);

  int w = 0, h = 0, n = 0;
  unsigned char* pixels = stbi_load(png.c_str(), &w, &h, &n, 3);
  REQUIRE(pixels != nullptr);
  std::size_t differ = 0;
  for (int i = 0; i < w * h; ++i)
    if (std::memcmp(pixels + 3 * i, pixels, 3) != 0) ++differ;
  const double fraction = static_cast<double>(differ) / (static_cast<double>(w) * h);
  stbi_image_free(pixels);
  INFO("fraction of non-background pixels: " << fraction);
  CHECK(fraction >= min_fraction);
  CHECK(fraction < 0.999);
}

// A white, opaque top-left pixel: the figures have a white background.
void check_white_corner(const fs::path& png) {
  int w = 0, h = 0, n = 0;
  unsigned char* pixels = stbi_load(png.c_str(), &w, &h, &n, 4);
  REQUIRE(pixels != nullptr);
  CHECK(int(pixels[0]) == 255);
  CHECK(int(pixels[1]) == 255);
  CHECK(int(pixels[2]) == 255);
  CHECK(int(pixels[3]) == 255);
  stbi_image_free(pixels);
}

// Runs `draw` with stdout and stderr redirected to a file; returns what was written there.
std::string output_of(const std::function<void()>& draw) {
  std::fflush(stdout);
  std::fflush(stderr);
  char name[] = "/tmp/z2h-plot-output-XXXXXX";
  const int fd = mkstemp(name);
  REQUIRE(fd >= 0);
  const int out = dup(1), err = dup(2);
  dup2(fd, 1);
  dup2(fd, 2);
  try {
    draw();
  } catch (...) {
    std::fflush(stdout);
    std::fflush(stderr);
    dup2(out, 1), dup2(err, 2), close(out), close(err), close(fd), unlink(name);
    throw;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  dup2(out, 1), dup2(err, 2), close(out), close(err), close(fd);
  std::ifstream in(name);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  unlink(name);
  return text;
}

double seconds_of(const std::function<void()>& draw) {
  const auto t0 = std::chrono::steady_clock::now();
  draw();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---- lecture-like data (deterministic) ------------------------------------------------------

struct Lcg {  // tiny deterministic generator: the data only has to look plausible
  std::uint64_t s = 42;
  double uniform() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) / 9007199254740992.0;
  }
  double normal() {  // Box-Muller
    const double u = uniform() + 1e-12, v = uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
  }
};

std::vector<double> arange(double lo, double hi, double step) {
  std::vector<double> v;
  for (int i = 0; lo + i * step < hi - 1e-12; ++i) v.push_back(lo + i * step);
  return v;
}

// log10 of a minibatch loss falling from 3.3 towards 2.1, with an lr decay at the middle.
std::vector<double> loss_curve(int steps) {
  Lcg rng;
  std::vector<double> y;
  for (int i = 0; i < steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    const double loss = 2.15 + 1.2 * std::exp(-40 * t) - (t > 0.5 ? 0.08 : 0.0);
    y.push_back(std::log10(loss * std::exp((t > 0.5 ? 0.07 : 0.1) * rng.normal())));
  }
  return y;
}

// The two moons of sklearn's make_moons (noise 0.1) with labels -1 / 1.
void moons(std::vector<double>& x, std::vector<double>& y, std::vector<double>& label) {
  Lcg rng;
  for (int i = 0; i < 100; ++i) {
    const bool upper = i < 50;
    const double a = M_PI * (i % 50) / 49.0;
    x.push_back((upper ? std::cos(a) : 1 - std::cos(a)) + 0.1 * rng.normal());
    y.push_back((upper ? std::sin(a) : 0.5 - std::sin(a)) + 0.1 * rng.normal());
    label.push_back(upper ? -1 : 1);
  }
}

const char* kItos = ".abcdefghijklmnopqrstuvwxyz";

}  // namespace

// ---- the gallery ------------------------------------------------------------------------------

TEST_CASE("plot: gallery: line plots (f(x), tanh, loss curves, LR finder, a log-x sweep)") {
  GalleryDir dir;
  std::vector<double> xs = arange(-5, 5, 0.25), ys;
  for (double x : xs) ys.push_back(3 * x * x - 4 * x + 5);
  plot::lines(dir / "01_f_of_x.png", {{xs, ys}},
              {.title = "f(x) = 3x\u00b2 \u2212 4x + 5", .xlabel = "x", .ylabel = "f(x)"});
  check_png(dir / "01_f_of_x.png", 640, 480);
  check_white_corner(dir / "01_f_of_x.png");

  std::vector<double> tx = arange(-5, 5, 0.2), ty;
  for (double x : tx) ty.push_back(std::tanh(x));
  plot::lines(dir / "01_tanh.png", {{tx, ty}}, {.title = "tanh", .grid = true});
  check_png(dir / "01_tanh.png", 640, 480);

  const auto loss = loss_curve(200000);
  const double s = seconds_of([&] {
    plot::lines(dir / "03_loss_log10.png", {{.y = loss}},
                {.title = "log10 loss", .xlabel = "step", .ylabel = "log10(loss)"});
  });
  INFO("200k-point loss curve took " << s << " s");
  CHECK(s < 2.0);
  check_png(dir / "03_loss_log10.png", 640, 480);

  Lcg rng;
  std::vector<double> lre, lossi;
  for (int i = 0; i < 1000; ++i) {
    const double e = -3 + 3.0 * i / 999;
    lre.push_back(e);
    lossi.push_back(2.6 + 1.6 * std::pow(e + 1, 2) * (e < -1 ? 0.6 : 1.4) + 0.25 * rng.normal() +
                    (e > -0.3 ? 6 * (e + 0.3) : 0));
  }
  plot::lines(dir / "03_lr_finder.png", {{lre, lossi}},
              {.title = "learning-rate finder", .xlabel = "learning rate exponent", .ylabel = "loss"});
  check_png(dir / "03_lr_finder.png", 640, 480);

  std::vector<double> strength, train, dev;
  for (double e = -4; e <= 2.01; e += 0.5) {
    const double r = std::pow(10.0, e);
    strength.push_back(r);
    train.push_back(2.05 + 0.4 * std::log10(1 + 100 * r) / 4);
    dev.push_back(2.25 - 0.1 * std::exp(-std::pow(e + 1.5, 2)) + 0.35 * std::log10(1 + 10 * r) / 3);
  }
  plot::lines(dir / "02_sweep.png", {{strength, train, "train"}, {strength, dev, "dev"}},
              {.title = "trigram: loss vs regularisation",
               .xlabel = "regularisation strength",
               .ylabel = "loss",
               .logx = true,
               .grid = true});
  check_png(dir / "02_sweep.png", 640, 480);

  std::vector<double> chunks;  // lecture 6: the mean over 1000-step chunks
  for (int c = 0; c < 200; ++c) {
    double sum = 0;
    for (int i = 0; i < 1000; ++i) sum += loss[static_cast<std::size_t>(c * 1000 + i)];
    chunks.push_back(sum / 1000);
  }
  plot::lines(dir / "06_loss_chunks.png", {{.y = chunks}},
              {.title = "loss (mean of 1000-step chunks)", .xlabel = "step / 1000", .ylabel = "log10(loss)"});
  check_png(dir / "06_loss_chunks.png", 640, 480);
}

TEST_CASE("plot: gallery: lecture 4's distributions, update ratios and histograms") {
  GalleryDir dir;
  Lcg rng;
  std::vector<plot::Line> acts, grads;
  for (int layer = 0; layer < 5; ++layer) {
    std::vector<double> h, g;
    const double gain = 2.2 - 0.3 * layer;
    for (int i = 0; i < 32 * 100; ++i) h.push_back(std::tanh(gain * rng.normal()));
    for (int i = 0; i < 32 * 100; ++i) g.push_back(rng.normal() * 1e-3 * (1 + 0.2 * layer));
    const std::string name = "layer " + std::to_string(3 * layer + 2) + " (Tanh)";
    acts.push_back(plot::density(h, 100, name));
    grads.push_back(plot::density(g, 100, name));
  }
  plot::lines(dir / "04_activations.png", acts,
              {.title = "activation distribution", .width = 2000, .height = 400});
  check_png(dir / "04_activations.png", 2000, 400);
  plot::lines(dir / "04_gradients.png", grads,
              {.title = "gradient distribution", .width = 2000, .height = 400});
  check_png(dir / "04_gradients.png", 2000, 400);

  std::vector<plot::Line> wgrads;
  const char* shapes[] = {"(27, 10)", "(30, 100)", "(100, 100)", "(100, 100)", "(100, 27)"};
  for (int p = 0; p < 5; ++p) {
    std::vector<double> g;
    for (int i = 0; i < 3000; ++i) g.push_back(rng.normal() * (p == 4 ? 1e-2 : 2e-3));
    wgrads.push_back(plot::density(g, 100, std::string(shapes[p]) + " | std 2.0e-03"));
  }
  plot::lines(dir / "04_weight_gradients.png", wgrads,
              {.title = "weights gradient distribution", .width = 2000, .height = 400});
  check_png(dir / "04_weight_gradients.png", 2000, 400);

  std::vector<plot::Line> ratios;
  for (int p = 0; p < 6; ++p) {
    std::vector<double> r;
    for (int step = 0; step < 1000; ++step)
      r.push_back(-1.5 - 1.5 * (1 - std::exp(-step / 150.0)) - 0.25 * p + 0.1 * rng.normal());
    ratios.push_back({{}, r, "param " + std::to_string(p)});
  }
  ratios.push_back({{0, 1000}, {-3, -3}, "", "#000000"});  // plt.plot([0, len(ud)], [-3, -3], 'k')
  plot::lines(dir / "04_update_ratio.png", ratios, {.width = 2000, .height = 400});
  check_png(dir / "04_update_ratio.png", 2000, 400);

  std::vector<double> h, hpre;
  for (int i = 0; i < 32 * 200; ++i) {
    hpre.push_back(6 * rng.normal());
    h.push_back(std::tanh(hpre.back()));
  }
  plot::histogram(dir / "04_tanh_hist.png", {{h, ""}}, 50, {.title = "h = tanh(hpreact)"});
  check_png(dir / "04_tanh_hist.png", 640, 480);
  plot::histogram(dir / "04_hpreact_hist.png", {{hpre, ""}}, 50, {.title = "hpreact"});
  check_png(dir / "04_hpreact_hist.png", 640, 480);

  std::vector<double> fixed;
  for (int i = 0; i < 32 * 200; ++i) fixed.push_back(std::tanh(0.6 * rng.normal()));
  plot::histogram(dir / "04_hist_two_sets.png", {{h, "before the init fix"}, {fixed, "after (Kaiming)"}}, 50,
                  {.title = "tanh outputs", .xlabel = "h", .ylabel = "count"});
  check_png(dir / "04_hist_two_sets.png", 640, 480);

  std::vector<double> saturated;  // |h| > 0.99: white where the neuron is saturated
  for (int i = 0; i < 32 * 200; ++i)
    saturated.push_back(std::abs(std::tanh(2 * rng.normal() + (i % 200 < 20 ? 3 : 0))) > 0.99);
  plot::write_png(dir / "04_saturation.png", plot::upscale(plot::gray_image(saturated, 32, 200, 0, 1), 5));
  check_png(dir / "04_saturation.png", 1000, 160);
}

// The 27x27 bigram counts of names.txt when the data step has fetched it (the lecture's exact
// figure), else made-up counts of a similar shape.
std::vector<double> bigram_counts() {
  std::vector<double> n(27 * 27, 0.0);
#ifdef Z2H_DEFAULT_DATA_DIR
  std::ifstream in(fs::path(Z2H_DEFAULT_DATA_DIR) / "names.txt");
  for (std::string w; in >> w;) {
    int prev = 0;
    for (char ch : w + ".") {
      const int next = ch == '.' ? 0 : ch - 'a' + 1;
      if (next < 0 || next > 26) break;
      n[static_cast<std::size_t>(prev * 27 + next)] += 1;
      prev = next;
    }
  }
  if (n[1] > 0) return n;
#endif
  for (int i = 0; i < 27; ++i)
    for (int j = 0; j < 27; ++j) {
      const bool vowel = std::strchr(".aeiouy", kItos[j]) != nullptr;
      const double base = (i == 0 ? 1500 : 120) * (vowel ? 4 : 1) * std::exp(-0.08 * ((i * 7 + j * 11) % 27));
      n[static_cast<std::size_t>(i * 27 + j)] = i == 0 && j == 0 ? 0 : std::round(base);
    }
  return n;
}

TEST_CASE("plot: gallery: lecture 2's bigram heatmap with text in every cell") {
  GalleryDir dir;
  plot::Heatmap map{.values = bigram_counts(), .rows = 27, .cols = 27};
  for (int i = 0; i < 27; ++i)
    for (int j = 0; j < 27; ++j) {
      map.upper.push_back(std::string(1, kItos[i]) + kItos[j]);  // plt.text(j, i, chstr, va="bottom")
      map.lower.push_back(
          std::to_string(static_cast<long>(map.values[static_cast<std::size_t>(i * 27 + j)])));
    }
  const double s =
      seconds_of([&] { plot::heatmap(dir / "02_bigram_counts.png", map, {.width = 1600, .height = 1600}); });
  INFO("heatmap took " << s << " s");
  CHECK(s < 2.0);
  check_png(dir / "02_bigram_counts.png", 1600, 1600, 0.3);

  plot::Heatmap onehot{.rows = 5, .cols = 27, .cmap = plot::Colormap::gray};  // imshow(xenc)
  const int emma[] = {0, 5, 13, 13, 1};
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 27; ++j) onehot.values.push_back(j == emma[i] ? 1 : 0);
  plot::heatmap(dir / "02_onehot.png", onehot,
                {.title = "xenc (one-hot of .emma)", .width = 1000, .height = 260});
  check_png(dir / "02_onehot.png", 1000, 260, 0.3);
}

TEST_CASE("plot: gallery: lecture 3's 2-D embedding scatter with a character on each point") {
  GalleryDir dir;
  Lcg rng;
  plot::Points emb{.size = 200};
  for (int i = 0; i < 27; ++i) {
    const bool vowel = std::strchr("aeiouy", kItos[i]) != nullptr;
    emb.x.push_back(vowel ? 1.2 + 0.3 * rng.normal() : i == 0 ? -1.5 : -0.3 + 0.5 * rng.normal());
    emb.y.push_back(vowel ? 0.4 + 0.3 * rng.normal() : i == 0 ? 1.8 : -0.2 + 0.6 * rng.normal());
    emb.labels.push_back(std::string(1, kItos[i]));
  }
  plot::scatter(dir / "03_embedding.png", emb, {.width = 800, .height = 800, .grid = true});
  check_png(dir / "03_embedding.png", 800, 800);
}

TEST_CASE("plot: gallery: micrograd's moons and decision boundary") {
  GalleryDir dir;
  plot::Points pts{.cmap = plot::Colormap::jet};
  moons(pts.x, pts.y, pts.value);
  plot::scatter(dir / "01_moons.png", pts, {.width = 500, .height = 500});  // figsize=(5,5), s=20, cmap='jet'
  check_png(dir / "01_moons.png", 500, 500);

  // A smooth boundary between the moons (which side's arc is nearer), thresholded like the
  // notebook's Z = [s.data > 0 for s in scores].
  plot::Grid grid{arange(-2.2, 3.2, 0.25), arange(-1.6, 2.2, 0.25), {}};
  auto to_arc = [](double x, double y, double cx, double cy, double sign) {
    double best = 1e9;
    for (int k = 0; k <= 60; ++k) {
      const double a = M_PI * k / 60;
      best = std::min(best, std::hypot(x - cx - sign * std::cos(a), y - cy - sign * std::sin(a)));
    }
    return best;
  };
  for (double y : grid.ys)
    for (double x : grid.xs) grid.z.push_back(to_arc(x, y, 0, 0, 1) > to_arc(x, y, 1, 0.5, -1) ? 1 : 0);
  pts.cmap = plot::Colormap::spectral;
  pts.size = 40;
  const double s =
      seconds_of([&] { plot::contourf(dir / "01_moon_mlp.png", grid, pts, {.width = 500, .height = 500}); });
  INFO("contourf took " << s << " s");
  CHECK(s < 2.0);
  check_png(dir / "01_moon_mlp.png", 500, 500, 0.5);
}

TEST_CASE("plot: gallery: micrograd's draw_dot graphs, from a Graph and from DOT text") {
  GalleryDir dir;
  // L = (a*b + c) * f, after L.backward(): the lecture's first graph.
  plot::Graph g;
  auto value = [&](const std::string& id, const std::string& label, double data, double grad,
                   const std::string& op) {
    char text[128];
    std::snprintf(text, sizeof text, "{ %s | data %.4f | grad %.4f }", label.c_str(), data, grad);
    g.nodes.push_back({id, text, true});
    if (!op.empty()) {
      g.nodes.push_back({id + op, op});
      g.edges.push_back({id + op, id});
    }
  };
  value("a", "a", 2, 6, "");
  value("b", "b", -3, -4, "");
  value("c", "c", 10, -2, "");
  value("e", "e", -6, -2, "*");
  value("d", "d", 4, -2, "+");
  value("f", "f", -2, 4, "");
  value("L", "L", -8, 1, "*");
  g.edges.insert(g.edges.end(),
                 {{"a", "e*"}, {"b", "e*"}, {"e", "d+"}, {"c", "d+"}, {"d", "L*"}, {"f", "L*"}});
  plot::draw_dot(dir / "01_graph_L.png", g);
  int w = 0, h = 0, n = 0;
  REQUIRE(stbi_info((dir / "01_graph_L.png").c_str(), &w, &h, &n));
  CHECK(w > 3 * h);  // laid out left to right
  check_png(dir / "01_graph_L.png", w, h);
  check_white_corner(dir / "01_graph_L.png");

  CHECK(plot::to_dot({{{"x", "{ x | data 1.0000 }", true}, {"y\"", "tanh"}}, {{"y\"", "x"}}}) ==
        "digraph {\n\tgraph [rankdir=\"LR\" bgcolor=white]\n"
        "\t\"x\" [label=\"{ x | data 1.0000 }\" shape=record]\n"
        "\t\"y\\\"\" [label=\"tanh\"]\n"
        "\t\"y\\\"\" -> \"x\"\n}\n");

  plot::render_dot(dir / "01_graph_dot.png",
                   "digraph { rankdir=LR; n [shape=record label=\"{ n | data 0.8814 | grad 0.5000 }\"];"
                   " o [shape=record label=\"{ o | data 0.7071 | grad 1.0000 }\"]; t [label=tanh];"
                   " n -> t; t -> o }");
  REQUIRE(stbi_info((dir / "01_graph_dot.png").c_str(), &w, &h, &n));
  check_png(dir / "01_graph_dot.png", w, h);
}

// ---- behaviour and errors ---------------------------------------------------------------------

TEST_CASE("plot: figures print nothing and leave no temporary files") {
  GalleryDir dir(false);
  std::vector<double> y = {3, 1, 4, 1, 5, 9, 2, 6};
  const std::string printed = output_of([&] {
    plot::lines(dir / "a.png", {{.y = y, .label = "pi"}}, {.title = "t"});
    plot::histogram(dir / "b.png", {{y, "pi"}}, 4, {});
    plot::heatmap(dir / "c.png", {.values = y, .rows = 2, .cols = 4}, {});
    plot::scatter(dir / "d.png", {.x = y, .y = y}, {});
    plot::write_png(dir / "e.png", plot::gray_image(y, 2, 4));
    plot::draw_dot(dir / "f.png", {{{"a", "a"}}, {}});
  });
  CHECK(printed == "");
  CHECK(hidden_files(dir.path()).empty());
  for (const char* name : {"a.png", "b.png", "c.png", "d.png", "e.png", "f.png"})
    CHECK(fs::exists(dir / name));
}

TEST_CASE("plot: an existing figure is replaced whole") {
  GalleryDir dir(false);
  plot::lines(dir / "p.png", {{.y = {1, 2, 3}}}, {.width = 300, .height = 200});
  plot::lines(dir / "p.png", {{.y = {1, 2, 3}}}, {.width = 400, .height = 300});
  check_png(dir / "p.png", 400, 300);
}

TEST_CASE("plot: bad input throws UserError naming the fix, and leaves no file behind") {
  GalleryDir dir(false);
  const plot::Figure fig;
  CHECK_THROWS_WITH(plot::lines(dir / "no/such/dir/x.png", {{.y = {1, 2}}}, fig),
                    Catch::Contains("does not exist") && Catch::Contains("create it"));
  CHECK_THROWS_AS(plot::lines(dir / "x.png", {}, fig), UserError);
  CHECK_THROWS_WITH(plot::lines(dir / "x.png", {{.y = {}}}, fig),
                    Catch::Contains("at least one finite value"));
  CHECK_THROWS_AS(plot::lines(dir / "x.png", {{.y = {NAN, INFINITY}}}, fig), UserError);
  CHECK_THROWS_WITH(plot::lines(dir / "x.png", {{.y = {-1, 0}}}, {.logy = true}),
                    Catch::Contains("log axis"));
  CHECK_THROWS_WITH(plot::lines(dir / "x.png", {{{1, 2, 3}, {1, 2}}}, fig),
                    Catch::Contains("3 x values but 2 y values"));
  CHECK_THROWS_WITH(plot::lines(dir / "x.png", {{.y = {1, 2}, .color = "black"}}, fig),
                    Catch::Contains("#rrggbb"));
  CHECK_THROWS_WITH(plot::lines(dir / "x.png", {{.y = {1, 2}}}, {.width = 0}), Catch::Contains("32..10000"));
  CHECK_THROWS_AS(plot::density({}, 10), UserError);
  CHECK_THROWS_WITH(plot::histogram(dir / "x.png", {{{1, 2}, ""}}, 0, fig), Catch::Contains("bins"));
  CHECK_THROWS_AS(plot::histogram(dir / "x.png", {{{}, ""}}, 10, fig), UserError);
  CHECK_THROWS_WITH(plot::heatmap(dir / "x.png", {.values = {1, 2, 3}, .rows = 2, .cols = 2}, fig),
                    Catch::Contains("3 values for 2x2"));
  CHECK_THROWS_WITH(
      plot::heatmap(dir / "x.png", {.values = {1, 2, 3, 4}, .rows = 2, .cols = 2, .upper = {"a"}}, fig),
      Catch::Contains("one per cell"));
  CHECK_THROWS_WITH(plot::scatter(dir / "x.png", {.x = {1, 2}, .y = {1}}, fig), Catch::Contains("y has 1"));
  CHECK_THROWS_WITH(plot::scatter(dir / "x.png", {.x = {1, 2}, .y = {1, 2}, .labels = {"a"}}, fig),
                    Catch::Contains("one per point"));
  CHECK_THROWS_WITH(plot::contourf(dir / "x.png", {{1}, {1, 2}, {0, 0}}, {}, fig),
                    Catch::Contains("at least 2"));
  CHECK_THROWS_WITH(plot::contourf(dir / "x.png", {{1, 2}, {1, 2}, {0, 0, 0}}, {}, fig),
                    Catch::Contains("3 values"));
  CHECK_THROWS_WITH(plot::contourf(dir / "x.png", {{2, 1}, {1, 2}, {0, 0, 0, 0}}, {}, fig),
                    Catch::Contains("increasing"));
  CHECK_THROWS_WITH(plot::gray_image({1, 2, 3}, 2, 2), Catch::Contains("3 values for 2x2"));
  CHECK_THROWS_AS(plot::upscale(plot::gray_image({1}, 1, 1), 0), UserError);
  CHECK_THROWS_AS(plot::write_png(dir / "x.png", plot::Image{2, 2, 1, {0, 0}}), UserError);
  CHECK_THROWS_WITH(plot::render_dot(dir / "x.png", "digraph { a -> }"), Catch::Contains("not valid DOT"));
  CHECK_THROWS_WITH(plot::draw_dot(dir / "x.png", {{{"a", "a"}}, {{"a", "b"}}}),
                    Catch::Contains("unknown node 'b'"));
  CHECK_THROWS_WITH(plot::draw_dot(dir / "x.png", {{{"a", "a"}, {"a", "b"}}, {}}),
                    Catch::Contains("used twice"));
  CHECK_THROWS_AS(plot::draw_dot(dir / "x.png", {}), UserError);
  CHECK_THROWS_AS(plot::write_png(dir / "no/such/dir/x.png", plot::gray_image({1}, 1, 1)), UserError);
  CHECK_THROWS_AS(plot::draw_dot(dir / "no/such/dir/x.png", {{{"a", "a"}}, {}}), UserError);
  CHECK_THROWS_WITH(plot::lines(dir.path(), {{.y = {1, 2}}}, fig), Catch::Contains("is a directory"));
  CHECK(fs::directory_iterator(dir.path()) == fs::directory_iterator());  // nothing left behind
}

TEST_CASE("plot: a directory that cannot be written gives a UserError, not a PLplot prompt") {
  if (geteuid() == 0) return;  // root writes anywhere: nothing to test
  GalleryDir dir(false);
  const fs::path locked = dir / "locked";
  fs::create_directories(locked);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
  CHECK_THROWS_WITH(plot::lines(locked / "x.png", {{.y = {1, 2}}}, {}), Catch::Contains("not writable"));
  CHECK_THROWS_WITH(plot::write_png(locked / "x.png", plot::gray_image({1}, 1, 1)),
                    Catch::Contains("not writable"));
  fs::permissions(locked, fs::perms::owner_all);
}

TEST_CASE("plot: a graphviz error message does not leak to stderr") {
  GalleryDir dir(false);
  const std::string printed =
      output_of([&] { CHECK_THROWS_AS(plot::render_dot(dir / "x.png", "digraph { a -> }"), UserError); });
  CHECK(printed == "");
}

// PLplot would prompt on stdin for a device it lacks, or exit() without drivers: both must become
// a UserError naming the package. PLPLOT_DRV_DIR points PLplot at a drivers directory we make.
TEST_CASE("plot: without PLplot's cairo driver a figure throws UserError naming plplot-driver-cairo") {
  GalleryDir dir(false);
  const fs::path drivers = dir / "drivers";
  fs::create_directories(drivers);
  struct Restore {
    ~Restore() { unsetenv("PLPLOT_DRV_DIR"); }
  } restore;
  setenv("PLPLOT_DRV_DIR", drivers.c_str(), 1);
  std::string printed;
  SECTION("no drivers at all") {
    printed = output_of([&] {
      CHECK_THROWS_WITH(plot::lines(dir / "x.png", {{.y = {1, 2}}}, {}),
                        Catch::Contains("plplot-driver-cairo"));
    });
  }
  SECTION("drivers, but not pngcairo") {
    std::ofstream(drivers / "null.driver_info") << "null:Null device:-1:null:42:null\n";
    printed = output_of([&] {
      CHECK_THROWS_WITH(plot::lines(dir / "x.png", {{.y = {1, 2}}}, {}),
                        Catch::Contains("plplot-driver-cairo"));
    });
  }
  CHECK(!fs::exists(dir / "x.png"));
  unsetenv("PLPLOT_DRV_DIR");
  plot::lines(dir / "y.png", {{.y = {1, 2}}}, {});  // and plotting works again once it is there
  check_png(dir / "y.png", 640, 480);
}

TEST_CASE("plot: complete_png tells a whole PNG from one cut short (a full disk)") {
  GalleryDir dir(false);
  plot::lines(dir / "whole.png", {{.y = {1.0, 0.0, 1.0}}}, {.title = "whole"});
  std::ifstream in(dir / "whole.png", std::ios::binary);
  const std::string png{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  REQUIRE(png.size() > 100);
  CHECK(plot::detail::complete_png(png));
  for (size_t cut : {size_t{0}, size_t{7}, size_t{8}, size_t{33}, png.size() / 2, png.size() - 12, png.size() - 1})
    CHECK_FALSE(plot::detail::complete_png(std::string_view(png).substr(0, cut)));
  CHECK_FALSE(plot::detail::complete_png(png + "x"));  // bytes after IEND
  std::string bad_length = png;
  bad_length[8] = '\x7f';  // the first chunk claims ~2 GB
  CHECK_FALSE(plot::detail::complete_png(bad_length));
}
