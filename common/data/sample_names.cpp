#include "common/data/sample_names.hpp"

#include "common/app/error.hpp"
#include "common/tensor/ops.hpp"

#include <cmath>

namespace z2h {

int& max_name_length() {
  static int max_len = kDefaultMaxNameLength;
  return max_len;
}

void require_finite_logits(const float* logits, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(logits[i])) {
      throw UserError("the model's predictions are not finite numbers (NaN or inf), so there is nothing to sample "
                      "from: its parameters are corrupt or training diverged (train again, or a smaller --lr)");
    }
  }
}

std::vector<std::string> sample_names(const std::function<Tensor(const LongTensor&)>& logits_of,
                                      int block_size, const Vocab& vocab, int count, Generator& g, int max_len) {
  NoGradGuard no_grad;
  std::vector<std::string> names;
  for (int k = 0; k < count; ++k) {
    std::vector<int64_t> context(static_cast<size_t>(block_size), 0);  // start with all '.'
    std::string name;
    while (static_cast<int>(name.size()) < max_len) {
      const Tensor logits = logits_of(LongTensor(context, Shape{1, block_size}));
      require_finite_logits(logits.data(), static_cast<size_t>(logits.numel()));
      const Tensor probs = softmax(logits, 1);  // (1, V)
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
