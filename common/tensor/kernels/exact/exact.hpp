#pragma once
// common/tensor/kernels/exact/exact.hpp — what the exact kernels share among themselves (not for
// ops or stages: they call kernels::*, kernels.hpp).
#include <cstdint>

#include "common/tensor/kernels/exact/vec_math.hpp"
#include "common/tensor/kernels/kernels.hpp"

namespace z2h::kernels::exact {

// torch.sum of one contiguous row of n floats, in ATen's order (sum_to of shape (n) to (), without
// the layout analysis): for kernels that reduce row after row, e.g. a softmax divisor's gradient.
float torch_sum_row(const float* x, int64_t n);

}  // namespace z2h::kernels::exact
