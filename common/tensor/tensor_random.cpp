// common/tensor/tensor_random.cpp — random tensors, drawn from PyTorch's generator (common/rng/generator.hpp)
// through its fill kernels, so each factory consumes the stream exactly as the torch call does.
#include "common/rng/generator.hpp"
#include "common/tensor/tensor.hpp"

#include <stdexcept>
#include <string>

namespace z2h {

Tensor randn(Shape s, Generator& g) {
  Tensor t = empty(s);
  normal_(t.data(), static_cast<size_t>(t.numel()), 0.0, 1.0, g);
  return t;
}
Tensor randn(Shape s) { return randn(s, default_generator()); }

Tensor rand(Shape s, Generator& g) {
  Tensor t = empty(s);
  uniform_(t.data(), static_cast<size_t>(t.numel()), 0.0, 1.0, g);
  return t;
}
Tensor rand(Shape s) { return rand(s, default_generator()); }

LongTensor randint(int64_t low, int64_t high, Shape s, Generator& g) {
  if (high <= low)
    throw std::invalid_argument("randint: high (" + std::to_string(high) + ") must be greater than low (" +
                                std::to_string(low) + ")");
  return LongTensor(z2h::randint(low, high, static_cast<size_t>(s.numel()), g), s);
}
LongTensor randint(int64_t low, int64_t high, Shape s) { return randint(low, high, s, default_generator()); }

Tensor randn(std::initializer_list<int64_t> s, Generator& g) { return randn(Shape(s), g); }
Tensor randn(std::initializer_list<int64_t> s) { return randn(Shape(s)); }
Tensor rand(std::initializer_list<int64_t> s, Generator& g) { return rand(Shape(s), g); }
Tensor rand(std::initializer_list<int64_t> s) { return rand(Shape(s)); }
LongTensor randint(int64_t low, int64_t high, std::initializer_list<int64_t> s, Generator& g) {
  return randint(low, high, Shape(s), g);
}
LongTensor randint(int64_t low, int64_t high, std::initializer_list<int64_t> s) {
  return randint(low, high, Shape(s));
}

LongTensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement, Generator& g) {
  if (probs.ndim() != 1 && probs.ndim() != 2)
    throw std::invalid_argument("multinomial: probs must be 1-D or 2-D, got " + probs.shape().str());
  const size_t rows = probs.ndim() == 2 ? static_cast<size_t>(probs.size(0)) : 1;
  const size_t n = static_cast<size_t>(probs.size(-1));
  if (!replacement && num_samples > static_cast<int64_t>(n))
    throw std::invalid_argument("multinomial: cannot draw " + std::to_string(num_samples) +
                                " samples without replacement from " + std::to_string(n) + " categories");
  std::vector<int64_t> v =
      z2h::multinomial(probs.data(), rows, n, static_cast<size_t>(num_samples), replacement, g);
  Shape s = probs.ndim() == 2 ? Shape{static_cast<int64_t>(rows), num_samples} : Shape{num_samples};
  return LongTensor(std::move(v), s);
}
LongTensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement) {
  return multinomial(probs, num_samples, replacement, default_generator());
}

}  // namespace z2h
