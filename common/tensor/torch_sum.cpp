// common/tensor/torch_sum.cpp — sum_dim0 on top of ops_reduce.cpp's torch_sum (see torch_sum.hpp).
#include "common/tensor/torch_sum.hpp"

#include "common/tensor/ops_internal.hpp"

namespace z2h {

void sum_dim0(const float* x, int64_t rows, int64_t cols, float* out) {
  detail::torch_sum(x, Shape{rows, cols}, out, Shape{1, cols});
}

}  // namespace z2h
