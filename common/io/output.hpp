#pragma once
// The files every run leaves in --out (COURSE.md §2): metrics.csv and summary.json, written
// atomically, so a crash or Ctrl-C never leaves a half-written file behind.
//
//   auto dir = z2h::prepare_out_dir(opt.out);           // creates out/02-bigram/ if needed
//   z2h::MetricsCsv metrics({"step", "loss"});
//   for (...) metrics.add_row(step, loss);              // one row per optimisation step
//   metrics.save(dir / "metrics.csv");
//   z2h::write_json_atomic(dir / "summary.json", {{"stage", "02-bigram"}, {"wall_s", clock.seconds()}});
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace z2h {

// Creates `dir` (and its parents) if needed and checks that a file can be written in it; removes
// the temporary files that killed runs left there (remove_stale_temp_files). Throws UserError
// naming the directory and the fix when it cannot, or when `dir` is empty.
std::filesystem::path prepare_out_dir(const std::string& dir);

// Every output is written the same way: to a temporary file `<path>.tmp.<pid>.<n>` beside it,
// flushed and fsync'ed with every error checked, then renamed over `path`. A reader sees the old
// file or the new one, never a part; a full disk or any other failure is a UserError, the old
// file stays as it was and no temporary file is left.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// The pieces, for a writer that is not a string (a PNG that a C library writes to a file name):
// a fresh temporary name beside `target`; flush + fsync + fclose with every error checked
// (UserError naming `target`); the rename into place (then the directory is synced).
std::filesystem::path temp_path(const std::filesystem::path& target);
void sync_and_close(std::FILE* f, const std::filesystem::path& target);
void commit_temp_file(const std::filesystem::path& tmp, const std::filesystem::path& target);

// Removes the temporary files of processes that no longer exist (a run killed mid-write) from
// `dir`: names `<file>.tmp.<pid>[.<n>]`. Returns how many were removed.
int remove_stale_temp_files(const std::filesystem::path& dir);

// `value` as pretty JSON (2-space indent), atomically. NaN and infinities become null (JSON has
// no such numbers), so a diverged loss still gives a valid file.
void write_json_atomic(const std::filesystem::path& path, const nlohmann::json& value);

// A table of numbers with a header row, e.g. metrics.csv = "step,loss\n0,3.3239002227783203\n...".
// Numbers are written in the shortest form that reads back as the same double ("0.1", "200000",
// "3.3239002227783203"); NaN and infinities as nan, inf, -inf (pandas reads them).
class MetricsCsv {
 public:
  explicit MetricsCsv(std::vector<std::string> columns);

  // One value per column: add_row(step, loss). Integers convert to double, exactly up to 2^53.
  template <typename... T>
    requires(std::is_arithmetic_v<T> && ...)
  void add_row(T... values) {
    add_row(std::vector<double>{static_cast<double>(values)...});
  }
  // The same from a vector, for a row built at run time. Throws std::invalid_argument when the
  // count differs from the number of columns (a bug in the stage, not bad input).
  void add_row(const std::vector<double>& values);

  size_t rows() const { return values_.size() / columns_.size(); }
  std::string str() const;                            // the whole file as text
  void save(const std::filesystem::path& path) const; // write_file_atomic(path, str())

 private:
  std::vector<std::string> columns_;
  std::vector<double> values_;  // row-major, rows() x columns_.size()
};

// Wall-clock time since construction (or reset), for summary.json's wall_s.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  void reset() { start_ = std::chrono::steady_clock::now(); }
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace z2h
