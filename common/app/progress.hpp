#pragma once
// A progress bar for long loops: steps done, steps/s, ETA and the latest loss.
//
//   z2h::Progress bar(opt.steps, "train", opt.quiet);
//   for (int64_t i = 0; i < opt.steps; ++i) {
//     double loss = step(i);
//     if (i % 10000 == 0) bar.println(lecture_line(i, opt.steps, loss));  // "      0/ 200000: 3.3239"
//     bar.update(i + 1, loss);
//   }
//   bar.finish();
//
// On a terminal it redraws one line in place (at most 10 times a second):
//   train [########------------]  40%   80000/200000  5120 steps/s  ETA 0:23  loss 2.2311
// Anywhere else (a pipe, a CI log) it prints that line once per 10 % instead, so logs stay short.
// --quiet draws nothing.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

namespace z2h {

class Progress {
 public:
  // `total` steps (0 draws nothing); `label` starts the line; the bar goes to `out`.
  Progress(int64_t total, std::string label, bool quiet, std::FILE* out = stdout);
  ~Progress();  // a bar left half-drawn (an exception is unwinding) is erased, so the error line reads clean
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `done` steps are complete (1 after the first step); `loss` is shown when given.
  void update(int64_t done, std::optional<double> loss = std::nullopt);

  // Prints one line of the stage's own output (a lecture-style progress line) above the bar,
  // which is redrawn below it. Printed even with --quiet: only the bar is quiet.
  void println(const std::string& line);

  // Draws the final state (elapsed time instead of ETA) and ends the line. Called at most once
  // in effect; later calls do nothing.
  void finish();

  // For tests: treat `out` as a terminal or not (default: isatty), and read the time in seconds
  // from `clock` (default: std::chrono::steady_clock). Call right after constructing.
  void set_terminal_for_testing(bool is_terminal);
  void set_clock_for_testing(std::function<double()> clock);

 private:
  std::string line(bool final) const;  // "train [###---]  40%  80000/200000  5120 steps/s  ETA 0:23"
  void draw();                         // terminal: rewrite the line in place
  void erase();                        // terminal: blank the drawn line, cursor at its start

  int64_t total_;
  std::string label_;
  bool enabled_;
  std::FILE* out_;
  bool terminal_;
  std::function<double()> clock_;
  double start_s_;
  int64_t done_ = 0;
  std::optional<double> loss_;
  double last_draw_s_ = -1.0;  // terminal: when the line was last drawn
  size_t drawn_width_ = 0;     // terminal: characters on screen to erase (0: nothing drawn)
  int64_t printed_tenths_ = 0; // elsewhere: how many 10 % lines have been printed
  int64_t printed_done_ = 0;   // elsewhere: `done` in the last printed line
  bool finished_ = false;
};

// The lectures' progress line, Python's f'{i:7d}/{max_steps:7d}: {loss:.4f}':
// lecture_line(0, 200000, 3.32386) == "      0/ 200000: 3.3239".
std::string lecture_line(int64_t step, int64_t max_steps, double loss);

}  // namespace z2h
