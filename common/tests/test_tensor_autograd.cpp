// The semantics of the tensor layer a learner relies on: accumulation, zero_grad, no_grad, detach,
// views, retain_grad, errors.
#include "common/tests/tensor_test_support.hpp"

#include "common/rng/generator.hpp"
#include "common/tensor/autograd.hpp"

using namespace z2h;

TEST_CASE("a tensor used twice accumulates both gradients", "[autograd]") {
  Tensor a = tensor({3.0f}).requires_grad_();
  Tensor b = a + a;  // micrograd's b = a + a: a.grad == 2
  b.backward();
  CHECK(a.grad().item() == 2.0f);
  Tensor x = tensor({1, 2, 3}).requires_grad_();
  sum(x * x + x).backward();  // d/dx (x² + x) = 2x + 1
  Z2H_CHECK_CLOSE(tensor({3, 5, 7}), x.grad(), 0.0, 0.0);
}

TEST_CASE("a leaf's grad accumulates over backward calls until zero_grad", "[autograd]") {
  Tensor w = tensor({1, 2}).requires_grad_();
  sum(w * 3.0f).backward();
  sum(w * 3.0f).backward();
  Z2H_CHECK_CLOSE(tensor({6, 6}), w.grad(), 0.0, 0.0);
  w.zero_grad();
  CHECK_FALSE(w.grad().defined());
  sum(w * 3.0f).backward();
  Z2H_CHECK_CLOSE(tensor({3, 3}), w.grad(), 0.0, 0.0);
}

TEST_CASE("intermediate grads are freed unless retain_grad is called", "[autograd]") {
  Tensor w = tensor({0.5f, -1.0f}).requires_grad_();
  Tensor h = tanh(w);
  Tensor k = tanh(w * 2.0f);
  h.retain_grad();
  sum(h + k).backward();
  REQUIRE(h.grad().defined());
  Z2H_CHECK_CLOSE(ones({2}), h.grad(), 0.0, 0.0);
  CHECK_FALSE(k.grad().defined());
  CHECK(h.op_name() == std::string("tanh"));
  CHECK_FALSE(h.is_leaf());
  CHECK(w.is_leaf());
}

TEST_CASE("no graph is recorded under NoGradGuard", "[autograd]") {
  Tensor w = tensor({1, 2}).requires_grad_();
  {
    NoGradGuard guard;
    Tensor y = w * 2.0f;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
    CHECK_THROWS_WITH(y.backward(ones({2})), Catch::Contains("does not require grad"));
  }
  CHECK(grad_enabled());
  CHECK((w * 2.0f).requires_grad());
}

TEST_CASE("detach shares the numbers but cuts the graph", "[autograd]") {
  Tensor w = tensor({1, 2}).requires_grad_();
  Tensor d = (w * 2.0f).detach();
  CHECK_FALSE(d.requires_grad());
  Tensor y = w * d;  // d is a constant here
  sum(y).backward();
  Z2H_CHECK_CLOSE(tensor({2, 4}), w.grad(), 0.0, 0.0);
  Tensor p = tensor({5, 6});
  Tensor q = p.detach();
  q.data()[0] = 7;
  CHECK(p.data()[0] == 7.0f);
}

TEST_CASE("view shares storage with its source; transpose copies", "[autograd][views]") {
  Tensor x = arange(6);
  Tensor v = x.view({2, 3});
  Tensor t = transpose(v, 0, 1);
  x.data()[1] = 100.0f;
  CHECK(v.at({0, 1}) == 100.0f);
  CHECK(t.at({1, 0}) == 1.0f);  // the copy kept the old value
  CHECK(x.view({-1, 2}).shape() == Shape{3, 2});
  CHECK_THROWS_WITH(x.view({4, -1}), Catch::Contains("invalid for a tensor of shape (6,)"));
}

TEST_CASE("[N] and [1,N] stay distinct under broadcasting", "[autograd][broadcast]") {
  Tensor row = tensor({1, 2, 3}, {1, 3}).requires_grad_();
  Tensor vec = tensor({1, 2, 3}).requires_grad_();
  Tensor x = ones({4, 3});
  sum((x + row) * (x + vec)).backward();
  CHECK(row.grad().shape() == Shape{1, 3});
  CHECK(vec.grad().shape() == Shape{3});
  Tensor col = tensor({1, 2, 3}, {3, 1});
  CHECK((col + vec).shape() == Shape{3, 3});  // (3,1) + (3) is an outer sum, as in PyTorch
  CHECK_THROWS_WITH(ones({4, 3}) + ones({4}), Catch::Contains("(4, 3) and (4,) cannot be broadcast"));
}

TEST_CASE("the lecture-2 normalisation: counts / counts.sum(1, keepdim=True) rows sum to 1", "[autograd][broadcast]") {
  Tensor N = tensor({1, 3, 2, 2, 0, 4}, {2, 3});
  Tensor P = N / sum(N, {1}, true);
  Z2H_CHECK_CLOSE(tensor({1.0f / 6, 3.0f / 6, 2.0f / 6, 2.0f / 6, 0, 4.0f / 6}, {2, 3}), P, 1e-7, 0.0);
}

TEST_CASE("item, at and errors name the problem", "[tensor]") {
  Tensor x = tensor({1, 2, 3, 4}, {2, 2});
  CHECK(x.at({1, 0}) == 3.0f);
  CHECK(x.at({-1, -1}) == 4.0f);
  CHECK_THROWS_WITH(x.item(), Catch::Contains("not exactly one element"));
  CHECK_THROWS_WITH(x.at({2, 0}), Catch::Contains("out of range"));
  CHECK_THROWS_WITH(matmul(x, ones({3, 1})), Catch::Contains("inner sizes differ"));
  CHECK_THROWS_WITH(sum(x, {2}), Catch::Contains("out of range for a 2-D tensor"));
  LongTensor bad({0, 5});
  CHECK_THROWS_WITH(x[bad], Catch::Contains("index 5 is out of bounds for dimension 0 with size 2"));
  CHECK_THROWS_WITH(x.backward(), Catch::Contains("single-element"));
  CHECK_THROWS_WITH(cross_entropy(ones({2, 3}), LongTensor({0, 3})), Catch::Contains("out of bounds for 3 classes"));
}

TEST_CASE("LongTensor indexing, slicing and cat", "[tensor][long]") {
  LongTensor X({1, 2, 3, 4, 5, 6}, {3, 2});
  LongTensor r = X[LongTensor({2, 0})];
  CHECK(r.shape == Shape{2, 2});
  CHECK(r.data == std::vector<int64_t>{5, 6, 1, 2});
  CHECK(X.slice(1, -1, 2).data == std::vector<int64_t>{2, 4, 6});
  CHECK(cat({X, X.slice(1, 0, 1)}, 1).data == std::vector<int64_t>{1, 2, 1, 3, 4, 3, 5, 6, 5});
  CHECK(X.view({-1}).shape == Shape{6});
}

TEST_CASE("factories: zeros, ones, full, arange, linspace as torch", "[tensor]") {
  CHECK(zeros({2, 3}).tolist() == std::vector<float>(6, 0.0f));
  CHECK(full({2}, 1.5f).tolist() == std::vector<float>{1.5f, 1.5f});
  CHECK(arange(3).tolist() == std::vector<float>{0, 1, 2});
  Tensor l = linspace(-3, 0, 1000);
  CHECK(l.data()[0] == -3.0f);
  CHECK(l.data()[999] == 0.0f);
  CHECK(l.data()[500] == Approx(-1.4984985f).epsilon(1e-6));
  CHECK(scalar_tensor(2.0f).ndim() == 0);
}

TEST_CASE("printing looks like torch", "[tensor]") {
  std::ostringstream os;
  os << tensor({1, 2, 3, 4}, {2, 2});
  CHECK(os.str() == "tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]])");
}

// ---- memory: what a graph keeps ------------------------------------------------------------------
namespace {
// An op whose backward reads its input's numbers without saving them: the mistake that must be loud.
void reads_unsaved_input(Node& o) {
  const float v = o.inputs[0].data()[0];
  o.inputs[0].node()->grad_data()[0] += v * o.grad.data()[0];
}
}  // namespace

TEST_CASE("a graph keeps the numbers its backward reads, and frees the rest during the forward", "[autograd][memory]") {
  Tensor x = tensor({1, 2, 3}).requires_grad_();
  Tensor a = x * 2.0f;  // the input of an add: no backward reads it
  Tensor t = tanh(x + 1.0f);  // tanh's backward reads its output
  Tensor y = sum((a + 1.0f) * t);
  Node* an = a.node();
  Node* tn = t.node();
  CHECK(an->storage != nullptr);
  a = Tensor();  // the user lets go: only a graph edge remains
  t = Tensor();
  CHECK(an->storage == nullptr);  // freed at once
  CHECK(tn->storage != nullptr);  // kept (tanh and mul saved it)
  CHECK(tn->inputs[0].node()->storage == nullptr);  // x + 1: tanh does not read its input
  // reading freed numbers is an error, never garbage (sum's input: sum's backward does not read it)
  CHECK_THROWS_AS(y.node()->inputs[0].data(), std::logic_error);
  y.backward();  // and the backward needs none of them
  for (int i = 0; i < 3; ++i) {
    const double xi = i + 1.0, th = std::tanh(xi + 1.0);
    CHECK(x.grad().data()[i] == Approx(2.0 * th + (2.0 * xi + 1.0) * (1.0 - th * th)).epsilon(1e-6));
  }
  // after backward the saved numbers are released too (PyTorch's retain_graph=False)
  CHECK(tn->storage == nullptr);
}

TEST_CASE("a backward that reads numbers its op did not save fails loudly", "[autograd][memory]") {
  Tensor x = tensor({3.0f}).requires_grad_();
  Tensor in = x * 2.0f;
  Tensor out = make_result(in.shape(), "reads_unsaved", {in}, reads_unsaved_input);
  out.data()[0] = in.data()[0];
  in = Tensor();
  CHECK_THROWS_WITH(out.backward(), Catch::Matchers::Contains("freed") && Catch::Matchers::Contains("save_for_backward"));
  // declared, the same op works
  Tensor in2 = x * 2.0f;
  Tensor out2 = make_result(in2.shape(), "reads_saved", {in2}, reads_unsaved_input);
  save_for_backward(out2, {in2});
  in2 = Tensor();
  x.zero_grad();
  out2.backward();
  CHECK(x.grad().item() == 12.0f);  // d(in) = dout · in = 6, then d(x) = 2 · 6
}

TEST_CASE("a second backward through a graph whose saved numbers were freed is an error", "[autograd][memory]") {
  Tensor x = tensor({0.5f, -1.0f}).requires_grad_();
  Tensor y = sum(tanh(x));
  y.backward();
  CHECK_THROWS_AS(y.backward(), std::logic_error);
}

// A large LayerNorm output (>= 2^21 elements) feeding a Linear is not kept for the Linear's backward:
// it is freed during the forward and recomputed, to the same bits, when that backward reads it.
TEST_CASE("a large LayerNorm output is recomputed for the next op's backward, to the same gradients", "[autograd][memory]") {
  const int64_t R = 1024, C = 4096, O = 8;  // R * C = 2^22
  Generator g(7);
  const Tensor x0 = randn({R, C}, g), w0 = randn({C}, g), b0 = randn({C}, g), W0 = randn({O, C}, g),
               bW0 = randn({O}, g), r = randn({R, O}, g);
  auto run = [&](bool keep_handle, Node** ln_node, bool* freed_in_forward) {
    Tensor x = x0.detach().requires_grad_(), w = w0.detach().requires_grad_(), b = b0.detach().requires_grad_(),
           W = W0.detach().requires_grad_(), bW = bW0.detach().requires_grad_();
    Tensor h = layer_norm(x, w, b);
    Tensor y = sum(linear(h, W, bW) * r);
    *ln_node = h.node();
    Tensor keep = keep_handle ? h : Tensor();
    h = Tensor();
    *freed_in_forward = (*ln_node)->storage == nullptr;
    y.backward();
    return std::vector<Tensor>{x.grad(), w.grad(), b.grad(), W.grad(), bW.grad()};
  };
  Node* kept_node = nullptr;
  Node* recomputed_node = nullptr;
  bool kept_freed = true, recomputed_freed = false;
  const auto kept = run(true, &kept_node, &kept_freed);
  const auto recomputed = run(false, &recomputed_node, &recomputed_freed);
  CHECK_FALSE(kept_freed);      // a handle outside the graph keeps the numbers: nothing to recompute
  CHECK(recomputed_freed);      // only the Linear's recipe was left: freed during the forward
  for (size_t i = 0; i < kept.size(); ++i) {
    INFO("gradient " << i << " (x, weight, bias, W, bW)");
    REQUIRE(kept[i].numel() == recomputed[i].numel());
    CHECK(std::equal(kept[i].data(), kept[i].data() + kept[i].numel(), recomputed[i].data()));
  }
  // a smaller one is kept as before (the default models never recompute)
  Tensor xs = randn({4, 8}, g).requires_grad_();
  Tensor hs = layer_norm(xs, randn({8}, g), randn({8}, g));
  CHECK(hs.node()->recompute == nullptr);
}

// A large ReLU output feeding a Linear is kept packed (its positive values and one bit per element)
// and unpacked for the Linear's backward: the same gradients as keeping it whole.
TEST_CASE("a large ReLU output is kept packed for the next op's backward, to the same gradients", "[autograd][memory]") {
  const int64_t R = 2048, C = 2048, O = 8;  // R * C = 2^22
  Generator g(11);
  const Tensor x0 = randn({R, C}, g), W0 = randn({O, C}, g), bW0 = randn({O}, g), r = randn({R, O}, g);
  auto run = [&](const Tensor& input, bool keep_handle, bool* packed, bool* freed_in_forward) {
    Tensor x = input.detach().requires_grad_(), W = W0.detach().requires_grad_(), bW = bW0.detach().requires_grad_();
    Tensor h = relu(x);
    Tensor y = sum(linear(h, W, bW) * r);
    Node* hn = h.node();
    *packed = hn->recompute != nullptr;
    Tensor keep = keep_handle ? h : Tensor();
    h = Tensor();
    *freed_in_forward = hn->storage == nullptr;
    y.backward();
    return std::vector<Tensor>{x.grad(), W.grad(), bW.grad()};
  };
  bool packed = false, freed = false;
  const auto kept = run(x0, true, &packed, &freed);
  CHECK(packed);
  CHECK_FALSE(freed);
  const auto unpacked = run(x0, false, &packed, &freed);
  CHECK(packed);
  CHECK(freed);
  for (size_t i = 0; i < kept.size(); ++i) {
    INFO("gradient " << i << " (x, W, bW)");
    CHECK(std::equal(kept[i].data(), kept[i].data() + kept[i].numel(), unpacked[i].data()));
  }
  // mostly positive (packing would save little): kept whole, as a small one is
  run(x0 + 4.0f, false, &packed, &freed);
  CHECK_FALSE(packed);
  CHECK_FALSE(freed);
}
