// The shared command line: flags, checks, exit codes, one-line errors, data file lookup.
#include "common/app/cli.hpp"

#include "common/app/error.hpp"
#include "common/tests/util_test_support.hpp"

#include <catch2/catch.hpp>
#include <cblas.h>  // openblas_get_num_threads

#include <algorithm>
#include <stdexcept>
#include <vector>

using z2h::test::CaptureStreams;
using z2h::test::TempDir;

namespace {

// What a stage's main() would see: the common flags plus a few of its own.
struct Result {
  int code = -1;
  std::string out, err;
  bool body_ran = false;
  z2h::CommonOptions opt;
  int batch = 0, hidden = 0;
  double lr = 0, dropout = 0;
  bool tanh = true;
};

Result run(std::vector<std::string> args, const std::function<int()>& body = [] { return 0; }) {
  Result r;
  r.opt = {.stage = "02-bigram", .seed = 2147483647, .steps = 100};
  r.batch = 32;
  r.lr = 0.1;
  r.dropout = 0.2;
  r.hidden = 200;
  CLI::App app{"02-bigram: a test stage"};
  z2h::add_common_options(app, r.opt);
  app.add_option("--batch", r.batch, "minibatch size")->check(z2h::at_least(1));
  app.add_option("--lr", r.lr, "learning rate")->check(z2h::positive());
  app.add_option("--dropout", r.dropout, "dropout probability")->check(z2h::between(0, 1));
  app.add_option("--hidden", r.hidden, "neurons")->check(z2h::in_range(1, 4096));
  app.add_flag("--no-tanh{false}", r.tanh, "no Tanh layers");

  args.insert(args.begin(), "02-bigram");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  CaptureStreams capture;
  r.code = z2h::run_main(static_cast<int>(argv.size()), argv.data(), app, r.opt, [&] {
    r.body_ran = true;
    return body();
  });
  r.out = capture.out();
  r.err = capture.err();
  return r;
}

// Bad input must give exactly one line on stderr, starting "error: ".
void require_one_error_line(const Result& r) {
  INFO("stderr: " << r.err);
  REQUIRE(r.err.rfind("error: ", 0) == 0);
  REQUIRE(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  REQUIRE(r.err.back() == '\n');
}

}  // namespace

TEST_CASE("cli: with no flags the stage's defaults stand and --out is out/<stage>") {
  auto r = run({});
  REQUIRE(r.code == 0);
  REQUIRE(r.body_ran);
  REQUIRE(r.err.empty());
  CHECK(r.opt.seed == 2147483647);
  CHECK(r.opt.steps == 100);
  CHECK(r.opt.threads == 1);
  CHECK(r.opt.out == "out/02-bigram");
  CHECK(r.opt.data.empty());
  CHECK_FALSE(r.opt.quiet);
}

TEST_CASE("cli: every common flag sets its field") {
  auto r = run({"--seed", "18446744073709551615", "--out", "runs/a", "--threads", "2", "--data", "x.txt",
                "--steps", "0", "--quiet"});
  REQUIRE(r.code == 0);
  CHECK(r.opt.seed == 18446744073709551615ull);
  CHECK(r.opt.out == "runs/a");
  CHECK(r.opt.threads == 2);
  CHECK(r.opt.data == "x.txt");
  CHECK(r.opt.steps == 0);  // zero steps is allowed: evaluate or sample only
  CHECK(r.opt.quiet);
}

TEST_CASE("cli: --threads sets OpenBLAS's thread count before the body runs") {
  int seen = 0;
  auto r = run({"--threads", "2"}, [&] {
    seen = openblas_get_num_threads();
    return 0;
  });
  REQUIRE(r.code == 0);
  CHECK(seen == 2);
  run({}, [&] {
    seen = openblas_get_num_threads();
    return 0;
  });
  CHECK(seen == 1);  // the default is 1 thread, not OpenBLAS's "all cores"
}

TEST_CASE("cli: --help prints every option with its default and exits 0 without running the body") {
  auto r = run({"--help"});
  CHECK(r.code == 0);
  CHECK_FALSE(r.body_ran);
  CHECK(r.err.empty());
  for (const char* flag : {"--help", "--seed", "--out", "--threads", "--data", "--steps", "--quiet", "--batch"}) {
    INFO(flag);
    CHECK(r.out.find(flag) != std::string::npos);
  }
  CHECK(r.out.find("2147483647") != std::string::npos);   // --seed's default
  CHECK(r.out.find("out/02-bigram") != std::string::npos);  // --out's default
  CHECK(r.out.find("  --no-tanh ") != std::string::npos);    // a switch that sets false, without "{false}"
  CHECK(r.out.find("{false}") == std::string::npos);
  auto no_tanh = run({"--no-tanh"});
  CHECK(no_tanh.code == 0);
  CHECK_FALSE(no_tanh.tanh);
}

TEST_CASE("cli: an unknown flag exits 2 with one line naming it") {
  auto r = run({"--stepz", "5"});
  CHECK(r.code == 2);
  CHECK_FALSE(r.body_ran);
  require_one_error_line(r);
  CHECK(r.err.find("--stepz") != std::string::npos);
  CHECK(r.err.find("(see --help)") != std::string::npos);
}

TEST_CASE("cli: invalid --steps values exit 2 with one line naming the flag and the value") {
  for (const char* bad : {"-1", "abc", "1.5", "1e3", "010", "0x10", "99999999999999999999", ""}) {
    auto r = run({"--steps", bad});
    INFO("--steps '" << bad << "'");
    CHECK(r.code == 2);
    CHECK_FALSE(r.body_ran);
    require_one_error_line(r);
    CHECK(r.err.find("--steps") != std::string::npos);
    CHECK(r.err.find("must be an integer >= 0") != std::string::npos);
  }
  auto r = run({"--steps", "-1"});
  CHECK(r.err == "error: --steps: must be an integer >= 0, got '-1' (see --help)\n");
}

TEST_CASE("cli: --threads below 1 and a --steps with no value exit 2") {
  for (std::vector<std::string> args : {std::vector<std::string>{"--threads", "0"}, {"--threads", "-2"}, {"--steps"}}) {
    auto r = run(args);
    INFO(args[0]);
    CHECK(r.code == 2);
    require_one_error_line(r);
  }
}

TEST_CASE("cli: --seed takes 0 .. 2^64-1 and refuses negatives instead of wrapping them") {
  CHECK(run({"--seed", "0"}).code == 0);
  for (const char* bad : {"-1", "18446744073709551616", "seven"}) {
    auto r = run({"--seed", bad});
    INFO("--seed " << bad);
    CHECK(r.code == 2);
    require_one_error_line(r);
    CHECK(r.err.find("--seed") != std::string::npos);
  }
}

TEST_CASE("cli: the stage's own checks: batch 0, lr 0, dropout 1.5 exit 2") {
  auto batch = run({"--batch", "0"});
  CHECK(batch.code == 2);
  CHECK(batch.err == "error: --batch: must be an integer >= 1, got '0' (see --help)\n");
  auto lr = run({"--lr", "0"});
  CHECK(lr.code == 2);
  CHECK(lr.err == "error: --lr: must be a number > 0, got '0' (see --help)\n");
  for (const char* bad : {"-0.1", "1.5", "nan", "inf"}) {
    auto r = run({"--dropout", bad});
    INFO("--dropout " << bad);
    CHECK(r.code == 2);
    CHECK(r.err.find("must be a number in [0, 1]") != std::string::npos);
  }
  auto ok = run({"--batch", "64", "--lr", "1e-3", "--dropout", "0"});
  CHECK(ok.code == 0);
  CHECK(ok.batch == 64);
  CHECK(ok.lr == 1e-3);
  CHECK(ok.dropout == 0);
}

TEST_CASE("cli: a size flag has an upper bound: in_range(1, 4096) takes 1..4096 and names its range") {
  for (const char* bad : {"0", "4097", "1000000000", "99999999999999999999", "010", "1.5", "-3"}) {
    auto r = run({"--hidden", bad});
    INFO("--hidden " << bad);
    CHECK(r.code == 2);
    CHECK(!r.body_ran);
    CHECK(r.err == "error: --hidden: must be an integer in [1, 4096], got '" + std::string(bad) + "' (see --help)\n");
  }
  for (const char* good : {"1", "4096"}) {
    auto r = run({"--hidden", good});
    CHECK(r.code == 0);
    CHECK(r.hidden == std::stoi(good));
  }
  auto help = run({"--help"});
  CHECK(help.out.find("--hidden INT in [1, 4096]") != std::string::npos);
}

TEST_CASE("cli: the body's return value is the exit code") {
  CHECK(run({}, [] { return 0; }).code == 0);
  CHECK(run({}, [] { return 3; }).code == 3);
}

TEST_CASE("cli: a UserError from the body exits 2 with 'error: <message>' on one line") {
  auto r = run({}, []() -> int { throw z2h::UserError("data file 'names.txt' not found (pass --data PATH)"); });
  CHECK(r.code == 2);
  CHECK(r.err == "error: data file 'names.txt' not found (pass --data PATH)\n");
}

TEST_CASE("cli: any other exception exits 1 as one 'error: internal:' line, never a crash") {
  auto r = run({}, []() -> int { throw std::logic_error("shape mismatch in matmul"); });
  CHECK(r.code == 1);
  CHECK(r.err == "error: internal: shape mismatch in matmul\n");
  auto multi = run({}, []() -> int { throw std::runtime_error("two\nlines"); });
  CHECK(multi.err == "error: internal: two lines\n");
  auto weird = run({}, []() -> int { throw 42; });
  CHECK(weird.code == 1);
  CHECK(weird.err == "error: internal: unknown exception\n");
}

TEST_CASE("cli: running out of memory is a size from input: exit 2, one 'error:' line") {
  auto oom = run({}, []() -> int { throw std::bad_alloc(); });
  CHECK(oom.code == 2);
  CHECK(oom.err.rfind("error: out of memory", 0) == 0);
  auto huge = run({}, []() -> int { return static_cast<int>(std::vector<double>(size_t{1} << 62).size()); });
  CHECK(huge.code == 2);
  CHECK(huge.err.rfind("error: ", 0) == 0);
}

TEST_CASE("cli: an error message never carries a control character, and is cut to a readable length") {
  auto r = run({}, []() -> int { throw z2h::UserError("bad line 'a\x1b[2Jb'" + std::string(5000, 'x')); });
  CHECK(r.code == 2);
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK(r.err.find("\\x1B[2Jb") != std::string::npos);
  CHECK(r.err.size() < 1100);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("cli: quote() escapes and cuts untrusted text") {
  CHECK(z2h::quote("emma") == "'emma'");
  CHECK(z2h::quote("a\x1b[2J\tb\n") == "'a\\x1B[2J\\tb\\n'");
  CHECK(z2h::quote("it's") == "'it\\'s'");
  CHECK(z2h::quote("Jos\xC3\xA9") == "'Jos\xC3\xA9'");          // printable UTF-8 stays readable
  CHECK(z2h::quote("a\xC2\x9B" "1m") == "'a\\xC2\\x9B1m'");    // a C1 control (CSI) does not
  CHECK(z2h::quote("\xE2\x80\xAE" "evil") == "'\\xE2\\x80\\xAEevil'");  // nor a bidi override
  CHECK(z2h::quote("\xFF\xC3") == "'\\xFF\\xC3'");              // nor a broken sequence
  CHECK(z2h::quote(std::string(1 << 20, 'a')) == "'" + std::string(60, 'a') + "'... (1048576 bytes)");
}

TEST_CASE("cli: --out must name a directory") {
  CLI::App app{"test"};
  z2h::CommonOptions opt{.stage = "02-bigram"};
  z2h::add_common_options(app, opt);
  const char* argv[] = {"prog", "--out", ""};
  REQUIRE_THROWS_AS(app.parse(3, argv), CLI::ValidationError);
}

TEST_CASE("cli: data_file finds --data as a file or as the directory holding the file") {
  TempDir dir;
  z2h::test::write_bytes(dir / "names.txt", "emma\n");
  z2h::CommonOptions opt{.stage = "02-bigram"};
  opt.data = (dir / "names.txt").string();
  CHECK(z2h::data_file(opt, "names.txt") == (dir / "names.txt").string());
  opt.data = dir.path().string();
  CHECK(z2h::data_file(opt, "names.txt") == (dir / "names.txt").string());
}

TEST_CASE("cli: data_file errors name the fix") {
  TempDir dir;
  z2h::CommonOptions opt{.stage = "02-bigram"};
  opt.data = (dir / "missing.txt").string();
  REQUIRE_THROWS_AS(z2h::data_file(opt, "names.txt"), z2h::UserError);
  REQUIRE_THROWS_WITH(z2h::data_file(opt, "names.txt"), Catch::Contains("missing.txt") && Catch::Contains("--data"));
  opt.data = dir.path().string();  // a directory without the file
  REQUIRE_THROWS_WITH(z2h::data_file(opt, "names.txt"), Catch::Contains("names.txt") && Catch::Contains("not found"));

  opt.data.clear();  // the default data/ directory: the hint says how to fetch it
  REQUIRE_THROWS_WITH(z2h::data_file(opt, "no-such-file.txt"),
                      Catch::StartsWith("data file 'no-such-file.txt' not found (looked in ") &&
                          Catch::EndsWith("; run ./z2h run 02-bigram to fetch it, or pass --data PATH)"));
}
