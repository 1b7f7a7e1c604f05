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
#include <any>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "common/tensor/tensor.hpp"

namespace z2h {

using BackwardFn = void (*)(Node& out);  // reads out.grad and the inputs, accumulates into their grads

// ================================================================================================
// Node: what a tensor is. Ops fill in `inputs`, `backward_fn` and whatever backward needs.
//
// Memory, as PyTorch: a node's numbers live while something may still read them — a Tensor handle
// (the user's, or one an op saved for its backward with save_for_backward) — and are freed as soon
// as only graph edges remain. An edge (an entry of a later node's `inputs`) keeps the node in the
// graph (its shape, grad, backward rule, inputs), not its numbers: the input of an add, a view's
// source, a matmul's result that only feeds an add, are freed during the forward. After backward()
// has run a node's rule, what it saved is released too (PyTorch's retain_graph=False).
// ================================================================================================
struct Node {
  int refs = 0;   // handles to this node: Tensors, graph edges among them
  int edges = 0;  // how many of those are graph edges: they keep the node but not its numbers
  Shape shape;
  Storage* storage = nullptr;  // owns the numbers; views share it. Null once freed
  Tensor grad;                 // same shape as this; undefined until backward reaches it

  bool requires_grad = false;
  bool retains_grad = false;
  const char* op = "leaf";
  BackwardFn backward_fn = nullptr;  // null for leaves
  std::vector<Tensor> inputs;        // the graph edges: d(loss)/d(input) is accumulated from here

  // What backward reads, declared by the op with save_for_backward():
  std::vector<Tensor> saved_inputs;  // handles on the inputs whose numbers backward reads
  std::vector<Tensor> saved_recomputed;  // inputs with a `recompute` rule: kept as recipes (see below)
  bool saved_output = false;         // backward reads this node's own numbers
  // and beyond tensors, a small struct of the op's own (e.g. pow's `struct PowSaved { float p; }`),
  // read back, type-checked, by saved<PowSaved>(node). Empty for most ops.
  std::any saved;

  // Recomputation, for a few large activations (LayerNorm's output): an op whose numbers are cheap to
  // make again from what its own backward keeps anyway sets `recompute`. A later op that saves this
  // tensor for its backward then keeps the recipe, not the numbers (its handle counts as an edge),
  // so they are freed during the forward, as an edge's, and made again — the same kernel on the same
  // inputs, so the same bits — the first time a backward reads them; freed again after that backward.
  // PyTorch keeps them (torch.utils.checkpoint recomputes whole blocks, on request).
  void (*recompute)(Node& self) = nullptr;

  uint64_t seq = 0;    // creation order: backward runs the latest-created ready node first, as PyTorch
  uint32_t visit = 0;  // backward's topological sort marks nodes with the current pass number

  // The gradient buffer of this node, created as zeros on first use; backward rules add into it.
  float* grad_data();
  // The same buffer for a rule that writes every element: if this is the first contribution
  // (*first == true) the buffer is uninitialised and must be assigned (=), otherwise added to (+=).
  // Saves zero-filling and re-reading the buffer in the hot ops (matmul, tanh, add).
  float* grad_data(bool* first);

  // The numbers (storage->data). Reading numbers that were freed is an internal error (a backward
  // that reads what its op did not save): it throws std::logic_error, never returns garbage —
  // unless the node has a `recompute` rule and its op's saved state, which makes them again.
  float* data() const;
  void allocate_numbers();        // a fresh, uninitialised storage for `shape` (for recompute rules)
  void free_numbers_if_unread();  // frees them if only edges remain and backward does not read them
  void release_saved();           // after this node's backward: drop what it saved

  ~Node();
};

// ================================================================================================
// For op authors (see docs/common.md, "How to add an op").
// ================================================================================================
// Allocates the result of an op. If grad mode is on and an input requires grad, the result records
// `op`, `inputs` and `fn`, and so joins the graph; otherwise it is a plain tensor.
Tensor make_result(Shape s, const char* op, std::initializer_list<Tensor> inputs, BackwardFn fn);
Tensor make_result(Shape s, const char* op, const std::vector<Tensor>& inputs, BackwardFn fn);
// Makes n the result of `fn` applied to `inputs` (what make_result does when a gradient is needed).
void join_graph(Node& n, std::vector<Tensor> inputs, BackwardFn fn);

// Declares whose numbers the op's backward reads, as PyTorch's ctx.save_for_backward(a, b): any of
// its inputs, and `out` itself (e.g. tanh's backward reads its output). Only what is declared here
// is kept for backward; the numbers of the other inputs may be freed before backward runs.
void save_for_backward(const Tensor& out, std::initializer_list<Tensor> tensors);
void save_for_backward(const Tensor& out, const std::vector<Tensor>& tensors);
// Keeps what else the op's backward will need (a small struct), if its result joined the graph.
template <class Saved>
void save_for_backward(const Tensor& out, Saved what) {
  if (out.node()->backward_fn) out.node()->saved = std::move(what);
}
[[noreturn]] void throw_freed(const Node& n, const char* what);
// What save_for_backward() kept, as the type it was saved as (std::bad_any_cast otherwise).
template <class Saved>
const Saved& saved(const Node& o) {
  if (!o.saved.has_value()) throw_freed(o, "saved values");
  return std::any_cast<const Saved&>(o.saved);
}

}  // namespace z2h
