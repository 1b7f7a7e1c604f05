#pragma once
// Sampling names from a trained makemore model (lectures 3-6), one character at a time:
//
//   g = torch.Generator().manual_seed(2147483647 + 10)
//   for _ in range(20):
//     out, context = [], [0] * block_size
//     while True:
//       logits = model(torch.tensor([context]))            # (1, vocab_size), evaluation mode
//       probs = F.softmax(logits, dim=1)
//       ix = torch.multinomial(probs, num_samples=1, generator=g).item()   # the exponential trick
//       context = context[1:] + [ix]; out.append(ix)
//       if ix == 0: break
#include "common/rng/generator.hpp"
#include "common/tensor/tensor.hpp"
#include "common/data/text_data.hpp"

#include <functional>
#include <string>
#include <vector>

namespace z2h {

// The longest name sampling makes: the lecture's loop runs until the model draws '.', which a
// corrupt or untrained model may never do. A name that reaches max_len characters stops there
// (without its '.'). Set by a stage's --max-len flag (z2h::add_max_len_option in cli.hpp).
inline constexpr int kDefaultMaxNameLength = 1000;  // an untrained model's names reach ~300
int& max_name_length();

// logits_of: contexts (1, block_size) -> logits (1, vocab.size()), called under no_grad.
// Draws from `g` (so a caller can continue the lecture's stream, as lecture 6 does); each name ends
// with its '.', or is cut at max_len characters. Throws UserError when the model's logits are not
// finite (a corrupt checkpoint or a diverged run): there is nothing to sample from.
std::vector<std::string> sample_names(const std::function<Tensor(const LongTensor&)>& logits_of,
                                      int block_size, const Vocab& vocab, int count, Generator& g,
                                      int max_len = max_name_length());

// The check behind that error, for a stage with its own sampling loop: throws UserError when one
// of the n values is NaN or infinite.
void require_finite_logits(const float* logits, size_t n);

}  // namespace z2h
