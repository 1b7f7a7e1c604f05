#pragma once
// common/tensor/tensor.hpp — the tensor-level micrograd: a float32 Tensor that remembers how it was made.
//
// Lecture 1's `Value` held one number, its gradient, its children and a `_backward` closure.
// A `Tensor` is the same idea for a whole block of numbers:
//
//   Value (micrograd)        Tensor (here)
//   data                     data()         row-major, contiguous float32, shape()
//   grad                     grad()         a Tensor of the same shape (undefined until backward)
//   _prev                    node->inputs   the tensors this one was computed from
//   _op                      node->op       "tanh", "matmul", ... (op_name())
//   _backward                node->backward_fn   a plain function beside each op's forward (ops*.cpp)
//   backward()               backward()     topological order, walked in reverse; grads accumulate
//
// A Tensor is a cheap handle (one pointer, reference counted) to a Node. Copying a Tensor copies the
// handle, not the numbers: `Tensor b = a;` makes b and a the same tensor, as in Python.
//
// Views and copies. `view()`/`reshape()` and `detach()` return a tensor that SHARES the numbers of
// its source (writing through one is visible in the other), exactly like PyTorch's views. Every
// other op — transpose/permute, slicing, indexing, cat — returns a fresh contiguous copy (PyTorch
// would return a strided view for transpose and basic slicing; here every tensor is contiguous, so
// the kernels stay simple loops over raw pointers).
//
// Gradients follow PyTorch: only tensors with requires_grad take part; a leaf's grad accumulates
// over backward() calls until zero_grad(); an intermediate's grad is freed after its backward has
// run, unless retain_grad() was called on it. Inside a NoGradGuard scope no graph is recorded.
//
// Not thread-safe: one thread builds and runs a graph at a time (reference counts are plain ints).
//
// The ops themselves (+, matmul, tanh, cross_entropy, ...) are declared in common/tensor/ops.hpp; the
// factories (zeros, randn, ...) at the end of this file. This header does not include xtensor, so
// a stage's translation units compile quickly; the op implementations (ops_*.cpp) use it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <vector>

namespace z2h {

class Generator;  // common/rng/generator.hpp: PyTorch's CPU random generator

// ================================================================================================
// Shape: the sizes of a tensor's dimensions, e.g. {32, 3, 10}. At most 6 dimensions, stored inline
// (no heap allocation per tensor). A 0-dimensional shape {} is a scalar with one element.
// ================================================================================================
class Shape {
 public:
  static constexpr int kMaxDims = 6;
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int ndim() const { return n_; }
  int64_t operator[](int i) const { return d_[static_cast<size_t>(i)]; }
  int64_t& operator[](int i) { return d_[static_cast<size_t>(i)]; }
  int64_t numel() const;
  const int64_t* begin() const { return d_.data(); }
  const int64_t* end() const { return d_.data() + n_; }
  void push_back(int64_t d);
  std::vector<int64_t> vec() const { return {begin(), end()}; }
  std::string str() const;  // "(32, 200)"
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  std::array<int64_t, kMaxDims> d_{};
  int n_ = 0;
};

// Turns a possibly negative dimension (-1 = last) into 0..ndim-1, with a clear error if out of range.
int wrap_dim(int64_t dim, int ndim);

// ================================================================================================
// LongTensor: integer data (indices, targets, samples). A plain value type — copying copies — and
// never part of the autograd graph. Like torch.long tensors: `X[ix]`, `C[X]`, `cross_entropy(_, Y)`.
// ================================================================================================
struct LongTensor {
  Shape shape;
  std::vector<int64_t> data;

  LongTensor() = default;
  LongTensor(std::vector<int64_t> values, Shape s);  // checks numel
  explicit LongTensor(std::vector<int64_t> values);  // 1-D
  int64_t numel() const { return static_cast<int64_t>(data.size()); }
  int ndim() const { return shape.ndim(); }
  int64_t size(int64_t dim) const { return shape[wrap_dim(dim, shape.ndim())]; }
  int64_t item() const;                            // the one element
  int64_t at(std::initializer_list<int64_t> idx) const;
  LongTensor operator[](const LongTensor& rows) const;  // rows along dim 0: Xtr[ix]
  LongTensor view(Shape s) const;                        // same numbers, new shape (-1 allowed)
  LongTensor slice(int64_t dim, int64_t start, int64_t end) const;  // x[:, start:end] (copy)
};
LongTensor arange_long(int64_t end);                                // 0, 1, ..., end-1
LongTensor cat(const std::vector<LongTensor>& xs, int64_t dim);     // torch.cat on indices
std::ostream& operator<<(std::ostream& os, const LongTensor& t);

// ================================================================================================
// Storage: a reference-counted, 64-byte-aligned float buffer. Views share one.
// Freed buffers are kept in a small per-thread cache so that a training loop that makes the same
// shapes every step does not call malloc/free for them every step.
// ================================================================================================
struct Storage {
  int refs = 0;
  size_t n = 0;  // floats
  float* data = nullptr;
  static Storage* make(size_t n);  // uninitialised
  static void release(Storage* s);
};

class Tensor;
struct Node;
using BackwardFn = void (*)(Node& out);  // reads out.grad and the inputs, accumulates into their grads

// ================================================================================================
// Tensor: a handle to a Node.
// ================================================================================================
class Tensor {
 public:
  Tensor() = default;  // undefined (like `grad` before any backward: Python's None)
  Tensor(const Tensor& o) noexcept;
  Tensor(Tensor&& o) noexcept : n_(o.n_) { o.n_ = nullptr; }
  Tensor& operator=(const Tensor& o) noexcept;
  Tensor& operator=(Tensor&& o) noexcept;
  ~Tensor();

  bool defined() const { return n_ != nullptr; }
  const Shape& shape() const;
  int ndim() const { return shape().ndim(); }
  int64_t size(int64_t dim) const;
  int64_t numel() const { return shape().numel(); }
  float* data() const;                      // the numbers, row-major
  std::vector<float> tolist() const;        // a copy of the numbers
  float item() const;                       // the one element (numel must be 1)
  float& at(std::initializer_list<int64_t> idx) const;  // t.at({i, j}): element access, checked

  // --- autograd -----------------------------------------------------------------------------
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);   // mark a leaf (a parameter) as needing a gradient
  Tensor grad() const;                      // undefined until a backward reached this tensor
  void zero_grad();                         // grad = None (PyTorch's `p.grad = None`)
  Tensor& retain_grad();                    // keep an intermediate's grad after backward
  bool is_leaf() const;                     // not the result of a recorded op
  void backward() const;                    // this must have one element: seeds d(this)/d(this) = 1
  void backward(const Tensor& grad_output) const;
  Tensor detach() const;                    // same numbers (shared), no graph, requires_grad false
  const char* op_name() const;              // "tanh", "matmul", ... or "leaf"

  // --- views: share the numbers (see the note at the top) ------------------------------------
  Tensor view(Shape s) const;               // one dimension may be -1: emb.view({-1, 30})
  Tensor reshape(Shape s) const { return view(s); }  // always possible: storage is contiguous

  // --- in place: change the numbers without recording a graph (PyTorch's under torch.no_grad())
  // For parameters and buffers, e.g. the lecture's `layers[-1].weight *= 0.1`: w.mul_(0.1f).
  Tensor& mul_(float s);
  Tensor& add_(const Tensor& other, float alpha = 1.0f);  // this += alpha * other (same shape)
  Tensor& fill_(float value);
  Tensor& copy_(const Tensor& src);                        // same number of elements

  // --- indexing -----------------------------------------------------------------------------
  Tensor operator[](const LongTensor& idx) const;  // C[X]: rows of this picked by X, shape X.shape + shape[1:]
  Tensor operator[](int64_t i) const;              // x[i]: one row (a copy)

  // For op authors (ops_*.cpp): the node behind the handle.
  Node* node() const { return n_; }
  explicit Tensor(Node* n) noexcept;  // takes a reference

 private:
  Node* n_ = nullptr;
};

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
  Tensor saved;       // e.g. softmax's output, cross_entropy's log-sum-exps, a dropout mask
  LongTensor index;   // e.g. embedding indices, cross-entropy targets, argmax positions

  uint32_t visit = 0;  // backward's topological sort marks nodes with the current pass number
  uint64_t seq = 0;    // creation order; backward runs nodes latest-created first, as PyTorch's engine

  // The gradient buffer of this node, created as zeros on first use; backward rules add into it.
  float* grad_data();
  // The same buffer for a rule that writes every element: if this is the first contribution
  // (*first == true) the buffer is uninitialised and must be assigned (=), otherwise added to (+=).
  // Saves zero-filling and re-reading the buffer in the hot ops (matmul, tanh, add).
  float* grad_data(bool* first);

  ~Node();
};

// ================================================================================================
// No-grad scope: `{ NoGradGuard g; ... }` is Python's `with torch.no_grad(): ...`.
// ================================================================================================
bool grad_enabled();
struct NoGradGuard {
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// ================================================================================================
// Making tensors. Every factory returns a leaf with requires_grad false; call .requires_grad_().
// ================================================================================================
Tensor empty(Shape s);                               // uninitialised numbers
Tensor zeros(Shape s);
Tensor ones(Shape s);
Tensor full(Shape s, float value);
Tensor tensor(std::vector<float> values, Shape s);   // torch.tensor(values).view(s)
Tensor tensor(std::vector<float> values);            // 1-D
Tensor scalar_tensor(float value);                   // 0-dimensional
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor arange(int64_t end);                          // 0., 1., ..., end-1 (float)
Tensor linspace(float start, float end, int64_t steps);  // torch.linspace
Tensor tril(const Tensor& x);                        // zero above the diagonal of the last two dims

// Random factories on PyTorch's generator, in PyTorch's draw order (common/rng/generator.hpp):
// randn({27, 10}, g) gives the same numbers as torch.randn((27, 10), generator=g).
// (The braced-list overloads make randn({200}, g) a Tensor: generator.hpp's randn(size_t n, g)
// returns a std::vector<float>, and would otherwise win for a one-element list.)
Tensor randn(Shape s, Generator& g);
Tensor randn(std::initializer_list<int64_t> s, Generator& g);
Tensor randn(Shape s);                               // the global generator (torch.manual_seed)
Tensor randn(std::initializer_list<int64_t> s);
Tensor rand(Shape s, Generator& g);
Tensor rand(std::initializer_list<int64_t> s, Generator& g);
Tensor rand(Shape s);
Tensor rand(std::initializer_list<int64_t> s);
LongTensor randint(int64_t low, int64_t high, Shape s, Generator& g);
LongTensor randint(int64_t low, int64_t high, std::initializer_list<int64_t> s, Generator& g);
LongTensor randint(int64_t low, int64_t high, Shape s);
LongTensor randint(int64_t low, int64_t high, std::initializer_list<int64_t> s);
// probs: (n) or (rows, n), each row non-negative weights. Returns (num_samples) or (rows, num_samples).
LongTensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement, Generator& g);
LongTensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement = false);

// torch-like printing: tensor([[0.1, 0.2], ...])
std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ================================================================================================
// For op authors (see docs/common.md, "How to add an op").
// ================================================================================================
// Allocates the result of an op. If grad mode is on and an input requires grad, the result records
// `op`, `inputs` and `fn`, and so joins the graph; otherwise it is a plain tensor.
Tensor make_result(Shape s, const char* op, std::initializer_list<Tensor> inputs, BackwardFn fn);
Tensor make_result(Shape s, const char* op, const std::vector<Tensor>& inputs, BackwardFn fn);

}  // namespace z2h
