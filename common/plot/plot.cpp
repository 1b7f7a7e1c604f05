// Figures drawn with PLplot's pngcairo device, styled after matplotlib's defaults: DejaVu Sans
// text, the tab10 colour cycle, outward ticks, "nice" tick steps (1, 2, 2.5, 5 x 10^k), 5 % data
// margins, and a legend put in the corner where it covers the fewest data points.
#include "common/plot/plot.hpp"

#include <plplot/plstream.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "common/app/error.hpp"
#include "common/io/output.hpp"

namespace z2h::plot {
namespace fs = std::filesystem;

// ================================ atomic output ================================================

namespace detail {

TempFile::TempFile(const fs::path& target) : target_(target) {
  std::error_code ec;
  if (!target.has_filename() || fs::is_directory(target, ec))
    throw UserError("output path " + quote_path(target.string()) +
                    " is a directory (give a file name such as loss.png)");
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  tmp_ = temp_path(target);
  std::ofstream probe(tmp_, std::ios::binary);  // fails here, not deep inside a C library
  if (probe) return;
  if (!fs::is_directory(dir, ec))
    throw UserError("cannot write " + quote_path(target.string()) + ": directory " + quote_path(dir.string()) +
                    " does not exist (create it or choose another output directory)");
  throw UserError("cannot write " + quote_path(target.string()) + ": directory " + quote_path(dir.string()) +
                  " is not writable (choose another output directory)");
}

TempFile::~TempFile() {
  if (committed_) return;
  std::error_code ec;
  fs::remove(tmp_, ec);  // best effort: a failed figure leaves nothing behind
}

void TempFile::commit() {
  // PLplot (through cairo) writes the file and does not report a failed write, e.g. on a full
  // disk: so the PNG is checked to be whole before it may replace an earlier good one.
  std::ifstream in(tmp_, std::ios::binary);
  const std::string png{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  in.close();
  if (!complete_png(png))
    throw UserError("cannot write " + quote_path(target_.string()) +
                    ": the PNG came out incomplete (is the disk full? check --out and the free disk space)");
  std::FILE* f = std::fopen(tmp_.c_str(), "r+b");
  if (f == nullptr) throw UserError("cannot write " + quote_path(target_.string()) + ": " + std::strerror(errno));
  sync_and_close(f, target_);
  commit_temp_file(tmp_, target_);
  committed_ = true;
}

bool complete_png(std::string_view png) {
  static constexpr char kSignature[] = "\x89PNG\r\n\x1a\n";
  if (png.size() < 8 || png.substr(0, 8) != std::string_view(kSignature, 8)) return false;
  // Chunks: 4-byte big-endian length, 4-byte type, data, 4-byte CRC; the last one is IEND.
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<unsigned char>(png[at + k]);
    return v;
  };
  size_t at = 8;
  while (png.size() - at >= 12) {
    const uint64_t length = be32(at);
    if (length > png.size() - at - 12) return false;  // the chunk runs past the end: truncated
    const std::string_view type = png.substr(at + 4, 4);
    at += 12 + length;
    if (type == "IEND") return at == png.size();
  }
  return false;
}

}  // namespace detail

namespace {

// ================================ colours ======================================================

struct Rgb {
  double r, g, b;  // 0..1
};

Rgb hex(const char* s) {
  auto byte = [&](int i) { return std::stoi(std::string(s + 1 + 2 * i, 2), nullptr, 16) / 255.0; };
  return {byte(0), byte(1), byte(2)};
}

Rgb parse_color(const std::string& s) {
  const bool ok = s.size() == 7 && s[0] == '#' &&
                  std::all_of(s.begin() + 1, s.end(), [](unsigned char c) { return std::isxdigit(c); });
  if (!ok) throw UserError("colour '" + s + "' is not of the form #rrggbb (e.g. #000000 for black)");
  return hex(s.c_str());
}

Rgb mix(Rgb a, Rgb b, double t) {  // (1-t)*a + t*b
  return {a.r + t * (b.r - a.r), a.g + t * (b.g - a.g), a.b + t * (b.b - a.b)};
}

const Rgb kWhiteRgb{1, 1, 1};
const Rgb kBlackRgb{0, 0, 0};
const Rgb kTextGrayRgb{0.5, 0.5, 0.5};  // the lecture's color='gray'

// matplotlib's default colour cycle ("tab10").
const std::array<const char*, 10> kCycle = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

// Evenly spaced anchors, linearly interpolated: how matplotlib builds Blues and Spectral.
Rgb listed(const std::vector<const char*>& anchors, double t) {
  const double pos = std::clamp(t, 0.0, 1.0) * static_cast<double>(anchors.size() - 1);
  const std::size_t i = std::min(static_cast<std::size_t>(pos), anchors.size() - 2);
  return mix(hex(anchors[i]), hex(anchors[i + 1]), pos - static_cast<double>(i));
}

// One channel of a segmented colormap: (t, value) breakpoints, linear in between.
double segment(std::initializer_list<std::pair<double, double>> pts, double t) {
  auto hi = pts.begin() + 1;
  while (hi + 1 != pts.end() && hi->first < t) ++hi;
  const auto lo = hi - 1;
  return lo->second + (hi->second - lo->second) * (t - lo->first) / (hi->first - lo->first);
}

Rgb colormap(Colormap cmap, double t) {
  t = std::clamp(t, 0.0, 1.0);
  switch (cmap) {
    case Colormap::blues:
      return listed(
          {"#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"},
          t);
    case Colormap::spectral:
      return listed({"#9e0142", "#d53e4f", "#f46d43", "#fdae61", "#fee08b", "#ffffbf", "#e6f598", "#abdda4",
                     "#66c2a5", "#3288bd", "#5e4fa2"},
                    t);
    case Colormap::jet:  // matplotlib's _jet_data
      return {segment({{0, 0}, {0.35, 0}, {0.66, 1}, {0.89, 1}, {1, 0.5}}, t),
              segment({{0, 0}, {0.125, 0}, {0.375, 1}, {0.64, 1}, {0.91, 0}, {1, 0}}, t),
              segment({{0, 0.5}, {0.11, 1}, {0.34, 1}, {0.65, 0}, {1, 0}}, t)};
    case Colormap::gray:
      return {t, t, t};
  }
  return {t, t, t};
}

// (v - lo) / (hi - lo) as imshow and scatter normalise colours; 0 when all values are equal.
double normalise(double v, double lo, double hi) { return hi > lo ? (v - lo) / (hi - lo) : 0.0; }

// ================================ the PLplot stream ============================================

// Units of the pngcairo device: geometry is laid out at 72 dpi, but pango sizes fonts at 96 dpi,
// so one millimetre of PLplot character height is 96/25.4 pixels of font size.
constexpr double kPxPerMm = 72.0 / 25.4;
constexpr double kFontPxPerMm = 96.0 / 25.4;
// Sizes in pixels: matplotlib's defaults at 100 dpi.
constexpr double kFontPx = 13.9;    // 10 pt: tick labels, axis labels, legend
constexpr double kTitlePx = 16.7;   // 12 pt
constexpr double kLineWidth = 2.0;  // 1.5 pt
constexpr double kTickPx = 4.9;     // 3.5 pt

// PLplot keeps its streams, drivers and handlers in globals: one figure at a time.
std::mutex g_plplot_mutex;

// PLplot's answer to a fatal error is exit(); turn it into an exception instead. The figure is
// abandoned mid-way, which is fine: the program reports the error and stops.
int throw_on_plexit(const char* message) {
  throw UserError(std::string("PLplot failed: ") + message +
                  " (is PLplot fully installed? Debian: libplplot17 plplot-driver-cairo)");
}

// PLplot's recorded error message, without its trailing newline.
std::string message(const char* errmsg) {
  std::string m = errmsg;
  while (!m.empty() && std::isspace(static_cast<unsigned char>(m.back()))) m.pop_back();
  return m;
}

// Without the pngcairo driver, init() would prompt for a device on stdin; check first. (When
// this throws, ending the last stream makes PLplot forget its driver list, so a driver installed
// later is found.)
void require_pngcairo(const PLINT& errcode, const char* errmsg) {
  std::array<const char*, 128> menus{}, names{};
  const char** m = menus.data();
  const char** n = names.data();
  int count = static_cast<int>(names.size());
  plgDevs(&m, &n, &count);
  for (int i = 0; i < count; ++i)
    if (std::strcmp(names[static_cast<std::size_t>(i)], "pngcairo") == 0) return;
  throw UserError(
      std::string("PLplot has no 'pngcairo' PNG device") +
      (errcode ? " (" + message(errmsg) + ")" : std::string()) +
      ": install the Debian package plplot-driver-cairo (sudo apt-get install plplot-driver-cairo)");
}

const fs::path& checked_size(const fs::path& png, int width, int height) {
  if (width < 32 || height < 32 || width > 10000 || height > 10000)
    throw UserError("figure '" + png.string() + "' is " + std::to_string(width) + "x" +
                    std::to_string(height) + " pixels (use 32..10000 per side)");
  return png;
}

// PLplot treats '#' as its escape character: "##" prints one.
std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '#') out += '#';
  }
  return out;
}

// Fixed cmap0 entries; entries from kFirstFree on are set per figure.
enum Pen : PLINT { kBackground = 0, kBlack, kGridGray, kFrameGray, kTextGray, kWhite, kScratch, kFirstFree };

// One PNG being drawn: the lock, the temp file and a fully set-up PLplot stream, in that order so
// that the stream is ended (the PNG written) before the temp file is renamed or removed.
class Canvas {
 public:
  Canvas(const fs::path& png, int width, int height, int pens = 0)
      : lock_(g_plplot_mutex), tmp_(checked_size(png, width, height)), width_(width), height_(height) {
    plsexit(&throw_on_plexit);
    pls_ = std::make_unique<plstream>();
    pls_->sError(&errcode_, errmsg_);  // non-fatal PLplot errors: recorded here, not printed
    require_pngcairo(errcode_, errmsg_);
    pls_->sdev("pngcairo");
    pls_->sfnam(tmp_.path().c_str());
    pls_->spage(0, 0, width, height, 0, 0);
    pls_->scolbg(255, 255, 255);
    pls_->scmap0n(kFirstFree + std::max(pens, 1));
    set_pen(kBlack, kBlackRgb);
    set_pen(kGridGray, hex("#b0b0b0"));
    set_pen(kFrameGray, hex("#cccccc"));
    set_pen(kTextGray, kTextGrayRgb);
    set_pen(kWhite, kWhiteRgb);
    pls_->init();
    pls_->adv(0);
    pls_->col0(kBlack);
    font(kFontPx);
  }

  plstream& pls() { return *pls_; }
  int width() const { return width_; }
  int height() const { return height_; }

  void set_pen(PLINT pen, Rgb c, double alpha = 1.0) {
    pls_->scol0a(pen, static_cast<PLINT>(std::lround(c.r * 255)), static_cast<PLINT>(std::lround(c.g * 255)),
                 static_cast<PLINT>(std::lround(c.b * 255)), alpha);
  }
  void color(Rgb c, double alpha = 1.0) {  // a one-off colour through the scratch pen
    set_pen(kScratch, c, alpha);
    pls_->col0(kScratch);
  }
  void font(double px) { pls_->schr(px / kFontPxPerMm, 1.0); }

  // Viewport from pixel margins; PLplot's y runs up from the bottom.
  void viewport(double left, double right, double bottom, double top) {
    pls_->vpor(left / width_, 1.0 - right / width_, bottom / height_, 1.0 - top / height_);
  }

  // mtex with the offset from the viewport edge in pixels instead of character heights.
  void side_text(const char* side, double offset_px, double pos, double just, const std::string& text) {
    PLFLT def = 0, ht = 0;
    pls_->gchr(def, ht);
    pls_->mtex(side, offset_px / (ht * kPxPerMm), pos, just, escape(text).c_str());
  }

  // Ends the stream, which writes the PNG, and renames it into place.
  void save() {
    pls_.reset();
    if (errcode_ != 0) throw std::runtime_error("PLplot: " + message(errmsg_));
    tmp_.commit();
  }

 private:
  std::unique_lock<std::mutex> lock_;
  detail::TempFile tmp_;
  int width_, height_;
  PLINT errcode_ = 0;
  char errmsg_[1024] = {};
  std::unique_ptr<plstream> pls_;
};

// ================================ axes: ticks, layout, frame ===================================

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(lo <= hi); }
  double span() const { return hi - lo; }
};

// matplotlib's autoscale margin (5 % each side); a zero-width range gets +-0.5 or +-5 %.
Range with_margin(Range r, double frac = 0.05) {
  if (r.span() == 0) {
    const double pad = r.lo == 0 ? 0.5 : std::abs(r.lo) * 0.05;
    return {r.lo - pad, r.hi + pad};
  }
  const double pad = r.span() * frac;
  return {r.lo - pad, r.hi + pad};
}

// Approximate advance of a string in DejaVu Sans, in units of the font size.
double text_em(const std::string& s) {
  double w = 0;
  for (unsigned char c : s) {
    if (c >= 0x80 && c < 0xC0) continue;  // UTF-8 continuation byte
    w += (c >= '0' && c <= '9') ? 0.64 : c == '.' ? 0.32 : c >= 0x80 ? 0.84 : (c == ' ' ? 0.32 : 0.62);
  }
  return w;
}

// One axis: a linear axis gets matplotlib-like nice steps and fixed-decimal labels with a real
// minus sign; a log axis (data already log10) is labelled 10^k by PLplot.
struct Axis {
  Range range;  // window, in plotted units (log10 on a log axis)
  bool log = false;
  double step = 0;
  int decimals = 0;

  std::string label(double v) const {
    if (std::abs(v) < step * 1e-9) v = 0;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, std::abs(v));
    return (v < 0 ? "\u2212" : "") + std::string(buf);
  }
  std::vector<std::string> labels() const {
    std::vector<std::string> out;
    if (log) {
      for (double k = std::ceil(range.lo); k <= range.hi; ++k) out.push_back("10" + std::to_string(int(k)));
      return out;
    }
    for (double k = std::ceil(range.lo / step - 1e-9); k * step <= range.hi + step * 1e-9; ++k)
      out.push_back(label(k * step));
    return out;
  }
  double widest_em() const {
    double w = 0;
    for (const auto& s : labels()) w = std::max(w, text_em(s));
    return w;
  }
};

// Picks the smallest step of 1, 2, 2.5, 5 x 10^k that keeps ticks at least `min_px` apart and, on
// the x axis, keeps the labels from touching.
Axis make_axis(Range range, bool log, double length_px, double min_px, bool horizontal) {
  Axis axis{range, log};
  if (log) return axis;
  const double raw = range.span() * min_px / length_px;
  double scale = std::pow(10.0, std::floor(std::log10(raw)));
  for (int guard = 0; guard < 40; ++guard) {
    for (double m : {1.0, 2.0, 2.5, 5.0}) {
      axis.step = m * scale;
      if (axis.step < raw) continue;
      axis.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(axis.step) + 1e-9))) +
                      (m == 2.5 && axis.step < 1 ? 1 : 0);
      const double step_px = axis.step / range.span() * length_px;
      if (!horizontal || step_px >= (axis.widest_em() + 1.5) * kFontPx) return axis;
    }
    scale *= 10;
  }
  return axis;
}

// PLplot calls this for every linear tick label ('o' in the box options).
void label_tick(PLINT, PLFLT value, char* out, PLINT length, PLPointer data) {
  const std::string s = static_cast<const Axis*>(data)->label(value);
  std::snprintf(out, static_cast<std::size_t>(length), "%s", s.c_str());
}

// A 2-D axes figure: computes the margins its text needs, then draws grid, data, frame, labels.
class Axes {
 public:
  Axes(Canvas& canvas, const Figure& fig, Range x, Range y) : c_(canvas), fig_(fig) {
    const double W = canvas.width(), H = canvas.height();
    const bool logx = fig.logx, logy = fig.logy;
    // The y labels' width depends on the y step, which depends on the height: decide y first.
    top_ = fig.title.empty() ? 0.8 * kFontPx : 2.0 * kTitlePx;
    bottom_ = kTickPx + 1.8 * kFontPx + (fig.xlabel.empty() ? 0 : 1.6 * kFontPx) + 4;
    y_ = make_axis(y, logy, H - top_ - bottom_, 3.0 * kFontPx, false);
    const double ylabels_px = (logy ? 3.2 : y_.widest_em()) * kFontPx;
    left_ = 6 + ylabels_px + kTickPx + 6 + (fig.ylabel.empty() ? 0 : 1.7 * kFontPx);
    right_ = std::max(14.0, 0.5 * 6 * 0.64 * kFontPx);  // room for half of the last x label
    x_ = make_axis(x, logx, W - left_ - right_, 4.0 * kFontPx, true);
    if (W - left_ - right_ < 16 || H - top_ - bottom_ < 16)
      throw UserError("figure " + std::to_string(int(W)) + "x" + std::to_string(int(H)) +
                      " is too small for its labels (make it larger)");
    c_.viewport(left_, right_, bottom_, top_);
    c_.pls().wind(x_.range.lo, x_.range.hi, y_.range.lo, y_.range.hi);
    if (fig.grid) draw_grid();
  }

  // Data coordinates -> pixels inside the viewport (origin bottom-left).
  double px_x(double v) const { return (v - x_.range.lo) / x_.range.span() * plot_w(); }
  double px_y(double v) const { return (v - y_.range.lo) / y_.range.span() * plot_h(); }
  double plot_w() const { return c_.width() - left_ - right_; }
  double plot_h() const { return c_.height() - top_ - bottom_; }
  const Axis& x() const { return x_; }
  const Axis& y() const { return y_; }

  // Spines, outward ticks and tick labels on the left and bottom, then the axis labels and title.
  void draw_frame() {
    plstream& p = c_.pls();
    p.col0(kBlack);
    p.width(1.0);
    c_.font(kFontPx);
    p.smaj(kTickPx / kPxPerMm, 1.0);
    p.smin(kTickPx / 2 / kPxPerMm, 1.0);
    p.box("bc", 0, 0, "bc", 0, 0);
    p.slabelfunc(&label_tick, &x_);
    p.box(x_.log ? "bnstil" : "bntio", x_.log ? 0 : x_.step, 0, "", 0, 0);
    p.slabelfunc(&label_tick, &y_);
    p.box("", 0, 0, y_.log ? "bnstilv" : "bntiov", y_.log ? 0 : y_.step, 0);
    p.slabelfunc(nullptr, nullptr);
    if (!fig_.xlabel.empty()) c_.side_text("b", kTickPx + 2.6 * kFontPx, 0.5, 0.5, fig_.xlabel);
    if (!fig_.ylabel.empty())
      c_.side_text("l", kTickPx + 8 + (y_.log ? 3.2 : y_.widest_em()) * kFontPx + 0.6 * kFontPx, 0.5, 0.5,
                   fig_.ylabel);
    if (!fig_.title.empty()) {
      c_.font(kTitlePx);
      c_.side_text("t", 0.9 * kTitlePx, 0.5, 0.5, fig_.title);
      c_.font(kFontPx);
    }
  }

 private:
  void draw_grid() {  // light gray lines at the major ticks, under the data
    plstream& p = c_.pls();
    p.col0(kGridGray);
    p.width(1.0);
    p.box(x_.log ? "gl" : "g", x_.log ? 0 : x_.step, 0, y_.log ? "gl" : "g", y_.log ? 0 : y_.step, 0);
  }

  Canvas& c_;
  const Figure& fig_;
  Axis x_, y_;
  double left_ = 0, right_ = 0, bottom_ = 0, top_ = 0;
};

// ================================ legend =======================================================

struct Entry {
  std::string label;
  PLINT pen;
  bool line;  // a line sample, else a filled box (histograms)
};

// Puts the legend where it covers the fewest of `samples` (data points in viewport pixels), trying
// matplotlib's loc='best' candidates in its order: upper right, upper left, lower left, lower
// right, right, center left, lower center, upper center, center.
void draw_legend(Canvas& c, const Axes& axes, const std::vector<Entry>& entries,
                 const std::vector<std::pair<double, double>>& samples) {
  if (entries.empty()) return;
  double widest = 0;
  for (const auto& e : entries) widest = std::max(widest, text_em(e.label));
  const double pad = 0.5 * kFontPx, row = 1.4 * kFontPx;
  const double w = (2.0 + 0.8 + widest + 1.5) * kFontPx, h = static_cast<double>(entries.size()) * row + pad;
  // (x, y) of each candidate: -1 left/bottom, 0 centre, 1 right/top.
  const std::array<std::pair<int, int>, 9> candidates = {
      {{1, 1}, {-1, 1}, {-1, -1}, {1, -1}, {1, 0}, {-1, 0}, {0, -1}, {0, 1}, {0, 0}}};
  std::size_t best = 0, best_hits = std::numeric_limits<std::size_t>::max();
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    const auto [hx, hy] = candidates[k];
    const double x0 = hx < 0 ? pad : hx > 0 ? axes.plot_w() - pad - w : (axes.plot_w() - w) / 2;
    const double y0 = hy < 0 ? pad : hy > 0 ? axes.plot_h() - pad - h : (axes.plot_h() - h) / 2;
    const auto hits =
        static_cast<std::size_t>(std::count_if(samples.begin(), samples.end(), [&](const auto& s) {
          return s.first >= x0 && s.first <= x0 + w && s.second >= y0 && s.second <= y0 + h;
        }));
    if (hits < best_hits) best = k, best_hits = hits;
  }
  const auto [hx, hy] = candidates[best];
  PLINT position = PL_POSITION_INSIDE;
  if (hx != 0) position |= hx < 0 ? PL_POSITION_LEFT : PL_POSITION_RIGHT;
  if (hy != 0) position |= hy < 0 ? PL_POSITION_BOTTOM : PL_POSITION_TOP;

  const std::size_t count = entries.size();
  std::vector<PLINT> opts, pens, styles(count, 1), patterns(count, 0), text_pens(count, kBlack);
  std::vector<PLFLT> widths(count, kLineWidth);
  std::vector<PLFLT> box_scales(count, 0.5);  // histogram patches half a line tall, like matplotlib's
  std::vector<std::string> escaped;
  std::vector<const char*> texts;
  for (const auto& e : entries) {
    opts.push_back(e.line ? PL_LEGEND_LINE : PL_LEGEND_COLOR_BOX);
    pens.push_back(e.pen);
    escaped.push_back(escape(e.label));
  }
  for (const auto& s : escaped) texts.push_back(s.c_str());
  PLFLT def = 0, ht = 0;
  c.font(kFontPx);
  c.pls().gchr(def, ht);
  const double char_px = ht * kPxPerMm;  // PLplot's "character height" unit, in pixels
  // pllegend measures text_offset in character heights scaled to the page *width*: undo that.
  const double offset = 0.8 * kFontPx / char_px * c.height() / c.width();
  PLFLT lw = 0, lh = 0;
  c.pls().width(1.0);
  c.pls().legend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, position,
                 hx == 0 ? 0 : pad / axes.plot_w(), hy == 0 ? 0 : pad / axes.plot_h(),  // inset
                 2.0 * kFontPx / axes.plot_w(),                                         // sample length: 2 em
                 kWhite, kFrameGray, 1, 0, 0,             // white box, light gray frame, one column
                 static_cast<PLINT>(count), opts.data(),  // entries: lines or patches
                 offset, 1.0, row / char_px, 0.0, text_pens.data(), texts.data(),  // text
                 pens.data(), patterns.data(), box_scales.data(), widths.data(),   // patches
                 pens.data(), styles.data(), widths.data(),                        // line samples
                 nullptr, nullptr, nullptr, nullptr);                              // no symbols
}

// ================================ data helpers =================================================

[[noreturn]] void empty_data(const fs::path& png, const std::string& what) {
  throw UserError("figure '" + png.string() + "': " + what + " (pass at least one finite value)");
}

// A curve in plotted units (log10 on log axes); NaN, inf and, on a log axis, values <= 0 are
// dropped as matplotlib masks them, and break the line there.
struct Polyline {
  std::vector<std::vector<double>> xs, ys;  // one part per unbroken run
};

Polyline to_plotted(const Line& line, bool logx, bool logy) {
  Polyline out;
  bool open = false;
  for (std::size_t i = 0; i < line.y.size(); ++i) {
    double x = line.x.empty() ? static_cast<double>(i) : line.x[i], y = line.y[i];
    const bool ok = std::isfinite(x) && std::isfinite(y) && (!logx || x > 0) && (!logy || y > 0);
    if (!ok) {
      open = false;
      continue;
    }
    if (!open) out.xs.emplace_back(), out.ys.emplace_back(), open = true;
    out.xs.back().push_back(logx ? std::log10(x) : x);
    out.ys.back().push_back(logy ? std::log10(y) : y);
  }
  return out;
}

// Keeps, per bucket of consecutive points, the first, lowest, highest and last (in their order):
// a 200k-step loss curve drawn through ~4 points per pixel column looks the same as the original.
void decimate(std::vector<double>& xs, std::vector<double>& ys, std::size_t buckets) {
  if (xs.size() <= 4 * buckets) return;
  std::vector<double> ox, oy;
  const std::size_t n = xs.size();
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t lo = b * n / buckets, hi = (b + 1) * n / buckets;
    if (lo == hi) continue;
    std::size_t imin = lo, imax = lo;
    for (std::size_t i = lo; i < hi; ++i) {
      if (ys[i] < ys[imin]) imin = i;
      if (ys[i] > ys[imax]) imax = i;
    }
    std::array<std::size_t, 4> keep = {lo, std::min(imin, imax), std::max(imin, imax), hi - 1};
    for (std::size_t k = 0; k < keep.size(); ++k)
      if (k == 0 || keep[k] != keep[k - 1]) ox.push_back(xs[keep[k]]), oy.push_back(ys[keep[k]]);
  }
  xs.swap(ox);
  ys.swap(oy);
}

// Points along a polyline every few pixels, for the legend's "covers the fewest points" test.
void sample_polyline(const Axes& axes, const std::vector<double>& xs, const std::vector<double>& ys,
                     std::vector<std::pair<double, double>>& out) {
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double x = axes.px_x(xs[i]), y = axes.px_y(ys[i]);
    out.emplace_back(x, y);
    if (i + 1 == xs.size()) break;
    const double dx = axes.px_x(xs[i + 1]) - x, dy = axes.px_y(ys[i + 1]) - y;
    const int steps = std::min(200, static_cast<int>(std::hypot(dx, dy) / 6));
    for (int s = 1; s < steps; ++s) out.emplace_back(x + dx * s / steps, y + dy * s / steps);
  }
}

struct Bins {
  double lo, hi;
  std::vector<double> counts;
  double width() const { return (hi - lo) / static_cast<double>(counts.size()); }
};

// numpy/torch histogram binning: equal bins over [lo, hi], the last one closed.
void count_into(Bins& bins, const std::vector<double>& values) {
  const auto n = static_cast<double>(bins.counts.size());
  for (double v : values) {
    if (!std::isfinite(v) || v < bins.lo || v > bins.hi) continue;
    const auto i =
        std::min(static_cast<std::size_t>((v - bins.lo) / (bins.hi - bins.lo) * n), bins.counts.size() - 1);
    bins.counts[i] += 1;
  }
}

Range finite_range(const std::vector<double>& values) {
  Range r;
  for (double v : values)
    if (std::isfinite(v)) r.add(v);
  return r;
}

void check_bins(int bins) {
  if (bins < 1 || bins > 100000)
    throw UserError("histogram bins = " + std::to_string(bins) + " (use 1..100000)");
}

// A filled circle of `radius_px`, as polygon in world units of the current axes.
void disc(plstream& p, const Axes& axes, double x, double y, double radius_px) {
  constexpr int kSides = 32;
  std::array<PLFLT, kSides> xs{}, ys{};
  const double rx = radius_px / axes.plot_w() * axes.x().range.span();
  const double ry = radius_px / axes.plot_h() * axes.y().range.span();
  for (int i = 0; i < kSides; ++i) {
    const double a = 2 * M_PI * i / kSides;
    xs[static_cast<std::size_t>(i)] = x + rx * std::cos(a);
    ys[static_cast<std::size_t>(i)] = y + ry * std::sin(a);
  }
  p.fill(kSides, xs.data(), ys.data());
}

// matplotlib's s= is the marker's area in points^2; at 100 dpi a point is 100/72 pixels.
double marker_radius_px(double s) { return std::sqrt(std::max(s, 0.0)) / 2 * 100.0 / 72.0; }

void check_points(const fs::path& png, const Points& pts) {
  if (pts.x.empty()) empty_data(png, "no points");
  if (pts.y.size() != pts.x.size())
    throw UserError("figure '" + png.string() + "': x has " + std::to_string(pts.x.size()) +
                    " values but y has " + std::to_string(pts.y.size()));
  if (!pts.value.empty() && pts.value.size() != pts.x.size())
    throw UserError("figure '" + png.string() + "': value has " + std::to_string(pts.value.size()) +
                    " entries for " + std::to_string(pts.x.size()) + " points (give one per point or none)");
  if (!pts.labels.empty() && pts.labels.size() != pts.x.size())
    throw UserError("figure '" + png.string() + "': labels has " + std::to_string(pts.labels.size()) +
                    " entries for " + std::to_string(pts.x.size()) + " points (give one per point or none)");
}

// Markers (and their labels) on top of existing axes.
void draw_points(Canvas& c, const Axes& axes, const Points& pts) {
  const Range vr = finite_range(pts.value);
  const double r = marker_radius_px(pts.size);
  for (std::size_t i = 0; i < pts.x.size(); ++i) {
    if (!std::isfinite(pts.x[i]) || !std::isfinite(pts.y[i])) continue;
    const bool colored = !pts.value.empty() && std::isfinite(pts.value[i]);
    c.color(colored ? colormap(pts.cmap, normalise(pts.value[i], vr.lo, vr.hi)) : hex(kCycle[0]));
    disc(c.pls(), axes, pts.x[i], pts.y[i], r);
  }
  if (pts.labels.empty()) return;
  c.pls().col0(kWhite);
  c.font(kFontPx);
  for (std::size_t i = 0; i < pts.x.size(); ++i)
    if (std::isfinite(pts.x[i]) && std::isfinite(pts.y[i]))
      c.pls().ptex(pts.x[i], pts.y[i], 1, 0, 0.5, escape(pts.labels[i]).c_str());
}

}  // namespace

// ================================ the figures ==================================================

void lines(const fs::path& png, const std::vector<Line>& curves, const Figure& fig) {
  if (curves.empty()) empty_data(png, "no lines");
  std::vector<Polyline> parts;
  Range xr, yr;
  for (std::size_t k = 0; k < curves.size(); ++k) {
    const Line& l = curves[k];
    if (!l.x.empty() && l.x.size() != l.y.size())
      throw UserError("figure '" + png.string() + "': line " + std::to_string(k) + " has " +
                      std::to_string(l.x.size()) + " x values but " + std::to_string(l.y.size()) +
                      " y values");
    if (!l.color.empty()) parse_color(l.color);
    parts.push_back(to_plotted(l, fig.logx, fig.logy));
    for (std::size_t j = 0; j < parts.back().xs.size(); ++j)
      for (std::size_t i = 0; i < parts.back().xs[j].size(); ++i)
        xr.add(parts.back().xs[j][i]), yr.add(parts.back().ys[j][i]);
  }
  if (xr.empty())
    empty_data(png, fig.logx || fig.logy ? "no finite positive values for the log axis" : "no finite values");

  Canvas c(png, fig.width, fig.height, static_cast<int>(curves.size()));
  Axes axes(c, fig, with_margin(xr), with_margin(yr));
  std::vector<Entry> entries;
  std::vector<std::pair<double, double>> samples;
  std::size_t cycle = 0;
  for (std::size_t k = 0; k < curves.size(); ++k) {
    const auto pen = static_cast<PLINT>(kFirstFree + k);
    c.set_pen(pen,
              curves[k].color.empty() ? hex(kCycle[cycle++ % kCycle.size()]) : parse_color(curves[k].color));
    c.pls().col0(pen);
    c.pls().width(kLineWidth);
    for (std::size_t j = 0; j < parts[k].xs.size(); ++j) {
      auto& xs = parts[k].xs[j];
      auto& ys = parts[k].ys[j];
      if (std::is_sorted(xs.begin(), xs.end())) decimate(xs, ys, static_cast<std::size_t>(axes.plot_w()));
      if (xs.size() == 1)
        disc(c.pls(), axes, xs[0], ys[0], kLineWidth);  // a lone point would otherwise be invisible
      else
        c.pls().line(static_cast<PLINT>(xs.size()), xs.data(), ys.data());
      sample_polyline(axes, xs, ys, samples);
    }
    if (!curves[k].label.empty()) entries.push_back({curves[k].label, pen, true});
  }
  axes.draw_frame();
  draw_legend(c, axes, entries, samples);
  c.save();
}

Line density(const std::vector<double>& values, int bins, std::string label) {
  check_bins(bins);
  const Range r = finite_range(values);
  if (r.empty()) throw UserError("density of no finite values (pass at least one)");
  Bins b{r.lo, r.hi, std::vector<double>(static_cast<std::size_t>(bins), 0.0)};
  if (r.span() == 0) b.lo -= 0.5, b.hi += 0.5;  // numpy's range for constant data
  count_into(b, values);
  double total = 0;
  for (double n : b.counts) total += n;
  Line line{{}, {}, std::move(label), ""};
  for (std::size_t i = 0; i < b.counts.size(); ++i) {
    line.x.push_back(b.lo + static_cast<double>(i) * b.width());
    line.y.push_back(b.counts[i] / (total * b.width()));
  }
  return line;
}

void histogram(const fs::path& png, const std::vector<Hist>& sets, int bins, const Figure& fig) {
  check_bins(bins);
  if (sets.empty()) empty_data(png, "no data sets");
  Range r;
  for (const auto& s : sets) {
    const Range sr = finite_range(s.values);
    if (!sr.empty()) r.add(sr.lo), r.add(sr.hi);
  }
  if (r.empty()) empty_data(png, "no finite values");
  if (r.span() == 0) r = {r.lo - 0.5, r.hi + 0.5};
  std::vector<Bins> counted;
  Range yr;
  yr.add(0);
  for (const auto& s : sets) {
    counted.push_back({r.lo, r.hi, std::vector<double>(static_cast<std::size_t>(bins), 0.0)});
    count_into(counted.back(), s.values);
    for (double n : counted.back().counts) yr.add(n);
  }

  Figure f = fig;
  f.logx = f.logy = false;  // bars on log axes are not needed by the course
  Canvas c(png, f.width, f.height, static_cast<int>(sets.size()));
  Range ym = with_margin(yr);
  ym.lo = 0;  // bars stand on the axis, as in matplotlib
  Axes axes(c, f, with_margin(r), ym);
  std::vector<Entry> entries;
  std::vector<std::pair<double, double>> samples;
  const double alpha = sets.size() > 1 ? 0.5 : 1.0;
  for (std::size_t k = 0; k < counted.size(); ++k) {
    const auto pen = static_cast<PLINT>(kFirstFree + k);
    c.set_pen(pen, hex(kCycle[k % kCycle.size()]), alpha);
    c.pls().col0(pen);
    // The bars as one step-shaped polygon: no seams between bars, one alpha blend per set.
    const Bins& b = counted[k];
    std::vector<PLFLT> xs{b.lo}, ys{0};
    for (std::size_t i = 0; i < b.counts.size(); ++i) {
      const double x0 = b.lo + static_cast<double>(i) * b.width();
      xs.insert(xs.end(), {x0, x0 + b.width()});
      ys.insert(ys.end(), {b.counts[i], b.counts[i]});
      samples.emplace_back(axes.px_x(x0 + b.width() / 2), axes.px_y(b.counts[i]));
      for (double y = 0; y < b.counts[i]; y += ym.span() / 20)  // the bar's body covers data too
        samples.emplace_back(axes.px_x(x0 + b.width() / 2), axes.px_y(y));
    }
    xs.push_back(b.hi);
    ys.push_back(0);
    c.pls().fill(static_cast<PLINT>(xs.size()), xs.data(), ys.data());
    if (!sets[k].label.empty()) entries.push_back({sets[k].label, pen, false});
  }
  axes.draw_frame();
  draw_legend(c, axes, entries, samples);
  c.save();
}

void heatmap(const fs::path& png, const Heatmap& map, const Figure& fig) {
  const auto cells =
      static_cast<std::size_t>(std::max(map.rows, 0)) * static_cast<std::size_t>(std::max(map.cols, 0));
  if (map.rows <= 0 || map.cols <= 0) empty_data(png, "heatmap has no cells");
  if (map.values.size() != cells)
    throw UserError("figure '" + png.string() + "': heatmap has " + std::to_string(map.values.size()) +
                    " values for " + std::to_string(map.rows) + "x" + std::to_string(map.cols) + " cells");
  for (const auto* text : {&map.upper, &map.lower})
    if (!text->empty() && text->size() != cells)
      throw UserError("figure '" + png.string() + "': heatmap text has " + std::to_string(text->size()) +
                      " entries for " + std::to_string(cells) + " cells (give one per cell or none)");

  Canvas c(png, fig.width, fig.height);
  // Square cells filling the figure (imshow's aspect='equal', axis('off')), below the title.
  const double margin = 0.02 * std::min(fig.width, fig.height);
  const double top = margin + (fig.title.empty() ? 0 : 2.0 * kTitlePx);
  const double cell = std::min((fig.width - 2 * margin) / map.cols, (fig.height - top - margin) / map.rows);
  const double w = cell * map.cols, h = cell * map.rows;
  const double left = (fig.width - w) / 2, bottom = fig.height - top - h;
  c.viewport(left, fig.width - left - w, bottom, top);
  c.pls().wind(-0.5, map.cols - 0.5, map.rows - 0.5, -0.5);  // row 0 at the top, like imshow

  const Range vr = finite_range(map.values);
  for (int i = 0; i < map.rows; ++i)
    for (int j = 0; j < map.cols; ++j) {
      const double v = map.values[static_cast<std::size_t>(i * map.cols + j)];
      c.color(std::isfinite(v) ? colormap(map.cmap, normalise(v, vr.lo, vr.hi)) : kWhiteRgb);
      // Each cell reaches a little into the next one, which then paints over it: no
      // anti-aliasing seams of background between cells.
      const PLFLT x0 = j - 0.5, x1 = std::min(j + 0.52, map.cols - 0.5);
      const PLFLT y0 = i - 0.5, y1 = std::min(i + 0.52, map.rows - 0.5);
      const std::array<PLFLT, 4> xs = {x0, x1, x1, x0}, ys = {y0, y0, y1, y1};
      c.pls().fill(4, xs.data(), ys.data());
    }

  // The lecture's plt.text(j, i, ..., va='bottom'/'top', color='gray'), sized to the cell.
  const double font_px = std::clamp(0.28 * cell, 6.0, 2 * kFontPx);
  c.font(font_px);
  c.pls().col0(kTextGray);
  const double shift = 0.45 * font_px / cell;  // half a line, in cells
  for (int i = 0; i < map.rows; ++i)
    for (int j = 0; j < map.cols; ++j) {
      const auto k = static_cast<std::size_t>(i * map.cols + j);
      if (!map.upper.empty()) c.pls().ptex(j, i - shift, 1, 0, 0.5, escape(map.upper[k]).c_str());
      if (!map.lower.empty()) c.pls().ptex(j, i + shift, 1, 0, 0.5, escape(map.lower[k]).c_str());
    }
  if (!fig.title.empty()) {
    c.font(kTitlePx);
    c.pls().col0(kBlack);
    c.side_text("t", 0.9 * kTitlePx, 0.5, 0.5, fig.title);
  }
  c.save();
}

void scatter(const fs::path& png, const Points& points, const Figure& fig) {
  check_points(png, points);
  Range xr = finite_range(points.x), yr = finite_range(points.y);
  if (xr.empty() || yr.empty()) empty_data(png, "no finite points");
  Figure f = fig;
  f.logx = f.logy = false;
  Canvas c(png, f.width, f.height);
  // 5 % margins plus room for the markers, so big labelled markers are not cut at the edges.
  const double r = marker_radius_px(points.size) + 2;
  const double fx = std::min(0.3, r / (0.75 * f.width)), fy = std::min(0.3, r / (0.75 * f.height));
  Axes axes(c, f, with_margin(xr, 0.05 + fx), with_margin(yr, 0.05 + fy));
  draw_points(c, axes, points);
  axes.draw_frame();
  c.save();
}

void contourf(const fs::path& png, const Grid& grid, const Points& points, const Figure& fig) {
  const std::size_t nx = grid.xs.size(), ny = grid.ys.size();
  if (nx < 2 || ny < 2)
    throw UserError("figure '" + png.string() + "': the mesh needs at least 2 x and 2 y values (got " +
                    std::to_string(nx) + " and " + std::to_string(ny) + ")");
  if (grid.z.size() != nx * ny)
    throw UserError("figure '" + png.string() + "': z has " + std::to_string(grid.z.size()) +
                    " values for a " + std::to_string(nx) + "x" + std::to_string(ny) + " mesh");
  for (const auto* axis : {&grid.xs, &grid.ys})
    if (!std::is_sorted(axis->begin(), axis->end(), std::less_equal<double>()) ||
        !std::isfinite(axis->front()) || !std::isfinite(axis->back()))
      throw UserError("figure '" + png.string() +
                      "': the mesh's xs and ys must be finite and increasing "
                      "(like np.arange(lo, hi, h))");
  const Range zr = finite_range(grid.z);
  if (zr.empty()) empty_data(png, "z has no finite values");
  if (!points.x.empty()) check_points(png, points);

  Figure f = fig;
  f.logx = f.logy = false;
  Canvas c(png, f.width, f.height);
  const Range xr{grid.xs.front(), grid.xs.back()}, yr{grid.ys.front(), grid.ys.back()};
  Axes axes(c, f, xr, yr);  // limited to the mesh, like plt.xlim(xx.min(), xx.max())

  // Levels: matplotlib-like nice steps over z; band colours at the bands' middles, drawn at
  // alpha 0.8 over white (blended here, so overlapping fills cannot double-blend).
  const Axis levels = make_axis(with_margin(zr, 0.0), false, 8, 1, false);
  const double first = std::floor(zr.lo / levels.step + 1e-9);
  std::vector<PLFLT> clevel;
  for (double k = first; clevel.size() < 2 || clevel.back() < zr.hi - levels.step * 1e-9; ++k)
    clevel.push_back(k * levels.step);
  const std::size_t bands = clevel.size() - 1;
  std::vector<PLINT> r(bands), g(bands), b(bands);
  for (std::size_t i = 0; i < bands; ++i) {
    const double middle = (static_cast<double>(i) + 0.5) / static_cast<double>(bands);
    const Rgb col = mix(kWhiteRgb, colormap(Colormap::spectral, middle), 0.8);
    r[i] = static_cast<PLINT>(std::lround(col.r * 255));
    g[i] = static_cast<PLINT>(std::lround(col.g * 255));
    b[i] = static_cast<PLINT>(std::lround(col.b * 255));
  }
  c.pls().scmap1(r.data(), g.data(), b.data(), static_cast<PLINT>(bands));
  if (bands == 1) {
    c.pls().col1(0);
    const std::array<PLFLT, 4> xs = {xr.lo, xr.hi, xr.hi, xr.lo}, ys = {yr.lo, yr.lo, yr.hi, yr.hi};
    c.pls().fill(4, xs.data(), ys.data());
  } else {
    std::vector<std::vector<PLFLT>> columns(nx, std::vector<PLFLT>(ny));  // PLplot indexes a[ix][iy]
    std::vector<const PLFLT*> a(nx);
    for (std::size_t i = 0; i < nx; ++i) {
      for (std::size_t j = 0; j < ny; ++j) {
        const double z = grid.z[j * nx + i];
        columns[i][j] = std::isfinite(z) ? z : zr.lo;
      }
      a[i] = columns[i].data();
    }
    c.pls().shades(a.data(), static_cast<PLINT>(nx), static_cast<PLINT>(ny), nullptr, xr.lo, xr.hi, yr.lo,
                   yr.hi, clevel.data(), static_cast<PLINT>(clevel.size()), 1, 0, 0, plfill, true, nullptr,
                   nullptr);
  }
  if (!points.x.empty()) draw_points(c, axes, points);
  axes.draw_frame();
  c.save();
}

}  // namespace z2h::plot
