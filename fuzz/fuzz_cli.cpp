// libFuzzer target: the command line every stage shares (common/app/cli.cpp): the input, split at
// NUL bytes, is argv. run_main must answer 0 (the body ran, or --help) or 2 (bad input), print at
// most one `error:` line, and only run the body with values that passed the checks. (fuzz/run.sh
// passes -close_fd_mask=3: the program's messages are its answers, not the fuzzer's.)
#include "common/app/cli.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args{"fuzz-stage"};
  std::string cur;
  for (size_t i = 0; i < size && args.size() < 64; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(data[i]);
    }
  }
  args.push_back(cur);
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());

  CLI::App app{"fuzz-stage: the shared flags and one of each check"};
  z2h::CommonOptions opt{.stage = "02-bigram", .seed = 2147483647, .steps = 100};
  z2h::add_common_options(app, opt);
  int batch = 32, max_len = 100;
  double lr = 0.1, dropout = 0.2;
  app.add_option("--batch", batch, "minibatch size")->check(z2h::at_least(1));
  app.add_option("--lr", lr, "learning rate")->check(z2h::positive());
  app.add_option("--dropout", dropout, "dropout")->check(z2h::between(0, 0.99));
  z2h::add_max_len_option(app, max_len);
  bool ran = false;
  const int rc = z2h::run_main(static_cast<int>(argv.size()), argv.data(), app, opt, [&] {
    ran = true;
    return 0;
  });
  if (rc != 0 && rc != 2) std::abort();
  if (ran && (opt.steps < 0 || opt.threads < 1 || batch < 1 || !(lr > 0) || dropout < 0 || dropout > 0.99 ||
              max_len < 1 || opt.out.empty()))
    std::abort();
  return 0;
}
