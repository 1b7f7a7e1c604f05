#pragma once
// The command line every stage shares (CLI11), and the one place where errors become exit codes.
//
//   int main(int argc, char** argv) {
//     CLI::App app{"02-bigram: counting and a one-layer net (lecture 2)"};
//     z2h::CommonOptions opt{.stage = "02-bigram", .seed = 2147483647, .steps = 100};
//     z2h::add_common_options(app, opt);      // --seed --out --threads --data --steps --quiet
//     int batch = 32;
//     app.add_option("--batch", batch, "minibatch size")->check(z2h::at_least(1));
//     return z2h::run_main(argc, argv, app, opt, [&] { return train(opt, batch); });
//   }
//
// Exit codes: 0 success (and --help), 2 bad input (an unknown flag, `--steps -1`, a missing file:
// anything thrown as z2h::UserError), 1 a bug (any other exception). Either way the person sees one
// line on stderr, `error: ...`, never a stack trace.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace z2h {

// The flags of COURSE.md §2. The stage fills in its defaults (the lecture's) before calling
// add_common_options; --help shows them. (The `= {}` lets a stage use designated initializers,
// as above, without -Wmissing-field-initializers warnings.)
struct CommonOptions {
  std::string stage = {};   // "02-bigram": names the default --out and the hint in data errors
  uint64_t seed = 0;        // --seed: PyTorch's manual_seed takes any unsigned 64-bit value
  std::string out = {};     // --out DIR; empty means "out/<stage>"
  int threads = 1;          // --threads N for OpenBLAS (1 by default: 2 can be slower on a busy machine)
  std::string data = {};    // --data PATH: a data file, or a directory holding it; empty: data/
  int64_t steps = 0;        // --steps N optimisation steps; 0 is allowed (evaluate/sample only)
  bool quiet = false;       // --quiet: no progress bar (and whatever else the stage decides)
};

// Adds --seed --out --threads --data --steps --quiet bound to `opt`, with their checks
// (--steps >= 0, --threads >= 1, --seed a non-negative integer). Also makes --help show the
// default of every option added to `app` from now on, the stage's own included.
void add_common_options(CLI::App& app, CommonOptions& opt);

// Parses the command line, sets OpenBLAS's thread count from opt.threads, runs `body` and returns
// its exit code. --help prints the help and returns 0. Every error becomes one line on stderr:
//   CLI11 parse error  -> "error: <message> (see --help)"  return 2
//   z2h::UserError     -> "error: <message>"               return 2
//   std::bad_alloc     -> "error: out of memory (...)"     return 2  (a size from input)
//   other exception    -> "error: internal: <what>"        return 1
int run_main(int argc, const char* const* argv, CLI::App& app, const CommonOptions& opt,
             const std::function<int()>& body);

// --max-len N: the longest name (or text) a stage samples, bound to `max_len` (for the names
// stages: z2h::max_name_length() in common/data/sample_names.hpp). 1 to 1000000.
void add_max_len_option(CLI::App& app, int& max_len);

// Check for integer flags: `->check(z2h::at_least(1))` accepts a decimal integer >= min and
// rejects "0", "-3", "1.5", "010" (C would read that as octal 8) with a message naming the flag.
CLI::Validator at_least(int64_t min);

// Check for size flags: a decimal integer in [min, max], e.g. `--batch` with in_range(1, 16384).
// The upper bound keeps a typo (--n-hidden 2000000) from asking for more memory than the machine
// has, where the system might grant it and then kill the process; --help shows "INT in [1, 16384]".
CLI::Validator in_range(int64_t min, int64_t max);

// Check for real-valued flags: a finite number in [lo, hi], e.g. `--dropout` with between(0, 1).
CLI::Validator between(double lo, double hi);

// Check for real-valued flags that must be > 0, e.g. a learning rate or a temperature.
CLI::Validator positive();

// The path of data file `name` ("names.txt"): --data itself if it names a file, --data/name if it
// names a directory, else Z2H_DEFAULT_DATA_DIR/name (the repo's data/). Throws UserError naming
// the fix when it is not there: "run ./z2h run <stage> to fetch it, or pass --data PATH".
std::string data_file(const CommonOptions& opt, const std::string& name);

}  // namespace z2h
