#pragma once
// 07-gpt/addition.hpp — exercise 2 of the lecture: a GPT that learns to add.
//
// The Colab's EX2: "Train the GPT on your own dataset of choice! ... e.g. a+b=c ... You may find it
// helpful to predict the digits of c in reverse order ... mask out the loss at the input positions
// of a+b that just specify the problem using y=-1 in the targets (see CrossEntropyLoss ignore_index)."
//
// A problem is 3·digits + 3 tokens, a and b zero-padded, c = a + b with digits + 1 digits written
// ones first (the order in which a person adds, carry by carry):
//
//   12+34=64 (digits 2)   1 2 + 3 4 = 6 4 0     c = 046, reversed
//   x = the first 3·digits + 2 tokens, y = the next ones, with y = -1 wherever the next token is
//   still the prompt "a+b=": the loss counts only c's digits (cross_entropy's ignore_index = -1).
#include <cstdint>
#include <string>
#include <vector>

#include "gpt.hpp"

namespace stage07 {

// token i is kAddVocab[i]: the ten digits, then '+' (10) and '=' (11)
inline constexpr const char* kAddVocab = "0123456789+=";
inline constexpr int64_t kAddVocabSize = 12;

struct Addition {
  // Every problem a+b with a, b < 10^digits, numbered a·10^digits + b; torch.randperm of all of them,
  // the first 90 % to train on, the other 10 % held out (never seen in training).
  Addition(int64_t digits, Generator& g);
  int64_t digits;
  std::vector<int64_t> train, val;
  int64_t prompt_len() const { return 2 * digits + 2; }  // "a+b="
  int64_t length() const { return 3 * digits + 3; }      // "a+b=c"
  std::vector<int64_t> sequence(int64_t problem) const;  // its length() tokens
  // ix = torch.randint(len(problems), (batch,)); x = seq[:, :-1], y = seq[:, 1:] with y[:, :prompt-1] = -1
  Batch get_batch(bool train_split, int64_t batch, Generator& g) const;
  // "12+34=46": a problem and an answer given as c's digits in the model's (reversed) order
  std::string text(int64_t problem, const std::vector<int64_t>& answer_reversed) const;
  std::vector<int64_t> answer(int64_t problem) const;  // the right answer's tokens, c reversed
  int64_t sum_of(int64_t problem) const;
  int64_t bound() const;  // 10^digits
};

// Greedy decoding (argmax) of c's digits + 1 tokens after each prompt "a+b="; a problem counts when
// every digit is right. `answers` keeps the first `keep` problems' answers (reversed, as generated).
struct AddScore {
  int64_t correct = 0, total = 0;
  std::vector<std::vector<int64_t>> answers;
};
AddScore add_accuracy(Gpt& model, const Addition& data, const std::vector<int64_t>& problems, size_t keep = 8);

// estimate_loss() on the problems: eval_iters batches from each split, eval mode, no grad.
Evaluation estimate_add_loss(Gpt& model, const Addition& data, int64_t batch, int64_t eval_iters, Generator& g);

}  // namespace stage07
