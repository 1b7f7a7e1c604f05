#pragma once
// common/app/run_report.hpp — what every run reports, written once: the stopwatch, the lecture's
// progress lines and the progress bar, metrics.csv (one row per step) and summary.json.
//
//   z2h::RunReport report(opt, settings, out);           // summary: stage, seed, threads, ...
//   report.start(opt.steps, {"step", "loss", "lr"});     // the bar, the training clock
//   for (int64_t i = 0; i < opt.steps; ++i) {
//     const double lr = sgd.current_lr();
//     const float loss = train_step(...);
//     report.step(i, loss, {lr});   // a metrics row; "      0/ 200000: 3.3239" every 10000 steps
//   }
//   report.stop();                                      // the bar's last line, the training time
//   std::cout << report.speed() << "\n";                // "200000 steps in 61.2 s (3268 steps/s)"
//   report.summary["loss"] = {{"train", train}, {"val", val}};
//   report.write();                                     // metrics.csv, summary.json
//
// summary.json always has stage, seed, config (the Settings, as they are when written), threads,
// openblas_core, steps (the steps reported), wall_s (the whole run), train_s and train_cpu_s (the
// training loop; CPU time is steadier than wall time on a shared machine) and steps_per_s.
#include "common/app/cli.hpp"
#include "common/app/progress.hpp"
#include "common/app/settings.hpp"
#include "common/io/output.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace z2h {

// When report.step prints a lecture line, and how.
struct LectureLines {
  int64_t every = 10000;     // a line at every step divisible by this (0: none)
  int64_t max_steps = 0;     // the "/ 200000" of the line; 0: the steps given to start()
  bool last = false;         // also a line at the last step
  bool full_digits = false;  // the loss as Python's repr ("{loss!r}") instead of "{loss:.4f}"
};

class RunReport {
 public:
  RunReport(const CommonOptions& opt, const Settings& settings, std::filesystem::path out);
  RunReport(const RunReport&) = delete;
  RunReport& operator=(const RunReport&) = delete;

  nlohmann::json summary;  // the stage's own keys go here too

  // Training begins: `total` steps, metrics.csv's columns (step and loss first), the bar's label.
  void start(int64_t total, std::vector<std::string> columns = {"step", "loss"}, const std::string& label = "train",
             LectureLines lines = {});
  // Step i is done with minibatch `loss`: a metrics row (i, loss, extra...), the lecture line when
  // it is due, then `note` (a line of the stage's own, if any), then the bar.
  void step(int64_t i, double loss, const std::vector<double>& extra = {}, const std::string& note = "");
  // A line of the stage's own output above the bar (an evaluation, a check).
  void println(const std::string& line);
  // Training ends: the bar's final line; returns the training loop's seconds.
  double stop();

  int64_t steps() const { return steps_; }
  double train_seconds() const { return train_s_; }
  double steps_per_second() const { return train_s_ > 0 ? static_cast<double>(steps_) / train_s_ : 0.0; }
  // "200000 steps in 61.2 s (3268 steps/s)", "100 steps in 3.9 s (25.7 steps/s)";
  // speed(", 1 thread") = "... (3268 steps/s, 1 thread)"
  std::string speed(const std::string& more = "") const;

  // Writes metrics.csv (its header alone when nothing was trained) and summary.json into the
  // output directory, atomically.
  void write();

 private:
  const CommonOptions& opt_;
  const Settings& settings_;
  std::filesystem::path out_;
  Stopwatch run_clock_, train_clock_;
  std::clock_t train_cpu0_ = 0;
  double train_s_ = 0, train_cpu_s_ = 0;
  int64_t total_ = 0, steps_ = 0;
  LectureLines lines_;
  MetricsCsv metrics_{{"step", "loss"}};
  std::unique_ptr<Progress> bar_;
};

// The lecture's progress line with the loss in full, f'{i:7d}/{max_steps:7d}: {loss!r}' (02-bigram):
// lecture_line_repr(0, 100, 3.7686190605163574) == "      0/    100: 3.7686190605163574".
std::string lecture_line_repr(int64_t step, int64_t max_steps, double loss);

}  // namespace z2h
