#include "common/data/sample_names.hpp"

#include "common/tensor/ops.hpp"

namespace z2h {

std::vector<std::string> sample_names(const std::function<Tensor(const LongTensor&)>& logits_of,
                                      int block_size, const Vocab& vocab, int count, Generator& g) {
  NoGradGuard no_grad;
  std::vector<std::string> names;
  for (int k = 0; k < count; ++k) {
    std::vector<int64_t> context(static_cast<size_t>(block_size), 0);  // start with all '.'
    std::string name;
    while (true) {
      const Tensor probs = softmax(logits_of(LongTensor(context, Shape{1, block_size})), 1);  // (1, V)
      const int64_t ix = multinomial(probs, 1, /*replacement=*/false, g).item();
      context.erase(context.begin());  // slide the window: drop the oldest, append the new one
      context.push_back(ix);
      name += vocab.itos(static_cast<int>(ix));
      if (ix == 0) break;
    }
    names.push_back(name);
  }
  return names;
}

}  // namespace z2h
