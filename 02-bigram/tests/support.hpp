#pragma once
// What the 02-bigram tests share: the data, the goldens and a way to run the program.
//
// The goldens in goldens/<kernel>/*.json were written by reference.py (PyTorch 1.13.1, 1 thread), one
// folder per OpenBLAS kernel set (common/tests/goldens_support.hpp); each file names its command:
//   OPENBLAS_NUM_THREADS=1 [OPENBLAS_CORETYPE=Haswell] /usr/bin/python3 02-bigram/reference.py --goldens 02-bigram/tests/goldens
// (or ./z2h goldens 02-bigram).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "02-bigram/counts.hpp"
#include "common/app/cli.hpp"
#include "common/tests/goldens_support.hpp"
#include "common/tests/program_support.hpp"
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

// The goldens of the local OpenBLAS kernel set where they exist (then compared bit for bit), else
// Haswell's (then compared within the tolerances each test states, with a WARN saying so). The
// counting half of the lecture does not multiply matrices: its numbers are the same in every folder.
inline const z2h::test::KernelGoldens& goldens() { return z2h::test::stage_goldens("02-bigram"); }
inline nlohmann::json golden(const std::string& file) { return goldens().load(file); }

inline std::vector<int64_t> longs(const std::vector<int>& v) { return {v.begin(), v.end()}; }

// Runs the built program with `args` in a scratch directory of the test's (common/tests/program_support.hpp).
using z2h::test::Run;
using z2h::test::TempDir;
inline Run run_program(const std::string& args, const TempDir& tmp) {
  return z2h::test::run_program(Z2H_STAGE_EXE, args, tmp);
}

}  // namespace bigram::test
