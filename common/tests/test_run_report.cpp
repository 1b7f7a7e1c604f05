// common/app/settings.hpp, run_report.hpp and format.hpp: a setting declared once is a flag and a
// config entry; a run's report writes the lecture lines, metrics.csv and summary.json.
#include "common/app/format.hpp"
#include "common/app/run_report.hpp"
#include "common/app/settings.hpp"

#include <catch2/catch.hpp>

#include "common/tests/program_support.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {
using z2h::test::slurp;
}  // namespace

TEST_CASE("py_list and py_tuple print a shape as Python's list(x.shape) and tuple(x.shape)", "[format]") {
  CHECK(z2h::py_list({182625, 8}) == "[182625, 8]");
  CHECK(z2h::py_list({}) == "[]");
  CHECK(z2h::py_tuple({30, 100}) == "(30, 100)");
  CHECK(z2h::py_tuple({30}) == "(30,)");
  CHECK(z2h::py_tuple({}) == "()");
}

TEST_CASE("py_repr prints a double as Python's repr()", "[format]") {
  CHECK(z2h::py_repr(20.0) == "20.0");
  CHECK(z2h::py_repr(0.1) == "0.1");
  CHECK(z2h::py_repr(-7.286496) == "-7.286496");
  CHECK(z2h::py_repr(2.0674145221710205) == "2.0674145221710205");
  CHECK(z2h::py_repr(static_cast<double>(3.7693049907684326f)) == "3.7693049907684326");
  CHECK(z2h::py_repr(0.0001) == "0.0001");   // repr(0.0001): plain down to 1e-4
  CHECK(z2h::py_repr(1e-05) == "1e-05");     // repr(0.00001): scientific below
  CHECK(z2h::py_repr(4.656612873077393e-10) == "4.656612873077393e-10");
  CHECK(z2h::py_repr(1e16) == "1e+16");
  CHECK(z2h::py_repr(123456789012345.0) == "123456789012345.0");
  CHECK(z2h::py_repr(0.0) == "0.0");
  CHECK(z2h::py_repr(-0.0) == "-0.0");
  CHECK(z2h::py_repr(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(z2h::py_repr(std::nan("")) == "nan");
}

TEST_CASE("a setting declared once is a flag and an entry of the config, read when the config is written",
          "[settings]") {
  CLI::App app;
  double lr = 0.1;
  int batch_size = 32, block_size = 3;
  bool direct = false;
  int hidden = 200;
  z2h::Settings s(app);
  s.option("--lr", lr, "learning rate");
  s.option("--batch", batch_size, "minibatch size", "batch_size");
  s.flag("--direct", direct, "direct connections");
  s.option("--hidden", hidden, "neurons");
  s.record("block_size", block_size);
  s.derived("n_in", [&] { return block_size * 10; });
  CHECK(z2h::Settings::key_of("--lr-decay-step") == "lr_decay_step");
  CHECK(s.json() == nlohmann::json{{"lr", 0.1}, {"batch_size", 32}, {"direct", false}, {"hidden", 200}, {"block_size", 3}, {"n_in", 30}});

  const char* argv[] = {"prog", "--lr", "0.5", "--batch", "8", "--direct"};
  app.parse(6, argv);
  CHECK(s.given(lr));
  CHECK_FALSE(s.given(hidden));
  CHECK(s.flag_of(batch_size) == "--batch");
  CHECK_THROWS_AS(s.given(block_size), std::logic_error);  // recorded, but no flag
  block_size = 4;  // a value the run settles after parsing
  CHECK(s.json() == nlohmann::json{{"lr", 0.5}, {"batch_size", 8}, {"direct", true}, {"hidden", 200}, {"block_size", 4}, {"n_in", 40}});
}

TEST_CASE("a choice flag binds names to an enum field; the config shows the name", "[settings]") {
  enum class Init { lecture, tuned };
  struct Cfg {
    Init init = Init::lecture;
  } cfg;
  CLI::App app;
  z2h::Settings s(app);
  s.choice("--init", cfg.init, {{"lecture", Init::lecture}, {"tuned", Init::tuned}}, "how the weights start");
  CHECK(s.json() == nlohmann::json{{"init", "lecture"}});
  const char* argv[] = {"prog", "--init", "tuned"};
  app.parse(3, argv);
  CHECK(cfg.init == Init::tuned);
  CHECK(s.given(cfg.init));
  CHECK(s.flag_of(cfg.init) == "--init");
  CHECK(s.json() == nlohmann::json{{"init", "tuned"}});
  CLI::App app2;
  Cfg cfg2;
  z2h::Settings s2(app2);
  s2.choice("--init", cfg2.init, {{"lecture", Init::lecture}, {"tuned", Init::tuned}}, "how the weights start");
  const char* bad[] = {"prog", "--init", "kaiming"};
  CHECK_THROWS_AS(app2.parse(3, bad), CLI::ValidationError);
  CHECK(cfg2.init == Init::lecture);
}

TEST_CASE("a run's report: lecture lines, one metrics row per step, summary.json with the common keys", "[report]") {
  const fs::path out = fs::temp_directory_path() / ("z2h-report-" + std::to_string(::getpid()));
  fs::create_directories(out);
  CLI::App app;
  z2h::CommonOptions opt{.stage = "03-mlp", .seed = 42, .steps = 3, .quiet = true};
  double lr = 0.1;
  z2h::Settings settings(app);
  settings.record("steps", opt.steps);
  settings.option("--lr", lr, "learning rate");

  // the lines go to stdout: catch them in a file
  std::fflush(stdout);
  const fs::path captured = out / "stdout.txt";
  FILE* saved = fdopen(dup(fileno(stdout)), "w");
  REQUIRE(std::freopen(captured.c_str(), "w", stdout) != nullptr);
  {
    z2h::RunReport report(opt, settings, out);
    report.start(opt.steps, {"step", "loss", "lr"}, "train", {.every = 2});
    for (int64_t i = 0; i < 3; ++i) report.step(i, 3.0 - 0.5 * static_cast<double>(i), {lr}, i == 1 ? "a note" : "");
    report.stop();
    CHECK(report.steps() == 3);
    CHECK(report.speed().rfind("3 steps in ", 0) == 0);
    report.summary["loss"] = {{"train", 2.0}};
    report.write();
  }
  std::fflush(stdout);
  dup2(fileno(saved), fileno(stdout));
  std::fclose(saved);

  CHECK(slurp(captured) == "      0/      3: 3.0000\na note\n      2/      3: 2.0000\n");
  CHECK(slurp(out / "metrics.csv") == "step,loss,lr\n0,3,0.1\n1,2.5,0.1\n2,2,0.1\n");
  const auto s = nlohmann::json::parse(slurp(out / "summary.json"));
  CHECK(s["stage"] == "03-mlp");
  CHECK(s["seed"] == 42);
  CHECK(s["steps"] == 3);
  CHECK(s["config"] == nlohmann::json{{"steps", 3}, {"lr", 0.1}});
  CHECK(s["loss"]["train"] == 2.0);
  for (const char* key : {"threads", "openblas_core", "wall_s", "train_s", "train_cpu_s", "steps_per_s"})
    CHECK(s.contains(key));
  fs::remove_all(out);
}

TEST_CASE("lecture_line_repr prints the loss in full, as f'{i:7d}/{n:7d}: {loss!r}'", "[report]") {
  CHECK(z2h::lecture_line_repr(0, 100, 3.7686190605163574) == "      0/    100: 3.7686190605163574");
  CHECK(z2h::lecture_line_repr(99, 100, 2.0) == "     99/    100: 2.0");
}
