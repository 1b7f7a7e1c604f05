// Modules and optimisers against PyTorch 1.13.1 (goldens/tensor_nn.json, tensor_optim.json, made by
// make_tensor_goldens.py with the lecture classes of 04's and 06's reference.py, on OpenBLAS's Haswell
// kernel set: compared within tolerances, so they hold on every kernel set).
#include "common/rng/generator.hpp"
#include "common/nn/nn.hpp"
#include "common/nn/optim.hpp"
#include "common/tests/tensor_test_support.hpp"

using namespace z2h;
using z2h::test::json;
using z2h::test::to_long;
using z2h::test::to_tensor;

namespace {
const json& nn_golden() {
  static const json g = z2h::test::load_golden("tensor_nn.json");
  return g;
}
const json& optim_golden() {
  static const json g = z2h::test::load_golden("tensor_optim.json");
  return g;
}
}  // namespace

TEST_CASE("lecture-4 Linear layers draw the same weights as the lecture, bit for bit", "[nn][init]") {
  const json& g = nn_golden()["lecture_init"];
  Generator gen(2147483647);
  Tensor C = randn({27, 10}, gen);
  nn::Linear l1(30, 200, true, gen);
  nn::Linear l2(200, 27, false, gen);
  Z2H_CHECK_CLOSE(to_tensor(g["C"]), C, 0.0, 0.0);
  Z2H_CHECK_CLOSE(to_tensor(g["W1"]), l1.weight, 0.0, 0.0);
  Z2H_CHECK_CLOSE(to_tensor(g["W2"]), l2.weight, 0.0, 0.0);
  Z2H_CHECK_CLOSE(zeros({200}), l1.bias, 0.0, 0.0);
  CHECK_FALSE(l2.bias.defined());
  CHECK(nn::count_parameters(l1.parameters()) == 30 * 200 + 200);
}

TEST_CASE("Embedding and torch.nn.Linear defaults draw as torch.manual_seed does", "[nn][init]") {
  const json& g = nn_golden()["defaults_init"];
  manual_seed(42);
  nn::Embedding e(27, 24);
  Z2H_CHECK_CLOSE(to_tensor(g["embedding_seed42"]), e.weight, 0.0, 0.0);
  manual_seed(1337);
  nn::TorchLinear tl(32, 16);
  nn::TorchLinear tl2(16, 4, false);
  nn::Embedding te(65, 8);
  Z2H_CHECK_CLOSE(to_tensor(g["torch_linear_w"]), tl.weight, 0.0, 0.0);
  Z2H_CHECK_CLOSE(to_tensor(g["torch_linear_b"]), tl.bias, 0.0, 0.0);
  Z2H_CHECK_CLOSE(to_tensor(g["torch_linear2_w"]), tl2.weight, 0.0, 0.0);
  Z2H_CHECK_CLOSE(to_tensor(g["torch_embedding_w"]), te.weight, 0.0, 0.0);
}

TEST_CASE("BatchNorm1d trains on batch statistics, tracks running ones, and evaluates with them", "[nn][batchnorm]") {
  for (const char* name : {"batchnorm_2d", "batchnorm_3d"}) {
    SECTION(name) {
      const json& g = nn_golden()[name];
      nn::BatchNorm1d bn(5);
      bn.gamma.copy_(to_tensor(g["gamma"]));
      bn.beta.copy_(to_tensor(g["beta"]));
      Tensor x1 = to_tensor(g["x1"]).requires_grad_();
      Tensor out1 = bn(x1);
      Z2H_CHECK_CLOSE(to_tensor(g["out1"]), out1, 2e-6, 2e-6);
      sum(out1 * to_tensor(g["w"])).backward();
      Z2H_CHECK_CLOSE(to_tensor(g["grad_x1"]), x1.grad(), 1e-5, 1e-5);
      Z2H_CHECK_CLOSE(to_tensor(g["grad_gamma"]), bn.gamma.grad(), 1e-5, 1e-5);
      Z2H_CHECK_CLOSE(to_tensor(g["grad_beta"]), bn.beta.grad(), 1e-5, 1e-5);
      Tensor out2 = bn(to_tensor(g["x2"]));
      Z2H_CHECK_CLOSE(to_tensor(g["out2"]), out2, 2e-6, 2e-6);
      Z2H_CHECK_CLOSE(to_tensor(g["running_mean"]), bn.running_mean, 1e-6, 1e-6);
      Z2H_CHECK_CLOSE(to_tensor(g["running_var"]), bn.running_var, 1e-6, 1e-6);
      bn.eval();
      Z2H_CHECK_CLOSE(to_tensor(g["out3_eval"]), bn(to_tensor(g["x3"])), 2e-6, 2e-6);
    }
  }
}

TEST_CASE("a lecture-6 model in miniature matches PyTorch: init, loss and every gradient", "[nn][sequential]") {
  const json& g = nn_golden()["wavenet_mini"];
  manual_seed(42);
  nn::Sequential model({
      nn::Embedding(27, 4),
      nn::FlattenConsecutive(2), nn::Linear(8, 6, false), nn::BatchNorm1d(6), nn::Tanh(),
      nn::FlattenConsecutive(2), nn::Linear(12, 6, false), nn::BatchNorm1d(6), nn::Tanh(),
      nn::Linear(6, 27),
  });
  model.at<nn::Linear>(-1).weight.mul_(0.1f);
  std::vector<Tensor> params = model.parameters();
  REQUIRE(params.size() == g["params"].size());
  for (size_t i = 0; i < params.size(); ++i) {
    INFO("parameter " << i << " (" << model.named_parameters()[i].first << ")");
    Z2H_CHECK_CLOSE(to_tensor(g["params"][i]), params[i], 0.0, 0.0);
  }
  // The batch continues the same global stream after the init.
  LongTensor X = randint(0, 27, {5, 4}), Y = randint(0, 27, {5});
  CHECK(X.data == to_long(g["X"]).data);
  CHECK(Y.data == to_long(g["Y"]).data);
  Tensor logits = model(X);
  Z2H_CHECK_CLOSE(to_tensor(g["logits"]), logits, 2e-6, 2e-6);
  Tensor loss = cross_entropy(logits, Y);
  CHECK(loss.item() == Approx(g["loss"].get<float>()).epsilon(1e-6));
  loss.backward();
  for (size_t i = 0; i < params.size(); ++i) {
    INFO("gradient of parameter " << i << " (" << model.named_parameters()[i].first << ")");
    Z2H_CHECK_CLOSE(to_tensor(g["grads"][i]), params[i].grad(), 1e-5, 1e-4);
  }
  CHECK(model.named_parameters()[0].first == "0.weight");
  CHECK(model.named_buffers()[0].first == "3.running_mean");
  model.eval();
  CHECK_FALSE(model.at<nn::BatchNorm1d>(3).training);
  CHECK_THROWS_WITH(model.at<nn::Tanh>(0), Catch::Contains("layer 0 is a Embedding"));
}

TEST_CASE("torch.nn LayerNorm, Linear and ReLU on a 3-D input match PyTorch", "[nn][torch]") {
  const json& g = nn_golden()["torch_modules"];
  manual_seed(7);
  nn::LayerNorm ln(8);
  nn::TorchLinear lin(8, 4);
  nn::ReLU act;
  nn::Dropout drop(0.2f);
  drop.eval();
  Tensor x = to_tensor(g["x"]).requires_grad_();
  Tensor out = drop(act(lin(ln(x))));
  Z2H_CHECK_CLOSE(to_tensor(g["out"]), out, 2e-6, 2e-6);
  sum(out * to_tensor(g["w"])).backward();
  Z2H_CHECK_CLOSE(to_tensor(g["grad_x"]), x.grad(), 1e-5, 1e-5);
  Z2H_CHECK_CLOSE(to_tensor(g["grad_lin_w"]), lin.weight.grad(), 1e-5, 1e-5);
  Z2H_CHECK_CLOSE(to_tensor(g["grad_lin_b"]), lin.bias.grad(), 1e-5, 1e-5);
  Z2H_CHECK_CLOSE(to_tensor(g["grad_ln_w"]), ln.weight.grad(), 1e-5, 1e-5);
  Z2H_CHECK_CLOSE(to_tensor(g["grad_ln_b"]), ln.bias.grad(), 1e-5, 1e-5);
}

namespace {
// Ten steps of loss = mean((X @ W + b - Y)²) with the given optimiser step, compared per step.
template <class Step>
void check_trajectory(const json& traj, Step&& step_fn, Tensor& W, Tensor& b, double tol) {
  const json& g = optim_golden();
  Tensor X = to_tensor(g["X"]), Y = to_tensor(g["Y"]);
  for (size_t i = 0; i < traj.size(); ++i) {
    Tensor loss = mean(pow(matmul(X, W) + b - Y, 2.0f));
    INFO("step " << i);
    CHECK(loss.item() == Approx(traj[i]["loss"].get<float>()).epsilon(1e-5));
    step_fn(loss, static_cast<int64_t>(i));
    Z2H_CHECK_CLOSE(to_tensor(traj[i]["W"]), W, tol, tol);
    Z2H_CHECK_CLOSE(to_tensor(traj[i]["b"]), b, tol, tol);
  }
}
}  // namespace

TEST_CASE("AdamW matches torch.optim.AdamW over 10 steps", "[optim][adamw]") {
  const json& g = optim_golden();
  for (const char* name : {"adamw", "adamw_wd"}) {
    SECTION(name) {
      Tensor W = to_tensor(g["W0"]).requires_grad_(), b = to_tensor(g["b0"]).requires_grad_();
      optim::AdamW opt = std::string(name) == "adamw" ? optim::AdamW({W, b}, 1e-2)
                                                      : optim::AdamW({W, b}, 3e-2, 0.8, 0.99, 1e-6, 0.1);
      check_trajectory(g[name], [&](Tensor& loss, int64_t) {
        opt.zero_grad();
        loss.backward();
        opt.step();
      }, W, b, 2e-6);
      CHECK(opt.step_count == 10);
    }
  }
}

TEST_CASE("SGD with a learning-rate schedule is the lectures' p.data += -lr * p.grad", "[optim][sgd]") {
  const json& g = optim_golden();
  Tensor W = to_tensor(g["W0"]).requires_grad_(), b = to_tensor(g["b0"]).requires_grad_();
  optim::SGD opt({W, b}, [](int64_t i) { return i < 5 ? 0.1 : 0.01; });
  CHECK(opt.current_lr() == 0.1);
  check_trajectory(g["sgd_schedule"], [&](Tensor& loss, int64_t) {
    opt.zero_grad();
    loss.backward();
    opt.step();
  }, W, b, 1e-6);
  CHECK(opt.current_lr() == 0.01);
}
