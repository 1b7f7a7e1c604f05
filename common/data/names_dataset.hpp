#pragma once
// The makemore dataset of lectures 2-6: names.txt split into train/dev/test words, and the
// (context -> next character) examples built from them.
//
//   auto words = z2h::read_lines(z2h::data_file(opt, "names.txt"));
//   auto vocab = z2h::Vocab::from_words(words, '.');          // '.'=0, a-z = 1..26
//   auto split = z2h::split_words(words);                      // random.seed(42); random.shuffle(words)
//   auto tr = z2h::build_contexts(split.train, 3, vocab);      // 182625 examples
//   auto data = z2h::load_names(path, 3);                      // all of it, as tensors (lectures 4-6)
//
// With block_size 3, "emma" gives five examples (the lecture's printout):
//   ... ---> e     ..e ---> m     .em ---> m     emm ---> a     mma ---> .
#include "common/data/text_data.hpp"
#include "common/tensor/tensor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace z2h {

struct WordSplit {
  std::vector<std::string> train, dev, test;
};

// The lectures' split: `random.seed(seed); random.shuffle(words)` with CPython's generator, then
// words[:n1], words[n1:n2], words[n2:] with n1 = int(0.8*n), n2 = int(0.9*n).
// For names.txt and seed 42: 25626 / 3203 / 3204 words, starting yuheng, diondre, xavien.
// Throws UserError when the training part would be empty (fewer than 2 words).
WordSplit split_words(std::vector<std::string> words, uint64_t seed = 42);

// Examples for a model that sees `block_size` previous characters: for every word, the context
// starts as block_size '.' tokens; each character of word + '.' is one target.
struct Contexts {
  std::vector<int64_t> X;  // [size(), block_size] row-major context indices
  std::vector<int64_t> Y;  // [size()] the index of the character that follows
  int block_size = 0;
  size_t size() const { return Y.size(); }
};

// Throws UserError (naming the word) if a word has a character outside the vocabulary, or
// std::invalid_argument if block_size < 1.
Contexts build_contexts(const std::vector<std::string>& words, int block_size, const Vocab& vocab);

// One split's examples as the lectures' tensors.
struct NamesSplit {
  LongTensor X;  // (n, block_size) contexts
  LongTensor Y;  // (n) the characters that follow
  int64_t size() const { return Y.numel(); }
};

// names.txt -> its vocabulary and the notebook's 80/10/10 split (split_words), each split's examples
// as tensors: 182625 / 22655 / 22866 examples (one per character and name end, for any block_size).
struct NamesData {
  Vocab vocab{"."};
  NamesSplit train, val, test;
};
NamesData load_names(const std::string& path, int block_size);

}  // namespace z2h
