// The progress bar: a line per 10 % in logs, one redrawn line on a terminal, nothing when quiet.
// A fake clock makes steps/s and ETA exact.
#include "common/app/progress.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace {

// A temporary FILE* standing in for stdout.
class FakeStdout {
 public:
  FakeStdout() : f_(std::tmpfile()) {
    if (f_ == nullptr) throw std::runtime_error("tmpfile failed");
  }
  ~FakeStdout() { std::fclose(f_); }
  std::FILE* file() const { return f_; }
  std::string text() const {
    std::fflush(f_);
    std::rewind(f_);
    std::string s;
    for (int c; (c = std::fgetc(f_)) != EOF;) s += static_cast<char>(c);
    return s;
  }

 private:
  std::FILE* f_;
};

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("progress: in a log (not a terminal) it prints one line per 10 % with steps/s, ETA and loss") {
  FakeStdout out;
  double now = 0;
  z2h::Progress bar(100, "train", false, out.file());
  bar.set_terminal_for_testing(false);
  bar.set_clock_for_testing([&] { return now; });
  for (int i = 1; i <= 100; ++i) {
    now += 0.5;  // 2 steps/s
    bar.update(i, 3.0 - i * 0.01);
  }
  bar.finish();
  const auto lines = lines_of(out.text());
  REQUIRE(lines.size() == 10);
  CHECK(lines[0] == "train [##------------------]  10%   10/100  2.00 steps/s  ETA 0:45  loss 2.9000");
  CHECK(lines[4] == "train [##########----------]  50%   50/100  2.00 steps/s  ETA 0:25  loss 2.5000");
  CHECK(lines[9] == "train [####################] 100%  100/100  2.00 steps/s  in 0:50  loss 2.0000");
  CHECK(out.text().find('\r') == std::string::npos);  // no terminal control in logs
}

TEST_CASE("progress: a run shorter than 10 steps prints a line per step, not ten") {
  FakeStdout out;
  z2h::Progress bar(3, "", false, out.file());
  bar.set_terminal_for_testing(false);
  for (int i = 1; i <= 3; ++i) bar.update(i);
  bar.finish();
  const auto lines = lines_of(out.text());
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("[######--------------]  33%  1/3", 0) == 0);  // no label, no loss given
  CHECK(lines[2].find("100%  3/3") != std::string::npos);
}

TEST_CASE("progress: finish() after stopping early prints where it stopped, with the elapsed time") {
  FakeStdout out;
  double now = 0;
  z2h::Progress bar(1000, "train", false, out.file());
  bar.set_terminal_for_testing(false);
  bar.set_clock_for_testing([&] { return now; });
  now = 75;
  bar.update(150);  // crosses 10 %: a line
  now = 90;
  bar.update(180);  // still in the second tenth: no line
  bar.finish();
  bar.finish();     // a second finish does nothing
  const auto lines = lines_of(out.text());
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "train [###-----------------]  15%   150/1000  2.00 steps/s  ETA 7:05");
  CHECK(lines[1] == "train [###-----------------]  18%   180/1000  2.00 steps/s  in 1:30");
}

TEST_CASE("progress: long ETAs read as h:mm:ss") {
  FakeStdout out;
  double now = 0;
  z2h::Progress bar(4123, "", false, out.file());
  bar.set_terminal_for_testing(false);
  bar.set_clock_for_testing([&] { return now; });
  now = 413;
  bar.update(413);  // 1 step/s, 3710 s to go
  CHECK(out.text().find("1.00 steps/s  ETA 1:01:50") != std::string::npos);
}

TEST_CASE("progress: on a terminal it redraws one line with \\r, at most 10 times a second") {
  FakeStdout out;
  double now = 0;
  z2h::Progress bar(1000, "train", false, out.file());
  bar.set_terminal_for_testing(true);
  bar.set_clock_for_testing([&] { return now; });
  for (int i = 1; i <= 1000; ++i) {
    now += 0.001;  // 1000 steps/s for 1 s
    bar.update(i, 2.5);
  }
  const std::string live = out.text();
  CHECK(live.find('\n') == std::string::npos);  // one line, rewritten in place
  const auto draws = std::count(live.begin(), live.end(), '\r');
  CHECK(draws >= 10);
  CHECK(draws <= 12);  // ~10 a second, plus the final state
  bar.finish();
  const std::string all = out.text();
  CHECK(all.back() == '\n');
  const std::string last = all.substr(all.rfind('\r') + 1);
  CHECK(last == "train [####################] 100%  1000/1000  1000 steps/s  in 0:01  loss 2.5000\n");
}

TEST_CASE("progress: println puts the stage's line above the bar and redraws the bar") {
  FakeStdout out;
  double now = 0;
  z2h::Progress bar(10, "t", false, out.file());
  bar.set_terminal_for_testing(true);
  bar.set_clock_for_testing([&] { return now; });
  now = 1;
  bar.update(1);
  const std::string drawn = out.text();  // "\r<bar>"
  bar.println("      0/     10: 3.3239");
  const std::string after = out.text().substr(drawn.size());
  const std::string blank(drawn.size() - 1, ' ');
  CHECK(after == "\r" + blank + "\r" + "      0/     10: 3.3239\n" + drawn);
}

TEST_CASE("progress: --quiet draws no bar, but println still prints the stage's lines") {
  FakeStdout out;
  z2h::Progress bar(100, "train", true, out.file());
  bar.set_terminal_for_testing(true);
  for (int i = 1; i <= 100; ++i) bar.update(i, 1.0);
  bar.println("step 100");
  bar.finish();
  CHECK(out.text() == "step 100\n");
}

TEST_CASE("progress: a total of 0 steps draws nothing") {
  FakeStdout out;
  z2h::Progress bar(0, "train", false, out.file());
  bar.set_terminal_for_testing(false);
  bar.update(0);
  bar.finish();
  CHECK(out.text().empty());
}

TEST_CASE("progress: a bar abandoned by an exception is erased, so the error line starts clean") {
  FakeStdout out;
  {
    z2h::Progress bar(10, "train", false, out.file());
    bar.set_terminal_for_testing(true);
    bar.update(3);
  }  // destroyed without finish()
  const std::string s = out.text();
  const std::string drawn = s.substr(0, s.find('\r', 1));
  CHECK(s == drawn + "\r" + std::string(drawn.size() - 1, ' ') + "\r");
}

TEST_CASE("progress: lecture_line formats like the notebooks' f'{i:7d}/{max_steps:7d}: {loss:.4f}'", "[progress]") {
  CHECK(z2h::lecture_line(0, 200000, 3.3238625526428223) == "      0/ 200000: 3.3239");
  CHECK(z2h::lecture_line(190000, 200000, 2.1707) == " 190000/ 200000: 2.1707");
  CHECK(z2h::lecture_line(5, 10, 27.88171) == "      5/     10: 27.8817");
}
