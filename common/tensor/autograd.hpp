#pragma once
// common/tensor/autograd.hpp — the autograd engine: the graph an op records, and backward().
//
//   Value (micrograd)        Tensor (here)
//   data                     data()         row-major, contiguous float32, shape()
//   grad                     grad()         a Tensor of the same shape (undefined until backward)
//   _prev                    node->inputs   the tensors this one was computed from
//   _op                      node->op       "tanh", "matmul", ... (op_name())
//   _backward                node->backward_fn   a named function right below each op's forward
//   backward()               backward()     topological order, walked in reverse; grads accumulate
//
// An op (ops_*.cpp) computes its result with make_result(), which records the op's name, its
// inputs and its backward rule when a gradient will be needed; Tensor::backward() (autograd.cpp)
// then calls the rules from the loss back to the leaves. Stage code never needs this header.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "common/tensor/tensor.hpp"

namespace z2h {

using BackwardFn = void (*)(Node& out);  // reads out.grad and the inputs, accumulates into their grads

// ================================================================================================
// Node: what a tensor is. Ops fill in `inputs`, `backward_fn` and whatever backward needs.
// ================================================================================================
struct Node {
  int refs = 0;
  Shape shape;
  Storage* storage = nullptr;  // owns the numbers; views share it
  float* data = nullptr;       // == storage->data
  Tensor grad;                 // same shape as this; undefined until backward reaches it

  bool requires_grad = false;
  bool retains_grad = false;
  const char* op = "leaf";
  BackwardFn backward_fn = nullptr;  // null for leaves
  std::vector<Tensor> inputs;        // the graph edges: d(loss)/d(input) is accumulated from here

  // What backward needs beyond the inputs (each op documents its use).
  std::array<int64_t, 4> ints{};
  std::array<float, 2> floats{};
  Tensor saved;       // e.g. softmax's output, cross_entropy's log-sum-exps
  LongTensor index;   // e.g. embedding indices, cross-entropy targets, argmax positions, dropout's mask as bits

  uint64_t seq = 0;    // creation order: backward runs the latest-created ready node first, as PyTorch
  uint32_t visit = 0;  // backward's topological sort marks nodes with the current pass number

  // The gradient buffer of this node, created as zeros on first use; backward rules add into it.
  float* grad_data();
  // The same buffer for a rule that writes every element: if this is the first contribution
  // (*first == true) the buffer is uninitialised and must be assigned (=), otherwise added to (+=).
  // Saves zero-filling and re-reading the buffer in the hot ops (matmul, tanh, add).
  float* grad_data(bool* first);

  ~Node();
};

// ================================================================================================
// For op authors (see docs/common.md, "How to add an op").
// ================================================================================================
// Allocates the result of an op. If grad mode is on and an input requires grad, the result records
// `op`, `inputs` and `fn`, and so joins the graph; otherwise it is a plain tensor.
Tensor make_result(Shape s, const char* op, std::initializer_list<Tensor> inputs, BackwardFn fn);
Tensor make_result(Shape s, const char* op, const std::vector<Tensor>& inputs, BackwardFn fn);

}  // namespace z2h
