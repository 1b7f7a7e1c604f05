// micrograd's nn.py in C++ (see nn.hpp for the two flavours).
#include "nn.hpp"

namespace micrograd {

Neuron::Neuron(int nin, Activation act, bool random_bias, z2h::PyRandom& rng) : act(act) {
  for (int i = 0; i < nin; ++i) w.emplace_back(rng.uniform(-1, 1));
  b = Value(random_bias ? rng.uniform(-1, 1) : 0.0);
}

Value Neuron::operator()(const std::vector<Value>& x) const {
  // act = sum((wi*xi for wi, xi in zip(self.w, x)), self.b): b + w0*x0 + w1*x1 + ..., left to right.
  // zip stops at the shorter of w and x, as in Python.
  Value act_in = b;
  for (size_t i = 0; i < w.size() && i < x.size(); ++i) act_in = act_in + w[i] * x[i];
  switch (act) {
    case Activation::Tanh: return act_in.tanh();
    case Activation::ReLU: return act_in.relu();
    case Activation::Linear: break;
  }
  return act_in;
}

std::vector<Value> Neuron::parameters() const {
  std::vector<Value> p;
  p.reserve(w.size() + 1);
  p.insert(p.end(), w.begin(), w.end());
  p.push_back(b);
  return p;
}

std::string Neuron::repr() const {
  const char* kind = act == Activation::Tanh ? "Tanh" : act == Activation::ReLU ? "ReLU" : "Linear";
  return std::string(kind) + "Neuron(" + std::to_string(w.size()) + ")";
}

Layer::Layer(int nin, int nout, Activation act, bool random_bias, z2h::PyRandom& rng) {
  neurons.reserve(static_cast<size_t>(nout));
  for (int i = 0; i < nout; ++i) neurons.emplace_back(nin, act, random_bias, rng);
}

std::vector<Value> Layer::operator()(const std::vector<Value>& x) const {
  std::vector<Value> out;
  out.reserve(neurons.size());
  for (const Neuron& n : neurons) out.push_back(n(x));
  return out;
}

std::vector<Value> Layer::parameters() const {
  std::vector<Value> p;
  for (const Neuron& n : neurons) {
    p.insert(p.end(), n.w.begin(), n.w.end());
    p.push_back(n.b);
  }
  return p;
}

MLP MLP::lecture(int nin, const std::vector<int>& nouts, z2h::PyRandom& rng) {
  MLP m;
  int in = nin;
  for (int nout : nouts) {
    m.layers.emplace_back(in, nout, Activation::Tanh, /*random_bias=*/true, rng);
    in = nout;
  }
  return m;
}

MLP MLP::micrograd(int nin, const std::vector<int>& nouts, z2h::PyRandom& rng) {
  MLP m;
  int in = nin;
  for (size_t i = 0; i < nouts.size(); ++i) {
    const bool last = i + 1 == nouts.size();
    m.layers.emplace_back(in, nouts[i], last ? Activation::Linear : Activation::ReLU, /*random_bias=*/false, rng);
    in = nouts[i];
  }
  return m;
}

std::vector<Value> MLP::operator()(std::vector<Value> x) const {
  for (const Layer& layer : layers) x = layer(x);
  return x;
}

std::vector<Value> MLP::parameters() const {
  std::vector<Value> p;
  for (const Layer& layer : layers) {
    for (const Neuron& n : layer.neurons) {
      p.insert(p.end(), n.w.begin(), n.w.end());
      p.push_back(n.b);
    }
  }
  return p;
}

void MLP::zero_grad() {
  for (Value& p : parameters()) p.grad() = 0.0;
}

std::string MLP::repr() const {
  std::string s = "MLP of [";
  for (size_t l = 0; l < layers.size(); ++l) {
    s += l ? ", Layer of [" : "Layer of [";
    for (size_t i = 0; i < layers[l].neurons.size(); ++i) s += (i ? ", " : "") + layers[l].neurons[i].repr();
    s += "]";
  }
  return s + "]";
}

}  // namespace micrograd
