// Tests of stage 05-backprop-ninja against PyTorch (reference.py running the notebook's own code)
// and against common/'s autograd.
//
// The goldens in tests/goldens/<kernel>/ come from reference.py, once per OpenBLAS kernel set (each
// file records the command and the kernel, "openblas_core"): `./z2h goldens 05-backprop-ninja`
// (= OPENBLAS_NUM_THREADS=1 /usr/bin/python3 05-backprop-ninja/reference.py --goldens 05-backprop-ninja/tests/goldens;
// add OPENBLAS_CORETYPE=Haswell for Haswell's). Products sum in a kernel-specific order, so a test
// compares bit for bit where the machine's kernel has its own goldens, and within a stated tolerance
// against Haswell's elsewhere (it says so with WARN). names.txt must be present: `data/fetch names.txt`.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "chunked.hpp"
#include "ninja.hpp"

#include "common/tests/goldens_support.hpp"
#include "common/tensor/blas.hpp"
#include "common/tensor/kernels/kernels.hpp"
#include "common/rng/generator.hpp"
#include "common/data/names_dataset.hpp"
#include "common/tensor/ops.hpp"
#include "common/io/safetensors.hpp"
#include "common/data/sample_names.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace stage05;
using z2h::LongTensor;
using z2h::Shape;
using z2h::Tensor;

namespace {

constexpr uint64_t kSeed = 2147483647;

// The goldens of this machine's OpenBLAS kernel set (then compared bit for bit), or Haswell's
// (then within the tolerances below, with a WARN): common/tests/goldens_support.hpp.
const z2h::test::KernelGoldens& G() { return z2h::test::stage_goldens("05-backprop-ninja"); }

json golden_json(const std::string& stem) { return G().load(stem + ".json"); }

const z2h::SafetensorsFile& golden_tensors() {
  static const z2h::SafetensorsFile* f = nullptr;
  if (!f) {
    golden_json("ex1");  // FAILs with the fix if the kernel's goldens are missing
    f = new z2h::SafetensorsFile(z2h::load_safetensors(G().dir() / "ex1.safetensors"));
  }
  return *f;
}

// The lecture's data, loaded once. A missing names.txt fails every test that needs it, loudly.
struct Data {
  z2h::Vocab vocab{"."};
  LongTensor Xtr, Ytr, Xval, Yval;
};
const Data& names_data() {
  static const Data* data = nullptr;
  if (!data) {
    const fs::path path = fs::path(Z2H_DEFAULT_DATA_DIR) / "names.txt";
    if (!fs::exists(path)) FAIL("data file " << path.string() << " not found: run `data/fetch names.txt` (or ./z2h test) first");
    const auto words = z2h::read_lines(path.string());
    auto* d = new Data{z2h::Vocab::from_words(words, '.'), {}, {}, {}, {}};
    const auto split = z2h::split_words(words);
    const auto tr = z2h::build_contexts(split.train, 3, d->vocab), va = z2h::build_contexts(split.dev, 3, d->vocab);
    d->Xtr = LongTensor(tr.X, Shape{static_cast<int64_t>(tr.size()), 3});
    d->Ytr = LongTensor(tr.Y);
    d->Xval = LongTensor(va.X, Shape{static_cast<int64_t>(va.size()), 3});
    d->Yval = LongTensor(va.Y);
    data = d;
  }
  return *data;
}

// Exercise 1's set-up as cells 8-10 make it: the init and one minibatch from g, then the forward
// pass and autograd's backward, then the hand-written backward.
struct Ex1 {
  Params p;
  LongTensor Xb, Yb;
  Chunked f;
  ManualGrads d;
};
Ex1 exercise_1(uint64_t seed, int n_hidden = 64) {
  z2h::Generator g(seed);
  Ex1 e;
  e.p = init_params(g, n_hidden);
  const LongTensor ix = z2h::randint(0, names_data().Ytr.numel(), Shape{32}, g);
  e.Xb = names_data().Xtr[ix];
  e.Yb = names_data().Ytr[ix];
  e.f = chunked_forward_backward(e.p, e.Xb, e.Yb);
  e.d = manual_backward(e.p, e.f, e.Xb, e.Yb);
  return e;
}
const Ex1& default_ex1() {
  static const Ex1* e = new Ex1(exercise_1(kSeed));
  return *e;
}

// a equals b bit for bit on this kernel; elsewhere torch.allclose(a, b) (rtol 1e-5, atol 1e-8) with
// the exact kernels, and atol 1e-7 with the readable ones (a portable build), whose exp and double
// sums move the last digits of gradients that are nearly zero (dlogit_maxes is ~1e-9).
void check_tensor(const Tensor& a, const z2h::NamedArray& b, const std::string& what) {
  REQUIRE(a.numel() == b.numel());
  const double atol = z2h::kernels::exact_build ? 1e-8 : 1e-7;
  int64_t differ = 0;
  double worst = 0;
  bool close = true;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.data()[i], y = b.data[static_cast<size_t>(i)];
    differ += x != y;
    worst = std::max(worst, std::fabs(x - y));
    close = close && std::fabs(x - y) <= atol + 1e-5 * std::fabs(y);
  }
  INFO(what << ": " << differ << " of " << a.numel() << " numbers differ from PyTorch's, by at most " << worst
            << (G().exact() ? " (same kernel: must be 0)" : " (other kernel: allclose, atol " + std::to_string(atol) + ")"));
  if (G().exact()) CHECK(differ == 0);
  else CHECK(close);
}

const z2h::NamedArray& golden(const std::string& name, const Tensor& like) {
  return golden_tensors().get(name, like.shape().vec());
}

// The losses of a run: bit for bit on this kernel, else within tol; the worst step is named.
void check_losses(const std::vector<float>& actual, const json& expected, double tol, const std::string& what) {
  REQUIRE(actual.size() == expected.size());
  double worst = 0;
  size_t worst_i = 0, differ = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double d = std::fabs(actual[i] - expected[i].get<double>());
    differ += d != 0;
    if (d > worst) worst = d, worst_i = i;
  }
  INFO(what << ": " << differ << " of " << actual.size() << " losses differ from PyTorch's; the largest difference is "
            << worst << " at step " << worst_i << " (C++ " << actual[worst_i] << ", PyTorch "
            << expected[worst_i].get<double>() << ")");
  CHECK(worst <= tol);
  if (G().exact()) CHECK(differ == 0);
}

// Exercise 4's loop, as main.cpp runs it: `steps` steps from `seed`; returns the model and the losses.
struct Trained {
  Ninja m;
  std::vector<float> losses;
};
Trained train(uint64_t seed, int n_hidden, int64_t steps) {
  z2h::Generator g(seed);
  Trained t{make_ninja({.n_hidden = n_hidden}, g), {}};
  const Data& d = names_data();
  for (int64_t i = 0; i < steps; ++i) {
    const LongTensor ix = z2h::randint(0, d.Ytr.numel(), Shape{32}, g);
    t.losses.push_back(forward(t.m, d.Xtr[ix], d.Ytr[ix]));
    backward(t.m);
    update(t.m, i < 100000 ? 0.1 : 0.01);
  }
  return t;
}

void check_trained_run(const std::string& key, double tol) {
  const json run = golden_json("train")["runs"][key];
  Trained t = train(run["seed"].get<uint64_t>(), run["n_hidden"].get<int>(), run["steps"].get<int64_t>());
  CHECK(t.m.p.numel() == run["params"].get<int64_t>());
  check_losses(t.losses, run["losses"], tol, key);
  const Data& d = names_data();
  calibrate(t.m, d.Xtr);
  const float tr = split_loss(t.m, d.Xtr, d.Ytr), va = split_loss(t.m, d.Xval, d.Yval);
  INFO(key << ": train " << tr << " vs PyTorch " << run["train"].get<double>() << ", val " << va << " vs "
           << run["val"].get<double>());
  if (G().exact()) {
    CHECK(tr == run["train"].get<float>());
    CHECK(va == run["val"].get<float>());
  } else {
    CHECK(std::fabs(tr - run["train"].get<double>()) <= tol);
    CHECK(std::fabs(va - run["val"].get<double>()) <= tol);
  }
  z2h::Generator sg(run["seed"].get<uint64_t>() + 10);
  const auto names = z2h::sample_names([&](const LongTensor& x) { return logits_eval(t.m, x); }, 3, d.vocab, 20, sg);
  if (G().exact()) CHECK(names == run["samples"].get<std::vector<std::string>>());
}

}  // namespace

// ================================================================================================
// exercise 1: the chunked forward pass and every hand-written gradient
// ================================================================================================
TEST_CASE("exercise 1: 4137 parameters, and the loss at init is PyTorch's", "[ex1]") {
  const Ex1& e = default_ex1();
  const json g = golden_json("ex1");
  CHECK(e.p.numel() == 4137);
  INFO("C++ " << py_repr(e.f.loss.item()) << ", PyTorch " << g["loss"]);
  if (G().exact()) CHECK(e.f.loss.item() == g["loss"].get<float>());
  else CHECK(std::fabs(e.f.loss.item() - g["loss"].get<double>()) <= 1e-6);
}

TEST_CASE("exercise 1: the loss at init at other seeds is PyTorch's", "[ex1]") {
  const json g = golden_json("ex1");
  for (const auto& [seed, loss] : g["loss_at_seeds"].items()) {
    const float ours = exercise_1(std::stoull(seed)).f.loss.item();
    INFO("seed " << seed << ": C++ " << py_repr(ours) << ", PyTorch " << loss);
    if (G().exact()) CHECK(ours == loss.get<float>());
    else CHECK(std::fabs(ours - loss.get<double>()) <= 1e-6);
  }
}

TEST_CASE("exercise 1: each of the 26 hand-written gradients equals the notebook's manual gradient in PyTorch", "[ex1]") {
  const Ex1& e = default_ex1();
  for (const Compared& c : cmp_list(e.p, e.f, e.d)) check_tensor(c.manual, golden("manual." + c.name, c.manual), c.name);
}

TEST_CASE("exercise 1: common's autograd gives PyTorch's autograd gradients for all 26 tensors", "[ex1]") {
  const Ex1& e = default_ex1();
  for (const Compared& c : cmp_list(e.p, e.f, e.d)) {
    const Tensor g = c.tensor.grad();
    REQUIRE(g.defined());
    check_tensor(g, golden("autograd." + c.name, g), c.name + ".grad");
  }
}

TEST_CASE("exercise 1: the cmp table against autograd is PyTorch's cmp table", "[ex1]") {
  const Ex1& e = default_ex1();
  const json table = golden_json("ex1")["cmp"];
  const auto list = cmp_list(e.p, e.f, e.d);
  REQUIRE(list.size() == 26);
  REQUIRE(table.size() == 26);
  for (size_t i = 0; i < list.size(); ++i) {
    const Cmp c = cmp(list[i].name, list[i].manual, list[i].tensor.grad());
    INFO(cmp_line(c) << "\nPyTorch: " << table[i].dump());
    CHECK(c.name == table[i]["name"]);
    CHECK(c.approximate);  // every hand-written gradient is autograd's within allclose
    if (G().exact()) {
      CHECK(c.exact == table[i]["exact"].get<bool>());
      CHECK(c.maxdiff == table[i]["maxdiff"].get<double>());
    } else if (z2h::kernels::exact_build) {
      CHECK(c.maxdiff <= 1e-7);
    }  // readable kernels: c.approximate above (allclose, rtol 1e-5) — dprobs = -1/(n·probs) is large
  }
}

TEST_CASE("exercise 1: up to b2 the hand-written gradients are autograd's bit for bit", "[ex1]") {
  // Before tanh every rule is one float operation in the same order on both sides; from hpreact
  // on, autograd's tanh backward rounds 1 - h**2 inside one fused multiply-add (README, exercise 1).
  // With the exact kernels only: the readable ones compute a backward rule's sums and softmax in
  // their own order (a portable build), so there the two agree within allclose.
  const Ex1& e = default_ex1();
  for (const Compared& c : cmp_list(e.p, e.f, e.d)) {
    const Cmp r = cmp(c.name, c.manual, c.tensor.grad());
    INFO(cmp_line(r));
    CHECK(r.approximate);
    if (c.name == "hpreact") break;
    if (z2h::kernels::exact_build) CHECK(r.exact);
  }
}

TEST_CASE("cmp: exact, allclose's tolerance and maxdiff", "[ex1]") {
  const Tensor a = z2h::tensor({1.0f, 2.0f, 1e-3f}), same = z2h::tensor({1.0f, 2.0f, 1e-3f});
  const Cmp eq = cmp("a", a, same);
  CHECK(eq.exact);
  CHECK(eq.approximate);
  CHECK(eq.maxdiff == 0.0);
  const Cmp near = cmp("a", a, z2h::tensor({1.0f, 2.0f + 1e-5f, 1e-3f}));  // 1e-5 <= 1e-8 + 1e-5 * 2
  CHECK_FALSE(near.exact);
  CHECK(near.approximate);
  const Cmp far = cmp("a", a, z2h::tensor({1.0f, 2.0f, 1.1e-3f}));         // 1e-4 > 1e-8 + 1.1e-8
  CHECK_FALSE(far.approximate);
  CHECK(far.maxdiff == Approx(1e-4).epsilon(1e-3));
  CHECK(cmp_line(eq) == "a               | exact: True  | approximate: True  | maxdiff: 0.0");
}

TEST_CASE("py_repr prints a float as Python's repr does", "[ex1]") {
  CHECK(py_repr(0.0) == "0.0");
  CHECK(py_repr(static_cast<double>(4.656612873077393e-10f)) == "4.656612873077393e-10");
  CHECK(py_repr(static_cast<double>(3.5571467876434326f)) == "3.5571467876434326");
  CHECK(py_repr(0.0001) == "0.0001");
  CHECK(py_repr(1e-05) == "1e-05");
  CHECK(py_repr(12297.0) == "12297.0");
  CHECK(py_repr(-2.384185791015625e-07) == "-2.384185791015625e-07");
}

// ================================================================================================
// exercises 2 and 3: the fused backward passes
// ================================================================================================
TEST_CASE("exercise 2: dlogits in one expression is PyTorch's and autograd's within 1e-7", "[ex2]") {
  const Ex1& e = default_ex1();
  const json g = golden_json("ex1");
  const Tensor dlogits = cross_entropy_backward_fused(e.f.logits, e.Yb);
  check_tensor(dlogits, golden("ex2.dlogits", dlogits), "ex2 dlogits");
  const Cmp c = cmp("logits", dlogits, e.f.logits.grad());
  INFO(cmp_line(c) << "\nPyTorch: " << g["ex2_cmp"].dump());
  CHECK(c.approximate);
  CHECK(c.maxdiff <= 1e-7);
  if (G().exact()) CHECK(c.maxdiff == g["ex2_cmp"]["maxdiff"].get<double>());
  // each row of dlogits sums to ~0: the softmax sums to 1, the one-hot takes 1 away
  float row0 = 0;
  for (int64_t j = 0; j < 27; ++j) row0 += dlogits.at({0, j});
  CHECK(std::fabs(row0) < 1e-7);
  CHECK(z2h::sum(dlogits[0]).item() == Approx(g["dlogits0_sum"].get<double>()).margin(1e-9));
  // dlogits[0] * n is the softmax row with 1 taken away at the label
  const int64_t y0 = e.Yb.data[0];
  const Tensor p0 = z2h::softmax(e.f.logits, 1)[0];
  for (int64_t j = 0; j < 27; ++j) {
    CHECK(dlogits.at({0, j}) * 32 == Approx(p0.at({j}) - (j == y0 ? 1.0f : 0.0f)).margin(1e-6));
    CHECK(p0.at({j}) == Approx(g["softmax0"][static_cast<size_t>(j)].get<double>()).margin(1e-7));
  }
}

TEST_CASE("exercise 3: the batch-norm forward in one line and backward in one formula", "[ex3]") {
  const Ex1& e = default_ex1();
  const json g = golden_json("ex1");
  const Tensor hpreact_fast = batchnorm_forward_fused(e.f.hprebn, e.p.bngain, e.p.bnbias);
  float fwd = 0;
  for (int64_t i = 0; i < hpreact_fast.numel(); ++i)
    fwd = std::max(fwd, std::fabs(hpreact_fast.data()[i] - e.f.hpreact.data()[i]));
  INFO("forward max diff: C++ " << fwd << ", PyTorch " << g["bn_forward_maxdiff"]);
  CHECK(fwd <= 1e-5);
  const Tensor dhprebn = batchnorm_backward_fused(e.f.hpreact.grad(), e.f.bnraw, e.f.bnvar_inv, e.p.bngain);
  // PyTorch's golden was made from the notebook's own dhpreact, which equals ours (exercise 1)
  const Tensor dhprebn_manual = batchnorm_backward_fused(e.d.dhpreact, e.f.bnraw, e.f.bnvar_inv, e.p.bngain);
  check_tensor(dhprebn_manual, golden("ex3.dhprebn", dhprebn_manual), "ex3 dhprebn");
  const Cmp c = cmp("hprebn", dhprebn, e.f.hprebn.grad());
  INFO(cmp_line(c) << "\nPyTorch: " << g["ex3_cmp"].dump());
  CHECK(c.approximate);
  CHECK(c.maxdiff <= 1e-7);
  const Cmp m = cmp("hprebn", dhprebn_manual, e.f.hprebn.grad());
  CHECK(m.maxdiff <= 1e-7);
  if (G().exact()) CHECK(m.maxdiff == g["ex3_cmp"]["maxdiff"].get<double>());
}

// ================================================================================================
// exercise 4: the training step on raw buffers
// ================================================================================================
TEST_CASE("exercise 4: each raw-buffer kernel computes its exercise-1 to -3 tensor expression, bit for bit", "[ex4]") {
  // One step of the fast path, then every backward line again as the readable tensor expression
  // of exercises 1-3 (chunked.cpp) on the same numbers: the two must agree to the last bit.
  using namespace z2h;
  Generator g(kSeed);
  Ninja m = make_ninja({.n_hidden = 64}, g);
  const Data& d = names_data();
  const LongTensor ix = randint(0, d.Ytr.numel(), Shape{32}, g);
  const LongTensor X = d.Xtr[ix], Y = d.Ytr[ix];
  const float loss = forward(m, X, Y);
  backward(m);
  NoGradGuard no_grad;
  // A product with a transposed operand: the kernel passes a transpose flag to sgemm (as ATen does
  // for `dout @ W.T`), the tensor expression copies the transpose first. Haswell's and Prescott's
  // sgemm give the same bits either way; other kernels (SkylakeX) need not.
  auto check_product = [](const Cmp& c) {
    INFO(cmp_line(c));
    if (G().exact()) CHECK(c.exact);
    else CHECK(c.approximate);
  };
  // The raw kernels round as PyTorch's CPU kernels do, as do the exact kernels under the tensor
  // expressions; the readable kernels (a portable build) round pow, mean and var their own way.
  auto check_same = [](const Cmp& c) {
    INFO(cmp_line(c));
    if (z2h::kernels::exact_build) CHECK(c.exact);
    else CHECK(c.approximate);
  };
  CHECK(loss == cross_entropy(m.logits, Y).item());
  check_same(cmp("emb", m.emb, m.p.C[X].view(Shape{32, -1})));
  check_same(cmp("hprebn", m.hprebn, matmul(m.emb, m.p.W1) + m.p.b1));
  check_same(cmp("h", m.h, tanh(m.hpreact)));
  check_same(cmp("logits", m.logits, matmul(m.h, m.p.W2) + m.p.b2));
  check_same(cmp("dlogits", m.dlogits, cross_entropy_backward_fused(m.logits, Y)));
  check_product(cmp("dh", m.dh, matmul(m.dlogits, transpose(m.p.W2, 0, 1))));
  check_product(cmp("dW2", m.dW2, matmul(transpose(m.h, 0, 1), m.dlogits)));
  check_same(cmp("db2", m.db2, sum(m.dlogits, {0})));
  check_same(cmp("dhpreact", m.dhpreact, (1.0f - pow(m.h, 2.0f)) * m.dh));
  check_same(cmp("dbngain", m.dbngain, sum(m.bnraw * m.dhpreact, {0}, true)));
  check_same(cmp("dbnbias", m.dbnbias, sum(m.dhpreact, {0}, true)));
  check_same(cmp("dhprebn", m.dhprebn, batchnorm_backward_fused(m.dhpreact, m.bnraw, m.bnvar_inv, m.p.bngain)));
  check_product(cmp("demb", m.demb, matmul(m.dhprebn, transpose(m.p.W1, 0, 1))));
  check_product(cmp("dW1", m.dW1, matmul(transpose(m.emb, 0, 1), m.dhprebn)));
  check_same(cmp("db1", m.db1, sum(m.dhprebn, {0})));
  // the batch statistics: the notebook's cell-22 lines on the same pre-activations
  const Tensor bnvar_inv = pow(var(m.hprebn, {0}, true, true) + 1e-5f, -0.5f);
  check_same(cmp("bnvar_inv", m.bnvar_inv, bnvar_inv));
  check_same(cmp("bnraw", m.bnraw, (m.hprebn - mean(m.hprebn, {0}, true)) * bnvar_inv));
}

TEST_CASE("exercise 4: the hand-written gradients agree with autograd's at several steps", "[ex4]") {
  z2h::Generator g(kSeed);
  Ninja m = make_ninja({}, g);
  const Data& d = names_data();
  for (int64_t i = 0; i < 300; ++i) {
    const LongTensor ix = z2h::randint(0, d.Ytr.numel(), Shape{32}, g);
    const LongTensor X = d.Xtr[ix], Y = d.Ytr[ix];
    forward(m, X, Y);
    backward(m);
    if (i % 100 == 0) {
      const std::vector<double> diff = autograd_check(m, X, Y);
      for (size_t k = 0; k < diff.size(); ++k) {
        INFO("step " << i << ", parameter " << k << ": maxdiff " << diff[k]);
        CHECK(diff[k] <= 1e-7);
      }
    }
    update(m, 0.1);
  }
}

TEST_CASE("exercise 4: the default run's first 1000 losses are PyTorch's, then calibration, train/val and samples", "[ex4]") {
  check_trained_run("default_1000", 1e-4);
}

TEST_CASE("exercise 4: seed 42, n_hidden 64, 2000 steps match an independent PyTorch run", "[ex4]") {
  check_trained_run("seed42_h64_2000", 1e-4);
}

TEST_CASE("exercise 4 records no autograd graph", "[ex4]") {
  z2h::Generator g(kSeed);
  Ninja m = make_ninja({}, g);
  for (const Tensor& p : m.p.list()) CHECK_FALSE(p.requires_grad());
  const Data& d = names_data();
  const LongTensor ix = z2h::randint(0, d.Ytr.numel(), Shape{32}, g);
  forward(m, d.Xtr[ix], d.Ytr[ix]);
  backward(m);
  for (const Tensor& p : m.p.list()) CHECK_FALSE(p.grad().defined());
  for (const Tensor& t : m.grads()) CHECK(std::string(t.op_name()) == "leaf");
}

TEST_CASE("embedding_backward adds every row that used a character (a repeated index gets both)", "[ex4]") {
  // X = [[1, 1], [0, 1]] with E = 2: row 1 of C was used three times, row 0 once, row 2 never
  const std::vector<int64_t> X = {1, 1, 0, 1};
  const std::vector<float> dout = {1, 2, 10, 20, 100, 200, 1000, 2000};  // (B=2, T*E=4)
  std::vector<float> dC(6, -1.0f);
  embedding_backward(dC.data(), dout.data(), X.data(), 2, 2, 2, 3);
  CHECK(dC == std::vector<float>{100, 200, 1011, 2022, 0, 0});
}

TEST_CASE("batchnorm_backward is the finite-difference gradient of sum(w * batchnorm(x))", "[ex4]") {
  // An independent check of exercise 3's formula, in double-precision central differences.
  z2h::Generator g(7);
  const int64_t B = 5;
  const int H = 3;
  const Tensor x = z2h::randn(Shape{B, H}, g), w = z2h::randn(Shape{B, H}, g);
  const Tensor gain = z2h::randn(Shape{H}, g), bias = z2h::randn(Shape{H}, g);
  auto objective = [&](const std::vector<double>& xs) {  // Σ w * (gain * (x - mean) / sqrt(var + 1e-5) + bias)
    double total = 0;
    for (int j = 0; j < H; ++j) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < B; ++i) mean += xs[static_cast<size_t>(i * H + j)] / B;
      for (int64_t i = 0; i < B; ++i) var += std::pow(xs[static_cast<size_t>(i * H + j)] - mean, 2) / (B - 1);
      for (int64_t i = 0; i < B; ++i)
        total += w.data()[i * H + j] *
                 (gain.data()[j] * (xs[static_cast<size_t>(i * H + j)] - mean) / std::sqrt(var + 1e-5) + bias.data()[j]);
    }
    return total;
  };
  std::vector<float> out(B * H), bnraw(B * H), bnvar_inv(H), dx(B * H), dgain(H), dbias(H);
  batchnorm_forward(out.data(), bnraw.data(), bnvar_inv.data(), x.data(), gain.data(), bias.data(), B, H);
  batchnorm_backward(dx.data(), dgain.data(), dbias.data(), w.data(), bnraw.data(), bnvar_inv.data(), gain.data(), B, H);
  std::vector<double> xs(x.data(), x.data() + B * H);
  for (size_t k = 0; k < xs.size(); ++k) {
    std::vector<double> up = xs, down = xs;
    up[k] += 1e-5, down[k] -= 1e-5;
    const double fd = (objective(up) - objective(down)) / 2e-5;
    INFO("x[" << k << "]: backward " << dx[k] << ", finite difference " << fd);
    CHECK(dx[k] == Approx(fd).margin(1e-4));
  }
}
