// 07-gpt/addition.cpp — exercise 2: the addition problems, their batches and the held-out score.
#include "addition.hpp"

#include <algorithm>

#include "common/app/error.hpp"

namespace stage07 {

namespace {
int64_t pow10(int64_t n) {
  int64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}
}  // namespace

Addition::Addition(int64_t d, Generator& g) : digits(d) {
  if (d < 1 || d > 3) throw z2h::UserError("--digits " + std::to_string(d) + " is out of range (1 to 3)");
  const int64_t n = pow10(2 * d);
  const std::vector<int64_t> perm = z2h::randperm(n, g);  // perm = torch.randperm(10**(2*digits))
  const int64_t n_train = n - n / 10;
  train.assign(perm.begin(), perm.begin() + n_train);
  val.assign(perm.begin() + n_train, perm.end());
}

int64_t Addition::bound() const { return pow10(digits); }

std::vector<int64_t> Addition::answer(int64_t problem) const {
  const std::vector<int64_t> s = sequence(problem);
  return {s.begin() + prompt_len(), s.end()};
}

int64_t Addition::sum_of(int64_t problem) const {
  const int64_t p = pow10(digits);
  return problem / p + problem % p;
}

std::vector<int64_t> Addition::sequence(int64_t problem) const {
  const int64_t p = pow10(digits), a = problem / p, b = problem % p, c = a + b;
  std::vector<int64_t> s;
  for (int64_t i = digits - 1; i >= 0; --i) s.push_back(a / pow10(i) % 10);  // a, most significant first
  s.push_back(10);                                                           // '+'
  for (int64_t i = digits - 1; i >= 0; --i) s.push_back(b / pow10(i) % 10);
  s.push_back(11);                                                           // '='
  for (int64_t i = 0; i <= digits; ++i) s.push_back(c / pow10(i) % 10);      // c, the ones first
  return s;
}

Batch Addition::get_batch(bool train_split, int64_t batch, Generator& g) const {
  const std::vector<int64_t>& problems = train_split ? train : val;
  const LongTensor ix = z2h::randint(0, static_cast<int64_t>(problems.size()), {batch}, g);
  const int64_t T = length() - 1;
  std::vector<int64_t> x(static_cast<size_t>(batch * T)), y(x.size());
  for (int64_t r = 0; r < batch; ++r) {
    const std::vector<int64_t> s = sequence(problems[static_cast<size_t>(ix.data[static_cast<size_t>(r)])]);
    for (int64_t t = 0; t < T; ++t) {
      x[static_cast<size_t>(r * T + t)] = s[static_cast<size_t>(t)];
      // the target at t is token t + 1: part of the prompt for t + 1 < prompt_len()
      y[static_cast<size_t>(r * T + t)] = t + 1 < prompt_len() ? -1 : s[static_cast<size_t>(t + 1)];
    }
  }
  return {LongTensor(std::move(x), {batch, T}), LongTensor(std::move(y), {batch, T})};
}

std::string Addition::text(int64_t problem, const std::vector<int64_t>& answer_reversed) const {
  const int64_t p = pow10(digits);
  int64_t c = 0;
  for (auto it = answer_reversed.rbegin(); it != answer_reversed.rend(); ++it) c = 10 * c + *it;
  return std::to_string(problem / p) + "+" + std::to_string(problem % p) + "=" + std::to_string(c);
}

AddScore add_accuracy(Gpt& model, const Addition& data, const std::vector<int64_t>& problems, size_t keep) {
  z2h::NoGradGuard no_grad;
  Generator unused(0);  // eval mode: dropout draws nothing
  const Mode eval{false, &unused};
  const int64_t P = data.prompt_len(), D = data.digits + 1, V = kAddVocabSize;
  constexpr size_t kChunk = 1000;
  AddScore score;
  for (size_t s = 0; s < problems.size(); s += kChunk) {
    const int64_t n = static_cast<int64_t>(std::min(kChunk, problems.size() - s));
    std::vector<std::vector<int64_t>> seqs;
    for (int64_t i = 0; i < n; ++i) seqs.push_back(data.sequence(problems[s + static_cast<size_t>(i)]));
    // idx (n, T) grows by one argmax column per step, from the prompt (n, P)
    std::vector<std::vector<int64_t>> rows(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) rows[static_cast<size_t>(i)].assign(seqs[static_cast<size_t>(i)].begin(), seqs[static_cast<size_t>(i)].begin() + P);
    for (int64_t step = 0; step < D; ++step) {
      const int64_t T = P + step;
      std::vector<int64_t> flat;
      for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
      const Tensor logits = model.forward(LongTensor(std::move(flat), {n, T}), nullptr, eval).logits;  // (n, T, V)
      for (int64_t i = 0; i < n; ++i) {
        const float* l = logits.data() + (i * T + T - 1) * V;  // logits[:, -1, :]
        rows[static_cast<size_t>(i)].push_back(std::max_element(l, l + V) - l);  // argmax: the first maximum
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      const auto& r = rows[static_cast<size_t>(i)];
      const auto& want = seqs[static_cast<size_t>(i)];
      score.correct += std::equal(r.begin() + P, r.end(), want.begin() + P);
      if (score.answers.size() < keep) score.answers.emplace_back(r.begin() + P, r.end());
    }
  }
  score.total = static_cast<int64_t>(problems.size());
  return score;
}

Evaluation estimate_add_loss(Gpt& model, const Addition& data, int64_t batch, int64_t eval_iters, Generator& g) {
  return estimate_loss(model, eval_iters, g, [&](bool train) { return data.get_batch(train, batch, g); });
}

}  // namespace stage07
