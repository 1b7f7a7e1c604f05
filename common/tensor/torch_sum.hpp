#pragma once
// common/tensor/torch_sum.hpp — PyTorch's float column sum for code that works on raw buffers.
//
// torch.sum adds floats in an order fixed by ATen (TensorIterator's layout and SumKernel.cpp's
// cascade_sum, see ops_reduce.cpp), and that order decides the last bits of the result. The tensor
// ops use it through sum()/mean() and every bias gradient; hand-written kernels that want the same
// bits (05-backprop-ninja's manual backward: db = dout.sum(0)) call this.
#include <cstdint>

namespace z2h {

// out[j] = x.sum(0)[j] = Σ_i x[i * cols + j] for a contiguous row-major (rows, cols) matrix, with
// the bits of torch.sum(x, 0) on a float CPU tensor. out has cols floats and must not overlap x.
void sum_dim0(const float* x, int64_t rows, int64_t cols, float* out);

}  // namespace z2h
