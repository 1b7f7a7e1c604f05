// common/app/run_report.cpp — see run_report.hpp.
#include "common/app/run_report.hpp"

#include "common/app/format.hpp"
#include "common/app/run_info.hpp"

#include <cstdio>
#include <utility>

namespace z2h {

RunReport::RunReport(const CommonOptions& opt, const Settings& settings, std::filesystem::path out)
    : opt_(opt), settings_(settings), out_(std::move(out)) {
  summary = {{"stage", opt.stage}, {"seed", opt.seed}, {"threads", opt.threads}, {"openblas_core", openblas_core()}};
}

void RunReport::start(int64_t total, std::vector<std::string> columns, const std::string& label, LectureLines lines) {
  total_ = total;
  steps_ = 0;
  lines_ = lines;
  if (lines_.max_steps == 0) lines_.max_steps = total;
  metrics_ = MetricsCsv(std::move(columns));
  bar_ = std::make_unique<Progress>(total, label, opt_.quiet);
  train_clock_.reset();
  train_cpu0_ = std::clock();
}

void RunReport::step(int64_t i, double loss, const std::vector<double>& extra, const std::string& note) {
  std::vector<double> row = {static_cast<double>(i), loss};
  row.insert(row.end(), extra.begin(), extra.end());
  metrics_.add_row(row);
  ++steps_;
  const bool due = (lines_.every > 0 && i % lines_.every == 0) || (lines_.last && steps_ == total_);
  if (due)
    bar_->println(lines_.full_digits ? lecture_line_repr(i, lines_.max_steps, loss) : lecture_line(i, lines_.max_steps, loss));
  if (!note.empty()) bar_->println(note);
  bar_->update(steps_, loss);
}

void RunReport::println(const std::string& line) {
  if (bar_) {
    bar_->println(line);
  } else {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
}

double RunReport::stop() {
  if (bar_) bar_->finish();
  train_s_ = train_clock_.seconds();
  train_cpu_s_ = static_cast<double>(std::clock() - train_cpu0_) / CLOCKS_PER_SEC;
  return train_s_;
}

std::string RunReport::speed(const std::string& more) const {
  char buf[96];
  const double rate = steps_per_second();
  std::snprintf(buf, sizeof buf, rate >= 100 ? "%lld steps in %.1f s (%.0f steps/s" : "%lld steps in %.1f s (%.1f steps/s",
                static_cast<long long>(steps_), train_s_, rate);
  return buf + more + ")";
}

void RunReport::write() {
  summary["config"] = settings_.json();
  summary["steps"] = steps_;
  summary["wall_s"] = run_clock_.seconds();
  summary["train_s"] = train_s_;
  summary["train_cpu_s"] = train_cpu_s_;
  summary["steps_per_s"] = steps_per_second();
  metrics_.save(out_ / "metrics.csv");
  write_json_atomic(out_ / "summary.json", summary);
}

std::string lecture_line_repr(int64_t step, int64_t max_steps, double loss) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%7lld/%7lld: ", static_cast<long long>(step), static_cast<long long>(max_steps));
  return buf + py_repr(loss);
}

}  // namespace z2h
