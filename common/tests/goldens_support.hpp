#pragma once
// common/tests/goldens_support.hpp — which PyTorch goldens a stage's test compares against, and how
// closely: bit for bit on the OpenBLAS kernel that made them, within stated tolerances elsewhere.
//
// OpenBLAS picks a kernel set for the CPU it runs on ("Haswell" on most AVX2 laptops, "SkylakeX"
// or "Cooperlake" with AVX-512, "Prescott" where it does not know the CPU; OPENBLAS_CORETYPE
// forces one). Each set's sgemm adds the products of a dot product in its own order, so a product
// differs in the last bits from one kernel to the next — PyTorch's as much as ours. A stage whose
// results go through OpenBLAS keeps one folder of goldens per kernel set,
//   NN-stage/tests/goldens/<kernel>/*.json       (each file: "openblas_core" and its "command"),
// made by `./z2h goldens NN-stage` (= OPENBLAS_NUM_THREADS=1 /usr/bin/python3 NN-stage/reference.py
// --goldens NN-stage/tests/goldens, which writes into the folder of the kernel it runs on).
//
//   const auto& G = z2h::test::stage_goldens("03-mlp");   // picks the folder, once per program
//   const json gold = G.load("default_1000.json");
//   z2h::test::check_losses(losses, gold["losses"], G, {.steps = 10, .tol = 2e-4, .window = 330, .band = 0.2}, "default run");
//   z2h::test::check_value(train_loss, gold["eval"]["train"], G, 0.2, "train loss");
//   z2h::test::check_samples(names, gold["samples"], G, /*first_equal=*/0, "20 names");
//
// G.exact() is true when the folder's kernel is the local one (z2h::blas::core_name()): then the
// checks compare bit for bit. Otherwise the folder of another kernel is used (Haswell's when it
// exists), the checks compare within the tolerance each test states, and every such check says so
// in a Catch2 WARN (printed even when the test passes: `ctest -V` or the test binary shows it).
// Nothing is skipped. `./z2h goldens NN-stage` makes exact goldens for a new kernel.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/tensor/blas.hpp"
#include "common/tensor/kernels/kernels.hpp"

namespace z2h::test {

// Kernel sets whose goldens were made and found identical to another's in every stage, to the bit
// (so only one folder is kept). Not Cooperlake and SkylakeX: identical in 03 and 04, but 02's
// products over 228146 rows are summed in other blocks.
inline const std::map<std::string, std::string>& same_sgemm_as() {
  static const std::map<std::string, std::string> m = {
      {"Zen", "Haswell"},  // AMD's Zen runs Haswell's sgemm kernels: 02-04's goldens identical
                           // (made with OPENBLAS_CORETYPE=Zen on an Intel CPU)
  };
  return m;
}

// The kernel folder used when none matches the local kernel: the most common one.
inline constexpr const char* kFallbackCore = "Haswell";

class KernelGoldens {
 public:
  // `root`: NN-stage/tests/goldens; `stage`: "03-mlp" (names the regenerating command).
  KernelGoldens(std::filesystem::path root, std::string stage) : root_(std::move(root)), stage_(std::move(stage)) {
    local_ = z2h::blas::core_name();
    std::string want = local_;
    if (auto it = same_sgemm_as().find(want); it != same_sgemm_as().end()) want = it->second;
    std::vector<std::string> have;
    if (std::filesystem::is_directory(root_))
      for (const auto& e : std::filesystem::directory_iterator(root_))
        if (e.is_directory()) have.push_back(e.path().filename().string());
    std::sort(have.begin(), have.end());
    available_ = have;
    if (std::find(have.begin(), have.end(), want) != have.end()) {
      core_ = want;
    } else if (std::find(have.begin(), have.end(), kFallbackCore) != have.end()) {
      core_ = kFallbackCore;
    } else if (!have.empty()) {
      core_ = have.front();
    }
    // Bits can only match with the exact kernels (a portable build has the readable ones alone).
    exact_ = z2h::kernels::exact_build && !core_.empty() && core_ == want;
  }

  const std::string& local_core() const { return local_; }    // the kernel this program runs on
  const std::string& golden_core() const { return core_; }    // the kernel that made the goldens used
  bool exact() const { return exact_; }                        // the same summation order: compare bits
  std::filesystem::path dir() const { return root_ / core_; }
  const std::vector<std::string>& available() const { return available_; }

  // The command that makes goldens for the local kernel.
  std::string regenerate() const { return "./z2h goldens " + stage_; }

  // One sentence on what is compared, for INFO and WARN.
  std::string describe() const {
    if (!z2h::kernels::exact_build)
      return "readable kernels (a build without the exact ones): comparing with " + core_ +
             "'s goldens within the tolerances below";
    if (exact_)
      return "goldens made on OpenBLAS " + core_ + " kernels, the kernels in use here (" + local_ +
             "): compared bit for bit";
    return "no goldens for this machine's OpenBLAS " + local_ + " kernels (there are: " + joined() +
           "); comparing with " + core_ + "'s within the tolerances below (" + regenerate() +
           " makes exact ones where PyTorch is installed)";
  }

  // The golden file `name` of the chosen kernel; FAILs (with the fix) when it is missing or was made
  // on another kernel than its folder says.
  nlohmann::json load(const std::string& name) const {
    if (core_.empty())
      FAIL("no goldens in " << root_.string() << " (make them: " << regenerate() << ")");
    const auto path = dir() / name;
    std::ifstream f(path);
    if (!f) FAIL("golden file " << path.string() << " is missing (make it: " << regenerate() << ")");
    nlohmann::json j = nlohmann::json::parse(f);
    const std::string made_on = j.value("openblas_core", std::string("(not recorded)"));
    if (made_on != core_)
      FAIL("golden file " << path.string() << " was made on OpenBLAS " << made_on << " kernels, not " << core_);
    return j;
  }

 private:
  std::string joined() const {
    std::string s;
    for (const auto& k : available_) s += (s.empty() ? "" : ", ") + k;
    return s.empty() ? "none" : s;
  }
  std::filesystem::path root_;
  std::string stage_, local_, core_;
  std::vector<std::string> available_;
  bool exact_ = false;
};

// The goldens of stage `stage` ("03-mlp"), chosen once per test program. The goldens are made with
// one OpenBLAS thread, and so the tests compare with one: a multi-threaded sgemm splits the rows of
// a product between threads, and a row's last bits can depend on where its block starts.
inline const KernelGoldens& stage_goldens(const std::string& stage) {
  static std::map<std::string, KernelGoldens> cache;
  z2h::blas::set_num_threads(1);
  auto it = cache.find(stage);
  if (it == cache.end())
    it = cache.emplace(stage, KernelGoldens(std::filesystem::path(Z2H_SOURCE_DIR) / stage / "tests" / "goldens", stage))
             .first;
  return it->second;
}

// How a kernel-dependent sequence of losses is compared where the goldens' kernel is not the local
// one: the first `steps` within `tol` of PyTorch's; after them (a chaotic run parts from PyTorch's
// within a few steps once one bit differs) the mean of every `window` steps within `band` of
// PyTorch's mean over the same steps (window 0: no check after `steps`). `bitwise = false` is for
// code that does not claim PyTorch's bits: then `t` applies on the goldens' kernel set too.
struct Tolerance {
  int steps = 0;
  double tol = 0;
  int window = 0;
  double band = 0;
  bool bitwise = true;
};

// Where the kernels match: every loss is PyTorch's to the bit (unless !t.bitwise). Elsewhere: `t`,
// stated in a WARN.
template <class T>
void check_losses(const std::vector<T>& ours, const nlohmann::json& torch, const KernelGoldens& g, Tolerance t,
                  const std::string& what) {
  REQUIRE(ours.size() == torch.size());
  const size_t n = ours.size();
  auto theirs = [&](size_t i) { return torch[i].get<double>(); };
  INFO(g.describe());
  if (g.exact() && t.bitwise) {
    size_t differing = 0, first = n;
    double worst = 0;
    for (size_t i = 0; i < n; ++i) {
      const double d = std::fabs(double(ours[i]) - theirs(i));
      if (double(ours[i]) != theirs(i)) ++differing, first = std::min(first, i);
      worst = std::max(worst, d);
    }
    INFO(what << ": " << differing << " of " << n << " losses differ from PyTorch's (first at step "
              << (first == n ? -1 : static_cast<long long>(first)) << ", largest difference " << worst << ")");
    CHECK(differing == 0);
    return;
  }
  const size_t close = std::min(n, static_cast<size_t>(t.steps));
  if (!g.exact())
    WARN(what << ": " << g.describe() << ": steps 0.." << close - 1 << " within " << t.tol
              << (t.window > 0 && close < n ? ", then every " + std::to_string(t.window) + "-step mean within " +
                                                  std::to_string(t.band)
                                            : std::string()));
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < close; ++i) {
    const double d = std::fabs(double(ours[i]) - theirs(i));
    if (d > worst) worst = d, at = i;
  }
  {
    INFO(what << ": largest difference in steps 0.." << close - 1 << ": " << worst << " at step " << at);
    CHECK(worst <= t.tol);
  }
  if (t.window <= 0) return;
  for (size_t lo = close; lo < n; lo += static_cast<size_t>(t.window)) {
    const size_t hi = std::min(n, lo + static_cast<size_t>(t.window));
    double a = 0, b = 0;
    for (size_t i = lo; i < hi; ++i) a += double(ours[i]), b += theirs(i);
    a /= double(hi - lo), b /= double(hi - lo);
    INFO(what << ": mean loss of steps " << lo << ".." << hi - 1 << ": ours " << a << ", PyTorch " << b);
    CHECK(std::fabs(a - b) <= t.band);
  }
}

// One kernel-dependent number (a split loss, a statistic): PyTorch's to the bit where the kernels
// match, within `tol` elsewhere (stated in a WARN).
inline void check_value(double ours, double torch, const KernelGoldens& g, double tol, const std::string& what) {
  INFO(g.describe());
  INFO(what << ": ours " << ours << ", PyTorch " << torch);
  if (g.exact()) {
    CHECK(ours == torch);
  } else {
    WARN(what << ": " << g.describe() << ": within " << tol);
    CHECK(std::fabs(ours - torch) <= tol);
  }
}

// Names sampled from a model whose probabilities went through OpenBLAS: PyTorch's names where the
// kernels match. Elsewhere a last-bit difference in a probability can move a draw that falls near
// a bin edge; that changes the rest of the name and, since a name of another length uses another
// count of random numbers, every name after it. So: the first `first_equal` names must be PyTorch's
// (0 for a model that has parted from PyTorch's), and every name must be as many and end in '.'.
inline void check_samples(const std::vector<std::string>& ours, const nlohmann::json& torch, const KernelGoldens& g,
                          size_t first_equal, const std::string& what) {
  const auto expected = torch.get<std::vector<std::string>>();
  INFO(g.describe());
  INFO(what);
  if (g.exact()) {
    CHECK(ours == expected);
    return;
  }
  REQUIRE(ours.size() == expected.size());
  size_t same = 0;
  while (same < ours.size() && ours[same] == expected[same]) ++same;
  WARN(what << ": " << g.describe() << ": the first " << same << " of " << ours.size()
            << " names are PyTorch's (the first " << first_equal << " must be)");
  CHECK(same >= first_equal);
  for (const auto& name : ours) CHECK((!name.empty() && name.back() == '.'));
}

}  // namespace z2h::test
