#pragma once
// common/tests/program_support.hpp — for tests that run a stage's program as a learner would: a
// scratch directory per test, and the program's exit code, stdout and stderr.
//
//   TempDir tmp;
//   const Run r = run("--steps 3 --out " + (tmp.path / "out").string(), tmp);   // the stage's program
//   CHECK(r.rc == 0);
//   expect_usage_error("--steps -1", "--steps");   // exit 2, one `error:` line naming --steps, no files
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include "common/tensor/blas.hpp"

namespace z2h::test {

struct Run {
  int rc = -1;  // the exit code (-1: killed by a signal)
  std::string out, err;
};

// A whole file as a string ("" if it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A fresh directory for one test's outputs, removed when the test ends.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int n = 0;
    path = std::filesystem::temp_directory_path() /
           ("z2h-test-" + std::to_string(getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// Runs `exe` with `args` (a shell-quoted string), capturing stdout, stderr and the exit code.
// Under AddressSanitizer the system libraries that draw the figures (fontconfig, PLplot) leave
// allocations behind by design: unless LSAN_OPTIONS is set already, LeakSanitizer is pointed at the
// project's suppressions (other builds ignore the variable).
inline Run run_program(const std::string& exe, const std::string& args, const TempDir& tmp) {
  const std::filesystem::path out = tmp.path / "stdout.txt", err = tmp.path / "stderr.txt";
  const std::string lsan = std::getenv("LSAN_OPTIONS") ? "" :
      "LSAN_OPTIONS=suppressions='" + std::string(Z2H_SOURCE_DIR) + "/common/tests/lsan.supp':print_suppressions=0 ";
  const std::string cmd = lsan + "'" + exe + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  Run r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// How many lines a program printed.
inline int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// A stage program's first line: stage, seed, threads and the OpenBLAS kernel set in use
// (common/app/run_info.hpp), for a run with --threads 1.
inline std::string header_line(const std::string& stage, uint64_t seed) {
  return stage + " \u00b7 seed " + std::to_string(seed) + " \u00b7 1 thread \u00b7 OpenBLAS " + z2h::blas::core_name() +
         " kernels\n";
}

#ifdef Z2H_STAGE_EXE  // a stage's test target: CMake names the program the tests run
// Runs the stage's program with `args`.
inline Run run(const std::string& args, const TempDir& tmp) { return run_program(Z2H_STAGE_EXE, args, tmp); }

// A bad invocation: exit code 2, exactly one line on stderr, `error: ...` mentioning `mentions`,
// and no output files.
inline void expect_usage_error(const std::string& args, const std::string& mentions) {
  TempDir tmp;
  const Run r = run(args + " --out " + (tmp.path / "out").string(), tmp);
  INFO(std::filesystem::path(Z2H_STAGE_EXE).filename().string() << " " << args << "\nstderr: " << r.err);
  CHECK(r.rc == 2);
  CHECK(r.err.rfind("error: ", 0) == 0);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find(mentions) != std::string::npos);
  CHECK(!std::filesystem::exists(tmp.path / "out" / "summary.json"));
  CHECK(!std::filesystem::exists(tmp.path / "out" / "metrics.csv"));
}
#endif

}  // namespace z2h::test
