#include "common/data/names_dataset.hpp"

#include "common/app/error.hpp"
#include "common/rng/py_random.hpp"

#include <algorithm>

#include <stdexcept>

namespace z2h {

WordSplit split_words(std::vector<std::string> words, uint64_t seed) {
  PyRandom rng(seed);
  rng.shuffle(words);
  // int(0.8*n) in Python: a double product truncated towards zero.
  const auto n = words.size();
  const auto n1 = static_cast<size_t>(0.8 * static_cast<double>(n));
  const auto n2 = static_cast<size_t>(0.9 * static_cast<double>(n));
  if (n1 == 0)
    throw UserError("the names file has " + std::to_string(n) + (n == 1 ? " name" : " names") +
                    ": the 80/10/10 split leaves none to train on (give it at least 2 names, one per line)");
  WordSplit s;
  s.train.assign(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(n1));
  s.dev.assign(words.begin() + static_cast<std::ptrdiff_t>(n1), words.begin() + static_cast<std::ptrdiff_t>(n2));
  s.test.assign(words.begin() + static_cast<std::ptrdiff_t>(n2), words.end());
  return s;
}

Contexts build_contexts(const std::vector<std::string>& words, int block_size, const Vocab& vocab) {
  if (block_size < 1) throw std::invalid_argument("build_contexts: block_size must be >= 1");
  Contexts c;
  c.block_size = block_size;
  const int end = vocab.stoi('.');
  std::vector<int64_t> context(static_cast<size_t>(block_size));
  for (const auto& w : words) {
    std::fill(context.begin(), context.end(), end);
    for (size_t i = 0; i <= w.size(); ++i) {
      if (i < w.size() && !vocab.contains(w[i]))
        throw UserError("the word '" + w + "' has the character '" + std::string(1, w[i]) +
                        "', which is not in the vocabulary '" + vocab.chars() + "'");
      const int ix = i < w.size() ? vocab.stoi(w[i]) : end;
      c.X.insert(c.X.end(), context.begin(), context.end());
      c.Y.push_back(ix);
      context.erase(context.begin());  // crop and append: context = context[1:] + [ix]
      context.push_back(ix);
    }
  }
  return c;
}

static NamesSplit to_tensors(const Contexts& c) {
  const int64_t n = static_cast<int64_t>(c.size());
  return {LongTensor(c.X, Shape{n, c.block_size}), LongTensor(c.Y, Shape{n})};
}

NamesData load_names(const std::string& path, int block_size) {
  const std::vector<std::string> words = read_lines(path);
  NamesData d{Vocab::from_words(words, '.'), {}, {}, {}};
  const WordSplit split = split_words(words);  // random.seed(42); random.shuffle(words); 80/10/10
  d.train = to_tensors(build_contexts(split.train, block_size, d.vocab));
  d.val = to_tensors(build_contexts(split.dev, block_size, d.vocab));
  d.test = to_tensors(build_contexts(split.test, block_size, d.vocab));
  return d;
}

}  // namespace z2h
