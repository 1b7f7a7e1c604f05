#pragma once
// The worked examples of the lecture notebooks, built exactly as the notebooks build them, so that
// the program prints the lecture's numbers and the tests check the same code.
#include <array>
#include <functional>
#include <vector>

#include "engine.hpp"

namespace micrograd::lecture {

// ---- first half: derivatives ---------------------------------------------------------------------------
// f(x) = 3x² - 4x + 5, written as the notebook writes it: 3*x**2 - 4*x + 5. f(3.0) = 20.0.
double f(double x);

// The slope (f(x+h) - f(x)) / h: 2.999378523327323e-06 at x = 2/3, h = 0.000001.
double forward_difference(const std::function<double(double)>& fn, double x, double h);

// ---- L = (a*b + c) * f -------------------------------------------------------------------------------------
struct Expression {
  Value a, b, c, e, d, f, L;  // e = a*b, d = e + c, L = d*f; each labelled with its name
};
// The notebook's values: a = 2, b = -3, c = 10, f = -2, so e = -6, d = 4, L = -8.
Expression expression(double a = 2.0, double b = -3.0, double c = 10.0, double f = -2.0);

// ---- the tanh neuron -----------------------------------------------------------------------------------------
struct NeuronExample {
  Value x1, x2, w1, w2, b;        // inputs x1 = 2, x2 = 0; weights w1 = -3, w2 = 1; b = 6.8813735870195432
  Value x1w1, x2w2, x1w1x2w2, n;  // n = x1*w1 + x2*w2 + b = 0.8813735870195432
  Value o;                        // tanh(n) = 0.7071067811865476
};
// o = n.tanh(), or with tanh spelled out from exp (the second notebook): e = (2*n).exp(),
// o = (e - 1)/(e + 1). Both have the same gradients.
NeuronExample neuron(bool tanh_from_exp);

// ---- the lecture's exercises (its Colab notebook) -----------------------------------------------------------------
// Section 1: f(a, b, c) = -a³ + sin(3b) - 1/c + b^2.5 - a^0.5. f(2, 3, 4) = 6.336362190988558.
double exercise_f(double a, double b, double c);
// Its gradient by hand: [-3a² - 0.5a^-0.5, 3cos(3b) + 2.5b^1.5, 1/c²]
// = [-12.353553390593273, 10.25699027111255, 0.0625] at (2, 3, 4).
std::array<double, 3> exercise_gradient(double a, double b, double c);
// The same estimated numerically: (f(x+h) - f(x))/h, or the central (f(x+h) - f(x-h))/(2h).
std::array<double, 3> exercise_numerical_gradient(double a, double b, double c, double h, bool central);

// Section 2: softmax on Values, [e^xi / sum_j e^xj]. With logits [0, 3, -2, 1] and label 3 the
// loss -log(softmax[3]) is 2.1755153626167147, and the logits' gradients are
// [0.041772570515350445, 0.8390245074625319, 0.005653302662216329, -0.8864503806400986].
std::vector<Value> softmax(const std::vector<Value>& logits);

}  // namespace micrograd::lecture
