#include "common/app/progress.hpp"

#include <unistd.h>  // isatty, fileno

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

namespace z2h {

namespace {

constexpr int kBarWidth = 20;
constexpr double kRedrawSeconds = 0.1;  // a terminal line redrawn more often only costs time

double steady_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// 83 -> "1:23", 3723 -> "1:02:03"
std::string clock_time(double seconds) {
  auto s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  }
  return buf;
}

// Three significant-ish figures: "5120", "42.5", "3.14".
std::string rate_text(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, rate >= 100 ? "%.0f" : rate >= 10 ? "%.1f" : "%.2f", rate);
  return buf;
}

}  // namespace

Progress::Progress(int64_t total, std::string label, bool quiet, std::FILE* out)
    : total_(total),
      label_(std::move(label)),
      enabled_(!quiet && total > 0),
      out_(out),
      terminal_(isatty(fileno(out)) != 0),
      clock_(steady_seconds),
      start_s_(clock_()) {}

Progress::~Progress() {
  if (!finished_) erase();
}

void Progress::set_terminal_for_testing(bool is_terminal) { terminal_ = is_terminal; }

void Progress::set_clock_for_testing(std::function<double()> clock) {
  clock_ = std::move(clock);
  start_s_ = clock_();
}

std::string Progress::line(bool final) const {
  const int64_t done = std::clamp<int64_t>(done_, 0, total_);
  const int filled = static_cast<int>(done * kBarWidth / total_);
  const double elapsed = clock_() - start_s_;
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;

  std::string s = label_.empty() ? "" : label_ + " ";
  s.append("[").append(filled, '#').append(kBarWidth - filled, '-').append("]");
  const std::string total_text = std::to_string(total_);
  char buf[96];
  std::snprintf(buf, sizeof buf, " %3d%%  %*lld/%s", static_cast<int>(done * 100 / total_),
                static_cast<int>(total_text.size()), static_cast<long long>(done), total_text.c_str());
  s += buf;
  if (rate > 0) s += "  " + rate_text(rate) + " steps/s";
  if (final || done == total_) {
    s += "  in " + clock_time(elapsed);
  } else if (rate > 0) {
    s += "  ETA " + clock_time(static_cast<double>(total_ - done) / rate);
  }
  if (loss_) {
    std::snprintf(buf, sizeof buf, "  loss %.4f", *loss_);
    s += buf;
  }
  return s;
}

void Progress::update(int64_t done, std::optional<double> loss) {
  if (!enabled_ || finished_) return;
  done_ = done;
  if (loss) loss_ = loss;
  if (terminal_) {
    const double now = clock_();
    if (now - last_draw_s_ >= kRedrawSeconds || done >= total_) draw();
    return;
  }
  // Not a terminal: one line each time another tenth of the steps is done.
  const int64_t tenths = std::clamp<int64_t>(done, 0, total_) * 10 / total_;
  if (tenths > printed_tenths_) {
    std::fprintf(out_, "%s\n", line(false).c_str());
    std::fflush(out_);
    printed_tenths_ = tenths;
    printed_done_ = done_;
  }
}

void Progress::println(const std::string& text) {
  if (finished_ || !enabled_ || !terminal_) {
    std::fprintf(out_, "%s\n", text.c_str());
    std::fflush(out_);
    return;
  }
  const bool was_drawn = drawn_width_ > 0;
  erase();
  std::fprintf(out_, "%s\n", text.c_str());
  if (was_drawn) draw();
  std::fflush(out_);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  if (terminal_) {
    erase();
    std::fprintf(out_, "%s\n", line(true).c_str());
  } else if (printed_done_ != done_) {  // stopped between tenths, or never got to print
    std::fprintf(out_, "%s\n", line(true).c_str());
  }
  std::fflush(out_);
}

void Progress::draw() {
  const std::string s = line(false);
  // '\r' returns to the start of the line; spaces cover what a longer previous line left behind.
  const size_t pad = drawn_width_ > s.size() ? drawn_width_ - s.size() : 0;
  std::fprintf(out_, "\r%s%s", s.c_str(), std::string(pad, ' ').c_str());
  std::fflush(out_);
  drawn_width_ = s.size() + pad;
  last_draw_s_ = clock_();
}

void Progress::erase() {
  if (drawn_width_ == 0) return;
  std::fprintf(out_, "\r%s\r", std::string(drawn_width_, ' ').c_str());
  std::fflush(out_);
  drawn_width_ = 0;
}

std::string lecture_line(int64_t step, int64_t max_steps, double loss) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%7lld/%7lld: %.4f", static_cast<long long>(step),
                static_cast<long long>(max_steps), loss);
  return buf;
}

}  // namespace z2h
