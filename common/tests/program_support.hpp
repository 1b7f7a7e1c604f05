#pragma once
// common/tests/program_support.hpp — for tests that run a stage's program as a learner would: a
// scratch directory per test, and the program's exit code, stdout and stderr.
//
//   TempDir tmp;
//   const Run r = run_program(Z2H_STAGE_EXE, "--steps 3 --out " + (tmp.path / "out").string(), tmp);
//   CHECK(r.rc == 0);
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

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

}  // namespace z2h::test
