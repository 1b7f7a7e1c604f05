#pragma once
// micrograd's nn.py: a neuron, a layer of neurons, a multi-layer perceptron, all made of Values.
//
//   z2h::PyRandom rng(1337);                                 // Python's random.seed(1337)
//   MLP model = MLP::micrograd(2, {16, 16, 1}, rng);         // demo.ipynb's net: 337 parameters
//   Value score = model({Value(1.0), Value(-2.0)})[0];
//
// Two flavours, because the course has two:
//   * the lecture notebook's (MLP::lecture): tanh in every neuron, the last layer included, and a
//     bias drawn from U(-1, 1) right after the neuron's weights;
//   * the micrograd repo's (MLP::micrograd): ReLU, a linear last layer, and biases that start at 0
//     and draw nothing.
// Weights are drawn with Python's random.uniform(-1, 1), layer by layer, neuron by neuron, weight by
// weight, so a seed gives the very numbers Python's random gives.
#include <string>
#include <vector>

#include "common/rng/py_random.hpp"
#include "engine.hpp"

namespace micrograd {

enum class Activation { Tanh, ReLU, Linear };

class Neuron {
 public:
  // w ~ U(-1, 1); b ~ U(-1, 1) (drawn after w) when random_bias, else Value(0).
  Neuron(int nin, Activation act, bool random_bias, z2h::PyRandom& rng);

  // act(b + w0*x0 + w1*x1 + ...), summed left to right from b, as Python's sum(..., self.b).
  Value operator()(const std::vector<Value>& x) const;
  std::vector<Value> parameters() const;  // w..., then b
  std::string repr() const;               // "TanhNeuron(3)", "ReLUNeuron(2)", "LinearNeuron(16)"

  std::vector<Value> w;
  Value b;
  Activation act;
};

class Layer {
 public:
  Layer(int nin, int nout, Activation act, bool random_bias, z2h::PyRandom& rng);
  std::vector<Value> operator()(const std::vector<Value>& x) const;  // one output per neuron
  std::vector<Value> parameters() const;

  std::vector<Neuron> neurons;
};

class MLP {
 public:
  // The lecture's MLP(nin, nouts): tanh everywhere, random biases.
  static MLP lecture(int nin, const std::vector<int>& nouts, z2h::PyRandom& rng);
  // micrograd's nn.MLP(nin, nouts): ReLU layers, the last one linear, zero biases.
  static MLP micrograd(int nin, const std::vector<int>& nouts, z2h::PyRandom& rng);

  // The outputs of the last layer (one Value for MLP(.., [.., 1]): take [0]).
  std::vector<Value> operator()(std::vector<Value> x) const;
  std::vector<Value> parameters() const;  // layer by layer, neuron by neuron: w..., b
  void zero_grad();                       // every parameter's grad = 0 (micrograd's Module.zero_grad)
  std::string repr() const;               // "MLP of [Layer of [ReLUNeuron(2), ...], ...]"

  std::vector<Layer> layers;
};

}  // namespace micrograd
