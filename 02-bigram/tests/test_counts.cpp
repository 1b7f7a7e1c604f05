// The counting model: the table, P, sampling, the loss — against the lecture and PyTorch.
#include "02-bigram/tests/support.hpp"

#include <cmath>

#include "02-bigram/counts.hpp"

using namespace bigram;
using bigram::test::golden;
using bigram::test::names;

namespace {
std::vector<std::string> sample_counts(const std::vector<float>& P, int n, uint64_t seed, int context = 1) {
  z2h::Generator g(seed);
  return sample_names(n, context, [&](int64_t row) { return P.data() + row * V; }, g, names().vocab);
}
}  // namespace

TEST_CASE("names.txt has 32033 words over '.' and 26 letters, giving 228146 bigrams", "[counts]") {
  const auto& d = names();
  CHECK(d.words.size() == 32033);
  CHECK(d.vocab.chars() == ".abcdefghijklmnopqrstuvwxyz");
  CHECK(d.ex.size() == 228146);
  // the first word, "emma": .e em mm ma a.
  CHECK(std::vector<int64_t>(d.ex.xs.begin(), d.ex.xs.begin() + 5) == std::vector<int64_t>{0, 5, 13, 13, 1});
  CHECK(std::vector<int64_t>(d.ex.ys.begin(), d.ex.ys.begin() + 5) == std::vector<int64_t>{5, 13, 13, 1, 0});
}

TEST_CASE("the 27x27 count matrix equals PyTorch's cell by cell and totals 228146", "[counts]") {
  const auto G = golden("lecture.json");
  const Counts N = count(names().ex, V);
  CHECK(N.total() == 228146);
  CHECK(N.distinct() == 627);  // so 102 of the 729 cells are zero
  const auto expected = G["N"].get<std::vector<std::vector<int>>>();
  int mismatches = 0;
  for (int i = 0; i < V; ++i)
    for (int j = 0; j < V; ++j) mismatches += N.at(i, j) != expected[size_t(i)][size_t(j)];
  CHECK(mismatches == 0);
  // Row sums are how often each character occurs followed by something: row '.' = one per word.
  int64_t row0 = 0;
  for (int j = 0; j < V; ++j) row0 += N.at(0, j);
  CHECK(row0 == 32033);
}

TEST_CASE("the most common bigrams are the lecture's: n. 6763, a. 6640, an 5438, ...", "[counts]") {
  const auto G = golden("lecture.json");
  const auto top = top_bigrams(count(names().ex, V), names().vocab, 10);
  REQUIRE(top.size() == 10);
  for (size_t k = 0; k < 10; ++k) {
    CHECK(top[k].text == G["top"][k][0].get<std::string>());
    CHECK(top[k].count == G["top"][k][1].get<int>());
  }
}

TEST_CASE("P = (N+1)/row sums: every row sums to 1 and P[0] equals torch's float32 row bit for bit", "[counts]") {
  const auto G = golden("lecture.json");
  const auto P = probabilities(count(names().ex, V), 1.0);
  for (int r = 0; r < V; ++r) {
    double s = 0;
    for (int c = 0; c < V; ++c) s += P[size_t(r * V + c)];
    CHECK(s == Approx(1.0).epsilon(1e-6));
  }
  const auto P0 = G["P0"].get<std::vector<float>>();
  for (int c = 0; c < V; ++c) CHECK(P[size_t(c)] == P0[size_t(c)]);
}

TEST_CASE("without keepdims the row sums broadcast along columns and the rows no longer sum to 1", "[counts]") {
  const Counts N = count(names().ex, V);
  const auto wrong = probabilities(N, 1.0, /*keepdim=*/false);
  double row0 = 0;
  for (int c = 0; c < V; ++c) row0 += wrong[size_t(c)];
  CHECK(std::abs(row0 - 1.0) > 0.1);
  // Cell [0][5] of the wrong P is divided by the sum of ROW 5, not of row 0.
  float rowsum5 = 0;
  for (int j = 0; j < V; ++j) rowsum5 += float(N.at(5, j) + 1);
  CHECK(wrong[5] == float(N.at(0, 5) + 1) / rowsum5);
}

TEST_CASE("sampling the counts model with seed 2147483647 gives the lecture's names", "[counts][lecture]") {
  const auto P = probabilities(count(names().ex, V), 1.0);
  CHECK(sample_counts(P, 5, 2147483647) ==
        std::vector<std::string>{"mor.", "axx.", "minaymoryles.", "kondlaisah.", "anchshizarie."});
  // The lecture checked: the same names come out of the unsmoothed P = N / row sums.
  CHECK(sample_counts(probabilities(count(names().ex, V), 0.0), 5, 2147483647) ==
        std::vector<std::string>{"mor.", "axx.", "minaymoryles.", "kondlaisah.", "anchshizarie."});
}

TEST_CASE("the counts model's mean NLL in double is 2.454576820116076 (+1) and 2.4540144891543667 (none)",
          "[counts][lecture]") {
  const Counts N = count(names().ex, V);
  const Nll smoothed = nll_double(N, 1.0, names().ex);
  CHECK(smoothed.nll == 2.454576820116076);
  CHECK(nll_double(N, 0.0, names().ex).nll == 2.4540144891543667);
  CHECK(smoothed.log_likelihood == Approx(-2.454576820116076 * 228146).epsilon(1e-15));
}

TEST_CASE("the lecture's float32 running sum drifts to 2.4543561935424805 (printed 2.4544)", "[counts][lecture]") {
  const auto G = golden("lecture.json");
  const Counts N = count(names().ex, V);
  const Nll f32 = nll_float32(probabilities(N, 1.0), names().ex);
  CHECK(f32.nll == G["nll_float32_loop"].get<double>());
  CHECK(f32.log_likelihood == G["log_likelihood_float32"].get<double>());  // -559951.5625
  CHECK(std::abs(f32.nll - 2.454576820116076) > 1e-4);                     // visibly off in the 4th decimal
}

TEST_CASE("trigram examples pad each word with two dots: 'emma' gives .. .e em mm ma -> e m m a .", "[counts]") {
  const Examples t = trigrams({"emma"}, names().vocab);
  CHECK(t.xs == std::vector<int64_t>{0, 5, 5 * 27 + 13, 13 * 27 + 13, 13 * 27 + 1});
  CHECK(t.ys == std::vector<int64_t>{5, 13, 13, 1, 0});
  CHECK(trigrams(names().words, names().vocab).size() == 228146);  // one example per character and end
}
