// --out directories, atomic writes, metrics.csv and summary.json.
#include "common/io/output.hpp"

#include "common/app/error.hpp"
#include "common/tests/util_test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using z2h::UserError;
using z2h::test::read_bytes;
using z2h::test::TempDir;
using z2h::test::write_bytes;

namespace {

// Names of everything in `dir`, to show that no temporary file was left behind.
std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("output: prepare_out_dir creates the directory and its parents, and accepts an existing one") {
  TempDir tmp;
  const auto dir = (tmp / "out/02-bigram").string();
  CHECK(z2h::prepare_out_dir(dir) == fs::path(dir));
  CHECK(fs::is_directory(dir));
  CHECK(listing(dir).empty());  // the write probe is gone
  CHECK_NOTHROW(z2h::prepare_out_dir(dir));
}

TEST_CASE("output: --out under a regular file is an error naming that file") {
  TempDir tmp;
  write_bytes(tmp / "out", "not a directory");
  const auto dir = (tmp / "out/02-bigram").string();
  REQUIRE_THROWS_AS(z2h::prepare_out_dir(dir), UserError);
  REQUIRE_THROWS_WITH(z2h::prepare_out_dir(dir),
                      "cannot create output directory '" + dir + "': '" + (tmp / "out").string() +
                          "' is a file, not a directory (pass another --out DIR)");
  REQUIRE_THROWS_WITH(z2h::prepare_out_dir((tmp / "out").string()), Catch::Contains("is a file"));
}

TEST_CASE("output: an --out that cannot be created or written is an error naming it (even for root)") {
  // /proc refuses new files and directories whatever the permissions, root included.
  REQUIRE_THROWS_WITH(z2h::prepare_out_dir("/proc/z2h-test/out"),
                      Catch::StartsWith("cannot create output directory '/proc/z2h-test/out'") &&
                          Catch::EndsWith("(pass another --out DIR)"));
  REQUIRE_THROWS_WITH(z2h::prepare_out_dir("/proc"),
                      Catch::StartsWith("output directory '/proc' is not writable") &&
                          Catch::EndsWith("(pass another --out DIR)"));
}

TEST_CASE("output: write_file_atomic writes, replaces, and leaves no temporary file") {
  TempDir tmp;
  const auto file = tmp / "summary.json";
  z2h::write_file_atomic(file, "first");
  CHECK(read_bytes(file) == "first");
  z2h::write_file_atomic(file, std::string("second\0with a NUL", 17));
  CHECK(read_bytes(file) == std::string("second\0with a NUL", 17));
  z2h::write_file_atomic(tmp / "empty", "");
  CHECK(read_bytes(tmp / "empty").empty());
  CHECK(listing(tmp.path()) == std::vector<std::string>{"empty", "summary.json"});
}

TEST_CASE("output: a failed atomic write throws UserError and leaves neither a temp file nor a half file") {
  TempDir tmp;
  // The parent directory does not exist.
  REQUIRE_THROWS_AS(z2h::write_file_atomic(tmp / "missing/metrics.csv", "x"), UserError);
  REQUIRE_THROWS_WITH(z2h::write_file_atomic(tmp / "missing/metrics.csv", "x"),
                      Catch::StartsWith("cannot write '" + (tmp / "missing/metrics.csv").string() + "': "));
  // The target is a directory: the temp file is written, the rename fails, the temp is removed.
  fs::create_directory(tmp / "metrics.csv");
  REQUIRE_THROWS_AS(z2h::write_file_atomic(tmp / "metrics.csv", "x"), UserError);
  CHECK(listing(tmp.path()) == std::vector<std::string>{"metrics.csv"});
}

TEST_CASE("output: metrics.csv has a header and rows of numbers that read back exactly") {
  z2h::MetricsCsv csv({"step", "loss"});
  csv.add_row(0, 3.3239002227783203);
  csv.add_row(int64_t{199999}, 0.1);
  csv.add_row(std::vector<double>{200000, 1.0 / 3.0});
  CHECK(csv.rows() == 3);
  CHECK(csv.str() ==
        "step,loss\n"
        "0,3.3239002227783203\n"
        "199999,0.1\n"
        "200000,0.3333333333333333\n");
  // Every value reads back as the same double.
  std::istringstream in(csv.str());
  std::string line;
  std::getline(in, line);
  std::getline(in, line);
  CHECK(std::strtod(line.substr(line.find(',') + 1).c_str(), nullptr) == 3.3239002227783203);
}

TEST_CASE("output: metrics.csv writes a diverged loss as nan / inf") {
  z2h::MetricsCsv csv({"step", "loss", "lr"});
  csv.add_row(7, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity());
  csv.add_row(8, -std::numeric_limits<double>::infinity(), 1e-300);
  CHECK(csv.str() == "step,loss,lr\n7,nan,inf\n8,-inf,1e-300\n");
}

TEST_CASE("output: metrics.csv saves atomically") {
  TempDir tmp;
  z2h::MetricsCsv csv({"step", "loss"});
  csv.add_row(0, 2.5);
  csv.save(tmp / "metrics.csv");
  CHECK(read_bytes(tmp / "metrics.csv") == "step,loss\n0,2.5\n");
  REQUIRE_THROWS_AS(csv.save(tmp / "no/such/dir/metrics.csv"), UserError);
}

TEST_CASE("output: a row of the wrong width or a bad column name is a bug: std::invalid_argument") {
  z2h::MetricsCsv csv({"step", "loss"});
  CHECK_THROWS_AS(csv.add_row(1), std::invalid_argument);
  CHECK_THROWS_AS(csv.add_row(1, 2.0, 3.0), std::invalid_argument);
  CHECK(csv.rows() == 0);
  CHECK_THROWS_AS(z2h::MetricsCsv({}), std::invalid_argument);
  CHECK_THROWS_AS(z2h::MetricsCsv({"step", "loss,train"}), std::invalid_argument);
}

TEST_CASE("output: summary.json is pretty-printed with 2 spaces, non-finite numbers as null") {
  TempDir tmp;
  nlohmann::json summary = {{"stage", "02-bigram"},
                            {"seed", 2147483647},
                            {"loss", {{"train", 2.4901304244995117}, {"val", std::nan("")}}},
                            {"wall_s", std::numeric_limits<double>::infinity()},
                            {"samples", {"mor.", "axx."}}};
  z2h::write_json_atomic(tmp / "summary.json", summary);
  const std::string text = read_bytes(tmp / "summary.json");
  CHECK(text ==
        "{\n"
        "  \"loss\": {\n"
        "    \"train\": 2.4901304244995117,\n"
        "    \"val\": null\n"
        "  },\n"
        "  \"samples\": [\n"
        "    \"mor.\",\n"
        "    \"axx.\"\n"
        "  ],\n"
        "  \"seed\": 2147483647,\n"
        "  \"stage\": \"02-bigram\",\n"
        "  \"wall_s\": null\n"
        "}\n");
  CHECK(nlohmann::json::parse(text)["loss"]["train"].get<double>() == 2.4901304244995117);
}

TEST_CASE("output: a sample that is not valid UTF-8 still gives valid JSON") {
  TempDir tmp;
  z2h::write_json_atomic(tmp / "s.json", {{"samples", {std::string("ab\xFF")}}});
  const auto parsed = nlohmann::json::parse(read_bytes(tmp / "s.json"));
  CHECK(parsed["samples"][0] == "ab\xEF\xBF\xBD");  // U+FFFD, the replacement character
}

TEST_CASE("output: Stopwatch measures elapsed seconds") {
  z2h::Stopwatch clock;
  const double a = clock.seconds();
  const double b = clock.seconds();
  CHECK(a >= 0);
  CHECK(b >= a);
  CHECK(b < 5);
  clock.reset();
  CHECK(clock.seconds() < 5);
}

TEST_CASE("output: prepare_out_dir refuses an empty name instead of writing into the current directory") {
  REQUIRE_THROWS_AS(z2h::prepare_out_dir(""), UserError);
  REQUIRE_THROWS_WITH(z2h::prepare_out_dir(""), Catch::Contains("--out DIR"));
}

TEST_CASE("output: the temporary files of a killed run are removed by the next one; a live process's are kept") {
  TempDir tmp;
  // A process id that is not running: a child that has exited and been reaped.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  const std::string dead = std::to_string(child), alive = std::to_string(::getppid());
  write_bytes(tmp / ("model.safetensors.tmp." + dead), "half a checkpoint");
  write_bytes(tmp / ("loss.png.tmp." + dead + ".3"), "half a png");
  write_bytes(tmp / (".loss.png.tmp-" + dead + "-0"), "an older plot's temp name");
  write_bytes(tmp / ("metrics.csv.tmp." + alive), "another run is writing this");
  write_bytes(tmp / "notes.tmp.txt", "not ours");
  write_bytes(tmp / "summary.json", "{}");
  z2h::prepare_out_dir(tmp.path().string());
  CHECK(listing(tmp.path()) ==
        std::vector<std::string>{"metrics.csv.tmp." + alive, "notes.tmp.txt", "summary.json"});
}
