// 02-bigram/counts.cpp — the counting model: examples, the count table, P, sampling, the loss.
#include "02-bigram/counts.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "common/app/error.hpp"
#include "common/data/names_dataset.hpp"
#include "common/data/sample_names.hpp"

namespace bigram {

// The lecture's loop — chs = ['.'] + list(w) + ['.']; for ch1, ch2 in zip(chs, chs[1:]) — is the
// makemore dataset with a context of one character: common/data/names_dataset.hpp's build_contexts.
Examples bigrams(const std::vector<std::string>& words, const z2h::Vocab& vocab) {
  z2h::Contexts c = z2h::build_contexts(words, 1, vocab);
  return {std::move(c.X), std::move(c.Y)};
}

// A context of two characters ('.', '.' to start), numbered as one row: 27 * first + second.
Examples trigrams(const std::vector<std::string>& words, const z2h::Vocab& vocab) {
  const z2h::Contexts c = z2h::build_contexts(words, 2, vocab);
  Examples ex{std::vector<int64_t>(c.size()), c.Y};
  for (size_t i = 0; i < c.size(); ++i) ex.xs[i] = V * c.X[2 * i] + c.X[2 * i + 1];
  return ex;
}

int64_t Counts::total() const { return std::accumulate(n.begin(), n.end(), int64_t{0}); }

int Counts::distinct() const {
  return static_cast<int>(std::count_if(n.begin(), n.end(), [](int32_t c) { return c != 0; }));
}

Counts count(const Examples& ex, int rows) {
  Counts N{rows, std::vector<int32_t>(static_cast<size_t>(rows) * V, 0)};
  for (size_t i = 0; i < ex.size(); ++i) N.n[static_cast<size_t>(ex.xs[i] * V + ex.ys[i])] += 1;
  return N;
}

std::vector<Bigram> top_bigrams(const Counts& N, const z2h::Vocab& vocab, size_t k) {
  std::vector<size_t> cells(N.n.size());
  std::iota(cells.begin(), cells.end(), size_t{0});
  std::stable_sort(cells.begin(), cells.end(), [&](size_t a, size_t b) { return N.n[a] > N.n[b]; });
  std::vector<Bigram> top;
  for (size_t c = 0; c < std::min(k, cells.size()); ++c) {
    const int i = static_cast<int>(cells[c] / V), j = static_cast<int>(cells[c] % V);
    top.push_back({std::string{vocab.itos(i), vocab.itos(j)}, N.n[cells[c]]});
  }
  return top;
}

std::vector<float> probabilities(const Counts& N, double smoothing, bool keepdim) {
  // P = (N + smoothing).float(): the count plus the "fake count", as a float32.
  std::vector<float> P(N.n.size());
  for (size_t i = 0; i < P.size(); ++i) P[i] = static_cast<float>(N.n[i]) + static_cast<float>(smoothing);
  // P.sum(1): one sum per row (accumulated in double; for integer counts every order is exact).
  std::vector<float> rowsum(static_cast<size_t>(N.rows));
  for (int r = 0; r < N.rows; ++r) {
    double s = 0.0;
    for (int c = 0; c < V; ++c) s += P[static_cast<size_t>(r * V + c)];
    rowsum[static_cast<size_t>(r)] = static_cast<float>(s);
  }
  // keepdim: (rows, 27) / (rows, 1) divides P[r][c] by rowsum[r] (the row's own sum).
  // no keepdim: (27, 27) / (27,) lines the sums up with the COLUMNS: P[r][c] / rowsum[c].
  for (int r = 0; r < N.rows; ++r)
    for (int c = 0; c < V; ++c) P[static_cast<size_t>(r * V + c)] /= rowsum[static_cast<size_t>(keepdim ? r : c)];
  return P;
}

Counts counts_from_int64(const std::vector<int64_t>& n, int rows, const std::string& path) {
  Counts N{rows, {}};
  N.n.reserve(n.size());
  for (size_t i = 0; i < n.size(); ++i) {
    if (n[i] < 0 || n[i] > std::numeric_limits<int32_t>::max())
      throw z2h::UserError("checkpoint " + z2h::quote_path(path) + ": count N[" + std::to_string(i / V) + ", " +
                           std::to_string(i % V) + "] = " + std::to_string(n[i]) + " is " +
                           (n[i] < 0 ? "negative" : "more than an int32 holds") + " (a corrupt file? count again)");
    N.n.push_back(static_cast<int32_t>(n[i]));
  }
  return N;
}

std::vector<std::string> sample_names(int n, int context, const NextProbs& next_probs, z2h::Generator& g,
                                      const z2h::Vocab& vocab) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    std::string out;
    int64_t row = 0;  // '.' (trigram: '..')
    while (static_cast<int>(out.size()) < z2h::max_name_length()) {
      const float* p = next_probs(row);
      const int64_t ix = z2h::multinomial(p, 1, V, 1, /*replacement=*/true, g)[0];
      out += vocab.itos(static_cast<int>(ix));
      if (ix == 0) break;
      row = context == 1 ? ix : V * (row % V) + ix;  // slide the context: (a, b) then c -> (b, c)
    }
    names.push_back(out);
  }
  return names;
}

Nll nll_double(const Counts& N, double smoothing, const Examples& ex) {
  std::vector<double> logP(N.n.size());
  for (int r = 0; r < N.rows; ++r) {
    double s = 0.0;
    for (int c = 0; c < V; ++c) s += N.at(r, c) + smoothing;
    for (int c = 0; c < V; ++c) logP[static_cast<size_t>(r * V + c)] = std::log((N.at(r, c) + smoothing) / s);
  }
  double log_likelihood = 0.0;
  for (size_t i = 0; i < ex.size(); ++i) log_likelihood += logP[static_cast<size_t>(ex.xs[i] * V + ex.ys[i])];
  return {-log_likelihood / static_cast<double>(ex.size()), log_likelihood};
}

Nll nll_float32(const std::vector<float>& P, const Examples& ex) {
  float log_likelihood = 0.0f;  // log_likelihood = 0.0, then += a float32 tensor: a float32 sum
  for (size_t i = 0; i < ex.size(); ++i) log_likelihood += std::log(P[static_cast<size_t>(ex.xs[i] * V + ex.ys[i])]);
  const float nll = -log_likelihood;
  return {static_cast<double>(nll / static_cast<float>(ex.size())), static_cast<double>(log_likelihood)};
}

}  // namespace bigram
