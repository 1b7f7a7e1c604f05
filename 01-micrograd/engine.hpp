#pragma once
// The scalar autograd engine of lecture 1: micrograd's `Value`, in C++.
//
//   Value a(2.0, "a"), b(-3.0, "b"), c(10.0, "c"), f(-2.0, "f");
//   Value e = a * b;   e.set_label("e");     // -6
//   Value d = e + c;   d.set_label("d");     //  4
//   Value L = d * f;   L.set_label("L");     // -8
//   L.backward();      // a.grad() == 6, b.grad() == -4, c.grad() == -2, f.grad() == 4
//
// A Value is a *handle* on a node of the expression graph, as a Python name is a reference to a
// micrograd Value: copying a Value copies the handle, not the number, so `Value p = w; p.data() = 1`
// changes w too. Each node remembers the nodes it was computed from (its children, micrograd's
// `_prev`) and how to push its gradient back into them (its backward function, micrograd's
// `_backward`): one line of the chain rule per operand. backward() sorts the graph topologically
// and runs those functions from the output back to the leaves.
//
// Gradients accumulate (+=), exactly as in micrograd, because a node used twice gets a contribution
// from each use: `b = a + a` gives a.grad() == 2. Two consequences to know:
//   * A second backward() on the same graph adds to every grad in it, intermediate nodes included,
//     and since backward() resets only the output's grad to 1, the leaves do *not* simply double:
//     for L = (a*b)*c, a.grad() goes from b·c to 3·b·c (the intermediate a*b already holds c, gets
//     another c, and passes 2c down). Call backward() once per graph, or zero every grad first.
//   * In a training loop, zero the parameters' grads before each backward() (MLP::zero_grad, as
//     micrograd's Module.zero_grad); the rest of the graph is new at every forward pass.
//
// Arithmetic is IEEE double, like Python floats, and every op is written as micrograd writes it
// (a - b is a + (-b), a / b is a * b**-1, 2 * a is a * Value(2)) so that results agree with Python
// to the last bit. The engine is single-threaded: no Value may be used from two threads.
#include "common/app/format.hpp"
#include <cstdint>
#include <string>
#include <vector>

namespace micrograd {

// What an op is, for the nodes it makes: its name for the pictures, and its backward rule, which
// adds out.grad's share into out's children (micrograd's _op and _backward).
struct Node;
struct Op {
  const char* name;               // "+", "*", "**", "exp", "log", "tanh", "ReLU"
  void (*backward)(Node& out);
};

// One node of the graph, 64 bytes: one cache line. Value is the handle the rest of the code uses;
// Node is public only so that the ops in engine.cpp can write their backward rules as plainly as
// micrograd does.
struct Node {
  double data = 0.0;
  double grad = 0.0;                       // d(output)/d(this node), filled in by backward()
  Node* children[2] = {nullptr, nullptr};  // the operands, left first (micrograd's _prev)
  const Op* op = nullptr;                  // the op that made this node; nullptr for a leaf
  double exponent = 0.0;                   // the n of "**" (the only op with a constant argument)
  const std::string* label = nullptr;      // a name for the pictures ("a", "x1*w1"), or none
  uint32_t refs = 0;                       // how many Values and parent nodes hold this node
  uint32_t visit = 0;                      // the topological sort that saw it last (see backward)
};

class Value {
 public:
  // A leaf: an input or a parameter. Implicit, so that numbers mix with Values (a * 2, 1 - a).
  Value(double data = 0.0);  // NOLINT(google-explicit-constructor)
  Value(double data, std::string label);

  Value(const Value& other) noexcept;
  Value(Value&& other) noexcept;
  Value& operator=(const Value& other) noexcept;
  Value& operator=(Value&& other) noexcept;
  ~Value();

  double& data() { return node_->data; }
  double data() const { return node_->data; }
  double& grad() { return node_->grad; }
  double grad() const { return node_->grad; }
  const std::string& label() const;                       // "" when none was set
  void set_label(const std::string& label);               // Python: v.label = 'a'
  const char* op() const { return node_->op != nullptr ? node_->op->name : ""; }  // "" for a leaf
  double exponent() const { return node_->exponent; }     // for op "**"
  std::vector<Value> children() const;                    // the operands, left first
  const Node* id() const { return node_; }                // identity: same node <=> same id

  Value pow(double n) const;  // self**n, n a number (as micrograd: no Value exponents)
  Value exp() const;
  Value log() const;          // natural log
  Value tanh() const;         // overflow-safe: tanh(1000) is 1, not nan
  Value relu() const;

  // Sets this node's grad to 1 and propagates gradients to every node it depends on.
  void backward();

  // The nodes this one depends on (itself last), children before parents: the order backward()
  // walks in reverse. Children are visited left first, like micrograd's recursive build_topo.
  std::vector<Value> topological_order() const;

 private:
  friend Value make_op(double data, const Op* op, const Value& a, const Value* b, double exponent);
  explicit Value(Node* node) noexcept;  // takes one reference on node
  Node* node_;
};

// The binary ops. Number operands become leaves, on the side micrograd puts them: `a + 2` and
// `2 + a` both build a + Value(2) (Python's __radd__), `a - b` is a + (-b), `2 - a` is (-a) + 2,
// `a / b` is a * b**-1 and `2 / a` is a**-1 * 2.
Value operator+(const Value& a, const Value& b);
Value operator+(const Value& a, double b);
Value operator+(double a, const Value& b);
Value operator*(const Value& a, const Value& b);
Value operator*(const Value& a, double b);
Value operator*(double a, const Value& b);
Value operator-(const Value& a);  // a * -1
Value operator-(const Value& a, const Value& b);
Value operator-(const Value& a, double b);
Value operator-(double a, const Value& b);
Value operator/(const Value& a, const Value& b);
Value operator/(const Value& a, double b);
Value operator/(double a, const Value& b);

// Python's sum(values, start): start + v0 + v1 + ..., added left to right. With a number start
// (Python's default 0) the first step is start + v0, i.e. v0 + Value(start), as in Python.
Value sum(const std::vector<Value>& values, double start = 0.0);
Value sum(const std::vector<Value>& values, const Value& start);

// "Value(data=-8.0)", the lecture's repr (the data printed as Python prints a float).
std::string repr(const Value& v);

// A double as Python's repr() prints it: py_repr(20.0) == "20.0" (common/app/format.hpp).
using z2h::py_repr;

}  // namespace micrograd
