// 07-gpt/lecture.cpp — the Colab's cells, in order (gpt_dev.ipynb), each a few lines of tensor code.
#include "lecture.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>

#include "common/rng/generator.hpp"
#include "common/tensor/ops.hpp"
#include "common/nn/optim.hpp"
#include "gpt.hpp"

namespace stage07 {

using z2h::Tensor;

namespace {
// torch.allclose(a, b): |a - b| <= 1e-8 + 1e-5 * |b| everywhere
bool allclose(const Tensor& a, const Tensor& b) {
  for (int64_t i = 0; i < a.numel(); ++i)
    if (std::fabs(a.data()[i] - b.data()[i]) > 1e-8 + 1e-5 * std::fabs(b.data()[i])) return false;
  return true;
}
}  // namespace

LectureCells run_lecture(const std::string& text) {
  LectureCells c;
  const z2h::Vocab vocab = z2h::Vocab::from_text(text);
  c.length = text.size();
  c.vocab = vocab.chars();
  c.encode_hii_there = vocab.encode("hii there");
  c.decoded = vocab.decode(c.encode_hii_there);
  const std::vector<int> ids = vocab.encode(text);
  c.data_9.assign(ids.begin(), ids.begin() + 9);
  const Split data = split_data(ids);
  c.n_train = data.train.numel();
  c.n_val = data.val.numel();

  // torch.manual_seed(1337); batch_size = 4; block_size = 8; xb, yb = get_batch('train')
  Generator g(1337);
  const Batch first = get_batch(data.train, 4, 8, g);
  c.xb = first.x;
  c.yb = first.y;

  // the bigram model: torch.manual_seed(1337); m = BigramLanguageModel(vocab_size)
  g.manual_seed(1337);
  Config bigram{.vocab_size = vocab.size(), .block_size = 8, .n_embd = 0};
  Gpt m(bigram, g);
  const Mode train{true, &g};
  {
    Gpt::Output out = m.forward(c.xb, &c.yb, train);
    c.logits_shape = {out.logits.size(0) * out.logits.size(1), out.logits.size(2)};  // after .view(B*T, C)
    c.bigram_loss = out.loss.item();
  }
  auto sample = [&](int64_t n) {
    const LongTensor idx = m.generate(LongTensor({0}, {1, 1}), n, g);
    return vocab.decode(std::vector<int>(idx.data.begin(), idx.data.end()));
  };
  c.untrained_100 = sample(100);
  z2h::optim::AdamW opt(m.parameters(), 1e-3);
  for (int step = 0; step < 100; ++step) {
    const Batch b = get_batch(data.train, 32, 8, g);
    Tensor loss = m.forward(b.x, &b.y, train).loss;
    opt.zero_grad();
    loss.backward();
    opt.step();
    c.loss_after_100 = loss.item();
  }
  c.trained_500 = sample(500);

  // the mathematical trick: a weighted average of the past by a matrix multiply
  g.manual_seed(42);
  Tensor a = z2h::tril(z2h::ones({3, 3}));
  c.a = a / z2h::sum(a, {1}, true);
  const z2h::LongTensor bi = z2h::randint(0, 10, {3, 2}, g);
  c.b = z2h::empty({3, 2});
  for (int64_t i = 0; i < 6; ++i) c.b.data()[i] = static_cast<float>(bi.data[static_cast<size_t>(i)]);
  c.c = z2h::matmul(c.a, c.b);

  g.manual_seed(1337);
  const int64_t B = 4, T = 8, C = 2;
  c.x = z2h::randn({B, T, C}, g);
  c.xbow = z2h::zeros({B, T, C});  // version 1: xbow[b, t] = mean(x[b, :t+1], 0)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      Tensor xprev = z2h::slice(z2h::select(c.x, 0, b), 0, 0, t + 1);  // (t+1, C)
      Tensor mu = z2h::mean(xprev, {0});
      std::copy_n(mu.data(), C, c.xbow.data() + (b * T + t) * C);
    }
  Tensor wei = z2h::tril(z2h::ones({T, T}));  // version 2: wei = tril / row sums; xbow2 = wei @ x
  wei = wei / z2h::sum(wei, {1}, true);
  c.tril_wei = wei;
  c.xbow2 = z2h::matmul(wei, c.x);
  const Tensor tril = z2h::tril(z2h::ones({T, T}));  // version 3: masked_fill(tril == 0, -inf), softmax
  Tensor wei3 = z2h::masked_fill(z2h::zeros({T, T}), z2h::eq(tril, 0.0f), -std::numeric_limits<float>::infinity());
  wei3 = z2h::softmax(wei3, -1);
  c.xbow3 = z2h::matmul(wei3, c.x);
  c.allclose2 = allclose(c.xbow, c.xbow2);
  c.allclose3 = allclose(c.xbow, c.xbow3);

  // version 4: self-attention, one head of 16, no scaling
  g.manual_seed(1337);
  const int64_t C4 = 32, head_size = 16;
  Tensor x4 = z2h::randn({B, T, C4}, g);
  z2h::nn::TorchLinear key(C4, head_size, false, g), query(C4, head_size, false, g), value(C4, head_size, false, g);
  Tensor k = key(x4), q = query(x4);
  Tensor w4 = z2h::matmul(q, z2h::transpose(k, -2, -1));  // (B, T, 16) @ (B, 16, T) -> (B, T, T)
  w4 = z2h::masked_fill(w4, z2h::eq(tril, 0.0f), -std::numeric_limits<float>::infinity());
  w4 = z2h::softmax(w4, -1);
  Tensor out4 = z2h::matmul(w4, value(x4));
  c.head_wei0 = z2h::select(w4, 0, 0);
  c.head_out_shape = out4.shape().vec();

  // scaled attention: unit-variance q and k keep wei at unit variance with head_size**-0.5
  Tensor ks = z2h::randn({B, T, head_size}, g), qs = z2h::randn({B, T, head_size}, g);
  Tensor ws = z2h::matmul(qs, z2h::transpose(ks, -2, -1)) * static_cast<float>(std::pow(16.0, -0.5));
  c.k_var = z2h::var(ks).item();
  c.q_var = z2h::var(qs).item();
  c.wei_var = z2h::var(ws).item();
  const Tensor s = z2h::tensor({0.1f, -0.2f, 0.3f, -0.2f, 0.5f});
  c.softmax_plain = z2h::softmax(s, -1).tolist();
  c.softmax_x8 = z2h::softmax(s * 8.0f, -1).tolist();

  // LayerNorm1d: normalise each row (dim 1), not each column
  g.manual_seed(1337);
  Tensor xl = z2h::randn({32, 100}, g);
  Tensor xmean = z2h::mean(xl, {1}, true), xvar = z2h::var(xl, {1}, true);
  Tensor xhat = (xl - xmean) / z2h::sqrt(xvar + 1e-5f);
  Tensor col = z2h::select(xhat, 1, 0), row = z2h::select(xhat, 0, 0);
  c.ln_col_mean = z2h::mean(col).item();
  c.ln_col_std = z2h::std(col).item();
  c.ln_row_mean = z2h::mean(row).item();
  c.ln_row_std = z2h::std(row).item();
  return c;
}

namespace {
std::string ints(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}
void print_matrix(const Tensor& t, const char* fmt) {
  const int64_t R = t.size(0), C = t.size(1);
  for (int64_t i = 0; i < R; ++i) {
    std::printf("%s", i == 0 ? "[[" : " [");
    for (int64_t j = 0; j < C; ++j) std::printf(fmt, static_cast<double>(t.data()[i * C + j])), std::printf(j + 1 < C ? ", " : "");
    std::printf("%s\n", i + 1 < R ? "]," : "]]");
  }
}
}  // namespace

void print_lecture(const LectureCells& c, const z2h::Vocab& vocab) {
  std::printf("length of dataset in characters:  %zu\n", c.length);
  std::string shown = c.vocab;
  std::printf("vocabulary: %s\n%d\n", shown.c_str(), vocab.size());
  std::printf("encode(\"hii there\") = %s\ndecode(...) = %s\n",
              ints(std::vector<int64_t>(c.encode_hii_there.begin(), c.encode_hii_there.end())).c_str(), c.decoded.c_str());
  std::printf("data: torch.Size([%zu]) torch.int64\ndata[:9] = %s\n", c.length, ints(c.data_9).c_str());
  std::printf("train %lld tokens, val %lld tokens\n\n", static_cast<long long>(c.n_train), static_cast<long long>(c.n_val));
  std::printf("inputs: (4, 8)\n");
  for (int64_t b = 0; b < 4; ++b) std::printf("  %s\n", ints(std::vector<int64_t>(c.xb.data.begin() + b * 8, c.xb.data.begin() + b * 8 + 8)).c_str());
  std::printf("targets: (4, 8)\n");
  for (int64_t b = 0; b < 4; ++b) std::printf("  %s\n", ints(std::vector<int64_t>(c.yb.data.begin() + b * 8, c.yb.data.begin() + b * 8 + 8)).c_str());
  for (int64_t b = 0; b < 4; ++b)
    for (int64_t t = 0; t < 8; ++t)
      std::printf("when input is %s the target: %lld\n",
                  ints(std::vector<int64_t>(c.xb.data.begin() + b * 8, c.xb.data.begin() + b * 8 + t + 1)).c_str(),
                  static_cast<long long>(c.yb.data[static_cast<size_t>(b * 8 + t)]));
  std::printf("\nbigram: logits (%lld, %lld), loss %.4f (uniform: -ln(1/%d) = %.4f)\n",
              static_cast<long long>(c.logits_shape[0]), static_cast<long long>(c.logits_shape[1]),
              static_cast<double>(c.bigram_loss), vocab.size(), std::log(static_cast<double>(vocab.size())));
  std::printf("100 characters from the untrained model:\n%s\n", c.untrained_100.c_str());
  std::printf("AdamW lr 1e-3, batch 32, 100 steps: loss %.17g\n", static_cast<double>(c.loss_after_100));
  std::printf("500 characters after them:\n%s\n\n", c.trained_500.c_str());
  std::printf("the mathematical trick (seed 42):\na=\n");
  print_matrix(c.a, "%.4f");
  std::printf("b=\n");
  print_matrix(c.b, "%.4f");
  std::printf("c=\n");
  print_matrix(c.c, "%.4f");
  std::printf("x[0] (seed 1337, (4, 8, 2)):\n");
  print_matrix(z2h::select(c.x, 0, 0), "%7.4f");
  std::printf("xbow[0] (version 1, loops):\n");
  print_matrix(z2h::select(c.xbow, 0, 0), "%7.4f");
  std::printf("torch.allclose(xbow, xbow2) (tril matmul): %s\ntorch.allclose(xbow, xbow3) (masked softmax): %s\n\n",
              c.allclose2 ? "True" : "False", c.allclose3 ? "True" : "False");
  std::printf("a single head (16), no scaling: wei[0] =\n");
  print_matrix(c.head_wei0, "%.4f");
  std::printf("out.shape = (%lld, %lld, %lld)\n", static_cast<long long>(c.head_out_shape[0]),
              static_cast<long long>(c.head_out_shape[1]), static_cast<long long>(c.head_out_shape[2]));
  std::printf("\nscaled attention: k.var() %.4f, q.var() %.4f, wei.var() %.4f\n", static_cast<double>(c.k_var),
              static_cast<double>(c.q_var), static_cast<double>(c.wei_var));
  auto vec = [](const std::vector<float>& v) {
    std::string s = "[";
    char buf[32];
    for (size_t i = 0; i < v.size(); ++i) std::snprintf(buf, sizeof buf, "%s%.4f", i ? ", " : "", static_cast<double>(v[i])), s += buf;
    return s + "]";
  };
  std::printf("softmax([0.1, -0.2, 0.3, -0.2, 0.5])     = %s\n", vec(c.softmax_plain).c_str());
  std::printf("softmax([0.1, -0.2, 0.3, -0.2, 0.5] * 8) = %s   (sharpens towards one-hot)\n", vec(c.softmax_x8).c_str());
  std::printf("\nLayerNorm1d on randn(32, 100): column 0 mean %.4f std %.4f; row 0 mean %.4e std %.4f\n",
              static_cast<double>(c.ln_col_mean), static_cast<double>(c.ln_col_std), static_cast<double>(c.ln_row_mean),
              static_cast<double>(c.ln_row_std));
}

}  // namespace stage07
