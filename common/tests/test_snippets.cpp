// The code a chapter quotes is the code that runs. Every fenced C++ block in a README or a docs/
// page says what it is, on its opening fence (docs/index.md, "Code in the chapters"):
//
//   ```cpp 03-mlp/model.cpp      the block is in that file (path from the repository root), verbatim
//                                up to white space; a line `...` alone stands for code left out
//   ```cpp sketch                an illustration that is not quoted from a file (a usage example)
//
// A bare ```cpp block, a file that does not exist, or a block the file does not contain fails.
#include <catch2/catch.hpp>

#include "common/tests/program_support.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

using z2h::test::slurp;

std::string without_space(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  return out;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Every problem with the ```cpp blocks of one Markdown file, "page.md:12: ..." a problem; `root` is
// where the paths on the fences start.
std::vector<std::string> snippet_problems(const fs::path& page, const fs::path& root) {
  std::vector<std::string> problems;
  std::istringstream in(slurp(page));
  std::string line, label = page.filename().string();
  if (page.parent_path() != root) label = page.parent_path().filename().string() + "/" + label;
  int n = 0;
  bool in_fence = false, in_cpp = false;
  int start = 0;
  std::string info, block;
  while (std::getline(in, line)) {
    ++n;
    const std::string t = trim(line);
    if (t.rfind("```", 0) != 0) {
      if (in_cpp) block += line + "\n";
      continue;
    }
    if (in_fence) {  // a closing fence
      if (in_cpp) {
        const std::string where = label + ":" + std::to_string(start) + ": ";
        if (info == "sketch") {
          // an illustration: nothing to compare
        } else if (info.empty()) {
          problems.push_back(where + "a ```cpp block must name its source file (```cpp 03-mlp/model.cpp) or say ```cpp sketch");
        } else if (!fs::is_regular_file(root / info)) {
          problems.push_back(where + "'" + info + "' is not a file of the repository");
        } else {
          // the parts between `...` lines, in order, in the file, white space aside
          const std::string file = without_space(slurp(root / info));
          std::istringstream lines(block);
          std::vector<std::string> parts(1);
          for (std::string l; std::getline(lines, l);) {
            if (trim(l) == "...") parts.emplace_back();
            else parts.back() += l;
          }
          size_t pos = 0;
          for (const std::string& part : parts) {
            const std::string p = without_space(part);
            if (p.empty()) continue;
            const size_t at = file.find(p, pos);
            if (at == std::string::npos) {
              problems.push_back(where + "not in " + info + " as written: " + part.substr(0, 80));
              break;
            }
            pos = at + p.size();
          }
        }
      }
      in_fence = in_cpp = false;
      continue;
    }
    in_fence = true;  // an opening fence: ```cpp [file | sketch]
    const std::string lang_info = trim(t.substr(3));
    const std::string lang = lang_info.substr(0, lang_info.find(' '));
    in_cpp = lang == "cpp" || lang == "c++";
    info = lang_info.find(' ') == std::string::npos ? "" : trim(lang_info.substr(lang_info.find(' ') + 1));
    start = n;
    block.clear();
  }
  return problems;
}

// The chapters and the docs: README.md at the top, NN-stage/README.md, docs/*.md.
std::vector<fs::path> pages(const fs::path& root) {
  std::vector<fs::path> out;
  if (fs::exists(root / "README.md")) out.push_back(root / "README.md");
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && name.size() > 3 && std::isdigit(static_cast<unsigned char>(name[0])) &&
        fs::exists(e.path() / "README.md"))
      out.push_back(e.path() / "README.md");
  }
  for (const auto& e : fs::directory_iterator(root / "docs"))
    if (e.path().extension() == ".md") out.push_back(e.path());
  return out;
}

struct Scratch {  // a directory for the test's own pages, removed at the end
  fs::path path = fs::temp_directory_path() / ("z2h-snippets-" + std::to_string(::getpid()));
  Scratch() { fs::create_directories(path / "docs"); }
  ~Scratch() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

}  // namespace

TEST_CASE("every C++ block of the chapters and docs is the code of the file it names, or marked as a sketch",
          "[docs][snippets]") {
  const fs::path root = Z2H_SOURCE_DIR;
  const auto all = pages(root);
  REQUIRE(all.size() >= 8);  // the top README, seven chapters, docs/
  int problems = 0;
  for (const fs::path& page : all) {
    for (const std::string& p : snippet_problems(page, root)) {
      UNSCOPED_INFO(p);
      ++problems;
    }
  }
  CHECK(problems == 0);
}

TEST_CASE("the snippet check catches a block that is not the code, a bare block and a missing file", "[docs][snippets]") {
  Scratch s;
  s.write("code.cpp", "int twice(int x) {\n  return 2 * x;\n}\n\nint thrice(int x) { return 3 * x; }\n");
  s.write("docs/good.md",
          "text\n\n```cpp code.cpp\nint twice(int x) {\n    return 2*x;\n}\n```\n\n"      // white space differs: fine
          "```cpp code.cpp\nint twice(int x) {\n...\nint thrice(int x) { return 3 * x; }\n```\n\n"  // an elision
          "```cpp sketch\nauto y = twice(21);\n```\n\n```python\nnot checked\n```\n");
  CHECK(snippet_problems(s.path / "docs/good.md", s.path).empty());

  s.write("docs/wrong.md", "```cpp code.cpp\nint twice(int x) {\n  return x + x;\n}\n```\n");
  const auto wrong = snippet_problems(s.path / "docs/wrong.md", s.path);
  REQUIRE(wrong.size() == 1);
  CHECK(wrong[0].find("wrong.md:1: not in code.cpp") != std::string::npos);

  s.write("docs/order.md", "```cpp code.cpp\nint thrice(int x) { return 3 * x; }\n...\nint twice(int x) {\n```\n");
  CHECK(snippet_problems(s.path / "docs/order.md", s.path).size() == 1);  // the parts out of order

  s.write("docs/bare.md", "```cpp\nint twice(int x);\n```\n```cpp nowhere.cpp\nint twice(int x);\n```\n");
  const auto bare = snippet_problems(s.path / "docs/bare.md", s.path);
  REQUIRE(bare.size() == 2);
  CHECK(bare[0].find("must name its source file") != std::string::npos);
  CHECK(bare[1].find("'nowhere.cpp' is not a file") != std::string::npos);
}
