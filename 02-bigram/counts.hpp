#pragma once
// 02-bigram/counts.hpp — the first half of lecture 2: a language model made of counts.
//
// Everything here is plain loops over a small table of integers, on purpose: the lesson is that
// "training" this model is counting, and "the model" is the table. The same functions serve the
// trigram model of exercise E01, whose table has one row per PAIR of previous characters.
//
//   auto ex = bigrams(words, vocab);          // (x, y) for every '.e', 'em', 'mm', 'ma', 'a.', ...
//   Counts N = count(ex, 27);                 // N[x][y]: how often y followed x
//   auto P = probabilities(N, 1.0);           // P = (N+1).float(); P /= P.sum(1, keepdims=True)
//   nll_double(N, 1.0, ex).nll                // 2.454576820116076: the loss of this model
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/rng/generator.hpp"
#include "common/data/text_data.hpp"

namespace bigram {

constexpr int V = 27;  // the vocabulary: '.' = 0, 'a' = 1, ..., 'z' = 26

// The training examples of a model: xs[i] is the row of the table (the context), ys[i] the
// character that followed it.
//   bigram:  "emma" -> xs [0, 5, 13, 13, 1]  ys [5, 13, 13, 1, 0]   ('.e' 'em' 'mm' 'ma' 'a.')
//   trigram: "emma" -> xs [27*0+0, 27*0+5, 27*5+13, 27*13+13, 27*13+1]  ys [5, 13, 13, 1, 0]
// (the trigram pads with two dots, so a name can start; the pair (a, b) is row 27*a + b).
struct Examples {
  std::vector<int64_t> xs, ys;
  size_t size() const { return xs.size(); }
};
Examples bigrams(const std::vector<std::string>& words, const z2h::Vocab& vocab);
Examples trigrams(const std::vector<std::string>& words, const z2h::Vocab& vocab);

// N: `rows` x 27 counts, row-major (torch.zeros((27, 27), dtype=torch.int32), then N[x, y] += 1).
struct Counts {
  int rows = 0;
  std::vector<int32_t> n;
  int32_t at(int64_t x, int64_t y) const { return n[static_cast<size_t>(x * V + y)]; }
  int64_t total() const;  // the number of examples counted: 228146 bigrams
  int distinct() const;   // cells that are not zero: 627 of 729
};
Counts count(const Examples& ex, int rows);

// The counts as a checkpoint stores them (int64, torch's default for saved integer tensors),
// back in int32. Throws z2h::UserError naming the file for a negative count or one that int32
// cannot hold: never a silent truncation.
Counts counts_from_int64(const std::vector<int64_t>& n, int rows, const std::string& path);

// The k most frequent bigrams, most frequent first (ties in row-major order), as "an" 5438.
struct Bigram {
  std::string text;
  int32_t count;
};
std::vector<Bigram> top_bigrams(const Counts& N, const z2h::Vocab& vocab, size_t k);

// P = (N + smoothing).float(); P /= P.sum(1, keepdims=True) — in float32, as torch does.
// Broadcasting: P.sum(1, keepdims=True) is (27, 1), and (27, 27) / (27, 1) stretches the column of
// row sums across each row, so every ROW is divided by its own sum. Without keepdims the sum is
// (27), which broadcasts as (1, 27): every COLUMN j would be divided by row j's sum — no error, just
// a wrong model whose rows do not sum to 1 (the lecture's "spooky" bug): keepdim = false shows it.
std::vector<float> probabilities(const Counts& N, double smoothing, bool keepdim = true);

// Sampling, as in the lecture: start from '.', draw the next character from the distribution of
// the current context with torch.multinomial(p, num_samples=1, replacement=True, generator=g), stop
// at the next '.'. `next_probs(row)` gives the 27 probabilities of context row `row`; context 1 is
// the bigram (row = last character), 2 the trigram (row = 27 * second-last + last).
using NextProbs = std::function<const float*(int64_t row)>;
std::vector<std::string> sample_names(int n, int context, const NextProbs& next_probs, z2h::Generator& g,
                                      const z2h::Vocab& vocab);

// The quality of the model in one number: the mean negative log-likelihood of the examples.
//   log_likelihood = sum over examples of log P[x, y]; nll = -log_likelihood / n
// nll_double: the lecture's loop over every example, in double, with P in double (exactly
// 2.454576820116076 for the bigram counts with +1 smoothing, 2.4540144891543667 without).
// nll_float32: the lecture's cell as it ran — a float32 running sum of torch.log(P[x, y]) over the
// float32 P — which drifts once the sum is large (2.4543561935424805; the notebook prints 2.4544).
struct Nll {
  double nll;
  double log_likelihood;
};
Nll nll_double(const Counts& N, double smoothing, const Examples& ex);
Nll nll_float32(const std::vector<float>& P, const Examples& ex);

}  // namespace bigram
