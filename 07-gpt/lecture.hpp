#pragma once
// 07-gpt/lecture.hpp — the Colab's cells before the finished model (mode --mode lecture), in order,
// with the numbers they print. run_lecture computes them; print_lecture prints them as the cells do.
#include <string>
#include <vector>

#include "common/tensor/tensor.hpp"
#include "common/data/text_data.hpp"

namespace stage07 {

struct LectureCells {
  // the data
  size_t length = 0;
  std::string vocab;
  std::vector<int> encode_hii_there;
  std::string decoded;
  std::vector<int64_t> data_9;
  int64_t n_train = 0, n_val = 0;
  z2h::LongTensor xb, yb;  // the first get_batch('train'), batch 4, block 8, seed 1337
  // the bigram model
  std::vector<int64_t> logits_shape;
  float bigram_loss = 0;
  std::string untrained_100;
  float loss_after_100 = 0;  // AdamW lr 1e-3, batch 32, 100 steps
  std::string trained_500;
  // the mathematical trick
  z2h::Tensor a, b, c;           // seed 42: a = tril / row sums, b = randint(0, 10, (3, 2)), c = a @ b
  z2h::Tensor x, xbow, xbow2, xbow3;  // seed 1337: x (4, 8, 2); the loop, tril-matmul and softmax versions
  bool allclose2 = false, allclose3 = false;
  z2h::Tensor tril_wei;  // the (8, 8) averaging matrix
  // self-attention
  z2h::Tensor head_wei0;  // a single head, no scaling: wei[0] (8, 8)
  std::vector<int64_t> head_out_shape;
  float k_var = 0, q_var = 0, wei_var = 0;  // unit-variance q, k: wei's variance with head_size**-0.5
  std::vector<float> softmax_plain, softmax_x8;
  float ln_col_mean = 0, ln_col_std = 0, ln_row_mean = 0, ln_row_std = 0;  // LayerNorm1d
};

LectureCells run_lecture(const std::string& text);
void print_lecture(const LectureCells& c, const z2h::Vocab& vocab);

}  // namespace stage07
