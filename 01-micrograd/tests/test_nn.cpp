// Neuron, Layer, MLP: parameter counts, Python's random draws, the two flavours, zero_grad.
#include <vector>

#include "common/rng/py_random.hpp"
#include "nn.hpp"
#include "support.hpp"

using namespace micrograd;

TEST_CASE("demo.ipynb's MLP(2, [16, 16, 1]) has 337 parameters, first weights as Python's random.seed(1337)",
          "[nn]") {
  z2h::PyRandom rng(1337);
  MLP model = MLP::micrograd(2, {16, 16, 1}, rng);
  std::vector<Value> p = model.parameters();
  REQUIRE(p.size() == 337);
  // verified with Python: random.seed(1337); random.uniform(-1, 1), random.uniform(-1, 1)
  CHECK(p[0].data() == 0.23550571390294128);
  CHECK(p[1].data() == 0.06653114721000164);
  CHECK(p[2].data() == 0.0);  // the first neuron's bias: Value(0), no draw
  CHECK(model.layers[0].neurons[0].repr() == "ReLUNeuron(2)");
  CHECK(model.layers[2].neurons[0].repr() == "LinearNeuron(16)");
}

TEST_CASE("micrograd's trace_graph neuron: relu(w.x + b) = 0.102443419482938, w grads [1, -2]", "[nn]") {
  z2h::PyRandom rng(1337);
  Neuron n(2, Activation::ReLU, /*random_bias=*/false, rng);
  Value y = n({Value(1.0), Value(-2.0)});
  y.backward();
  CHECK(y.data() == Approx(0.102443419482938).epsilon(1e-14));
  CHECK(n.w[0].grad() == 1.0);
  CHECK(n.w[1].grad() == -2.0);
  CHECK(n.b.grad() == 1.0);
}

TEST_CASE("the lecture's MLP(3, [4, 4, 1]) has 41 parameters, tanh everywhere, each bias drawn after its weights",
          "[nn]") {
  z2h::PyRandom rng(7), replay(7);
  MLP n = MLP::lecture(3, {4, 4, 1}, rng);
  std::vector<Value> p = n.parameters();
  REQUIRE(p.size() == 41);
  for (const Value& v : p) CHECK(v.data() == replay.uniform(-1, 1));  // w0 w1 w2 b, w0 w1 w2 b, ...
  Value out = n({2.0, 3.0, -1.0})[0];
  CHECK(out.op() == std::string("tanh"));
  CHECK(n.repr().rfind("MLP of [Layer of [TanhNeuron(3), ", 0) == 0);
}

TEST_CASE("a layer gives one output per neuron; a neuron sums b + w0*x0 + w1*x1 left to right", "[nn]") {
  z2h::PyRandom rng(3);
  Layer layer(2, 5, Activation::Linear, true, rng);
  std::vector<Value> x = {Value(0.5), Value(-1.5)};
  std::vector<Value> out = layer(x);
  REQUIRE(out.size() == 5);
  const Neuron& n = layer.neurons[4];
  CHECK(out[4].data() == (n.b.data() + n.w[0].data() * 0.5) + n.w[1].data() * -1.5);
}

TEST_CASE("zero_grad sets every parameter's grad to 0", "[nn]") {
  z2h::PyRandom rng(1);
  MLP model = MLP::micrograd(2, {3, 1}, rng);
  model({Value(1.0), Value(2.0)})[0].backward();
  for (Value& p : model.parameters()) p.grad() += 1.0;  // whatever backward left, plus something
  model.zero_grad();
  for (const Value& p : model.parameters()) CHECK(p.grad() == 0.0);
}
