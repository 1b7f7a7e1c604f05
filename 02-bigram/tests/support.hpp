#pragma once
// What the 02-bigram tests share: the data, the goldens and a way to run the program.
//
// The goldens in goldens/*.json were written by reference.py (PyTorch 1.13.1, 1 thread); each file
// names the command that made it:
//   /usr/bin/python3 02-bigram/reference.py --goldens 02-bigram/tests/goldens
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "02-bigram/counts.hpp"
#include "common/app/cli.hpp"
#include "common/data/text_data.hpp"

namespace bigram::test {

// names.txt from data/ (as the program finds it). A missing file FAILS the test that needs it,
// with the data helper's message: "data file 'names.txt' not found (... run ./z2h run ...)".
struct Names {
  std::vector<std::string> words;
  z2h::Vocab vocab;
  Examples ex;
};
inline const Names& names() {
  static const Names n = [] {
    z2h::CommonOptions opt{.stage = "02-bigram"};
    auto words = z2h::read_lines(z2h::data_file(opt, "names.txt"));
    auto vocab = z2h::Vocab::from_words(words, '.');
    auto ex = bigrams(words, vocab);
    return Names{std::move(words), vocab, std::move(ex)};
  }();
  return n;
}

inline nlohmann::json golden(const std::string& file) {
  const std::filesystem::path path = std::filesystem::path(Z2H_STAGE_GOLDENS) / file;
  std::ifstream in(path);
  if (!in) FAIL("golden file " << path << " is missing (regenerate: /usr/bin/python3 02-bigram/reference.py --goldens 02-bigram/tests/goldens)");
  return nlohmann::json::parse(in);
}

inline std::vector<int64_t> longs(const std::vector<int>& v) { return {v.begin(), v.end()}; }

// Runs the built program with `args` (and `env` before it), capturing stdout and stderr.
struct Result {
  int code;
  std::string out, err;
};
inline Result run_program(const std::string& args, const std::string& env = "") {
  static int counter = 0;
  const auto dir = std::filesystem::temp_directory_path() / ("z2h-02-bigram-run-" + std::to_string(::getpid()) +
                                                              "-" + std::to_string(counter++));
  std::filesystem::create_directories(dir);
  const std::string cmd = env + " '" + std::string(Z2H_STAGE_EXE) + "' " + args + " > '" + (dir / "out").string() +
                          "' 2> '" + (dir / "err").string() + "'";
  const int status = std::system(cmd.c_str());
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  Result r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir / "out"), slurp(dir / "err")};
  std::filesystem::remove_all(dir);
  return r;
}

// A fresh, empty scratch directory for a test's --out.
inline std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("z2h-02-bigram-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace bigram::test
