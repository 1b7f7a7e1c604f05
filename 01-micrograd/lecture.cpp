#include "lecture.hpp"

#include <cmath>

namespace micrograd::lecture {

double f(double x) { return 3 * std::pow(x, 2) - 4 * x + 5; }

double forward_difference(const std::function<double(double)>& fn, double x, double h) {
  return (fn(x + h) - fn(x)) / h;
}

Expression expression(double a_, double b_, double c_, double f_) {
  Expression x;
  x.a = Value(a_, "a");
  x.b = Value(b_, "b");
  x.c = Value(c_, "c");
  x.e = x.a * x.b;
  x.e.set_label("e");
  x.d = x.e + x.c;
  x.d.set_label("d");
  x.f = Value(f_, "f");
  x.L = x.d * x.f;
  x.L.set_label("L");
  return x;
}

NeuronExample neuron(bool tanh_from_exp) {
  NeuronExample x;
  // inputs x1, x2
  x.x1 = Value(2.0, "x1");
  x.x2 = Value(0.0, "x2");
  // weights w1, w2
  x.w1 = Value(-3.0, "w1");
  x.w2 = Value(1.0, "w2");
  // bias of the neuron, chosen so that n = atanh(1/sqrt(2)) and o = 1/sqrt(2)
  x.b = Value(6.8813735870195432, "b");
  // x1*w1 + x2*w2 + b
  x.x1w1 = x.x1 * x.w1;
  x.x1w1.set_label("x1*w1");
  x.x2w2 = x.x2 * x.w2;
  x.x2w2.set_label("x2*w2");
  x.x1w1x2w2 = x.x1w1 + x.x2w2;
  x.x1w1x2w2.set_label("x1*w1 + x2*w2");
  x.n = x.x1w1x2w2 + x.b;
  x.n.set_label("n");
  if (tanh_from_exp) {
    Value e = (2 * x.n).exp();
    e.set_label("e");
    x.o = (e - 1) / (e + 1);
  } else {
    x.o = x.n.tanh();
  }
  x.o.set_label("o");
  return x;
}

double exercise_f(double a, double b, double c) {
  return -std::pow(a, 3) + std::sin(3 * b) - 1.0 / c + std::pow(b, 2.5) - std::pow(a, 0.5);
}

std::array<double, 3> exercise_gradient(double a, double b, double c) {
  return {
      -3 * std::pow(a, 2) - 0.5 * std::pow(a, -0.5),  // d/da (-a³ - a^0.5)
      3 * std::cos(3 * b) + 2.5 * std::pow(b, 1.5),   // d/db (sin(3b) + b^2.5)
      1 / std::pow(c, 2),                             // d/dc (-1/c)
  };
}

std::array<double, 3> exercise_numerical_gradient(double a, double b, double c, double h, bool central) {
  std::array<double, 3> grad{};
  for (int i = 0; i < 3; ++i) {
    std::array<double, 3> up = {a, b, c}, down = {a, b, c};
    up[i] += h;
    down[i] -= h;
    grad[i] = central ? (exercise_f(up[0], up[1], up[2]) - exercise_f(down[0], down[1], down[2])) / (2 * h)
                      : (exercise_f(up[0], up[1], up[2]) - exercise_f(a, b, c)) / h;
  }
  return grad;
}

std::vector<Value> softmax(const std::vector<Value>& logits) {
  std::vector<Value> counts;
  for (const Value& logit : logits) counts.push_back(logit.exp());
  Value denominator = sum(counts);
  std::vector<Value> out;
  for (const Value& c : counts) out.push_back(c / denominator);
  return out;
}

}  // namespace micrograd::lecture
