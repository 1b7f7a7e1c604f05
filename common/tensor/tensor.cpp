// common/tensor/tensor.cpp — Shape, Storage, the Tensor handle, views, LongTensor, factories, printing.
#include "common/tensor/tensor.hpp"

#include "common/tensor/autograd.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <numeric>
#include <ostream>
#include <stdexcept>

#include <sys/mman.h>

namespace z2h {

// ================================================================================================
// Shape
// ================================================================================================
Shape::Shape(std::initializer_list<int64_t> dims) {
  for (int64_t d : dims) push_back(d);
}
Shape::Shape(const std::vector<int64_t>& dims) {
  for (int64_t d : dims) push_back(d);
}
void Shape::push_back(int64_t d) {
  if (n_ == kMaxDims) throw std::invalid_argument("tensor: at most 6 dimensions are supported");
  d_[static_cast<size_t>(n_++)] = d;
}
int64_t Shape::numel() const {
  int64_t n = 1;
  for (int64_t d : *this) n *= d;
  return n;
}
bool Shape::operator==(const Shape& o) const {
  return n_ == o.n_ && std::equal(begin(), end(), o.begin());
}
std::string Shape::str() const {
  std::string s = "(";
  for (int i = 0; i < n_; ++i) s += (i ? ", " : "") + std::to_string(d_[static_cast<size_t>(i)]);
  return s + (n_ == 1 ? ",)" : ")");
}

int wrap_dim(int64_t dim, int ndim) {
  int64_t d = dim < 0 ? dim + ndim : dim;
  if (d < 0 || d >= std::max(ndim, 1))
    throw std::invalid_argument("dimension " + std::to_string(dim) + " is out of range for a " +
                                std::to_string(ndim) + "-D tensor");
  return static_cast<int>(d);
}

// ================================================================================================
// Storage, with a per-thread cache of freed buffers, so that a training loop that makes the same
// shapes every step does not ask the system for them every step. Size classes: four per power of two
// (16, 20, 24, 28, 32, 40, ... floats), so a buffer is at most 25 % larger than its tensor. The cache
// holds at most 32 buffers per class and 32 MB in all: beyond that a freed buffer goes back to the
// system, so memory a backward frees stops counting (buffers of 16 MB and more are mapped from the
// system directly, so that they do go back).
// ================================================================================================
namespace {
constexpr int kClasses = 4 * 48;
constexpr size_t kMaxCachedPerClass = 32;
constexpr size_t kMaxCachedBytes = size_t{32} << 20;
constexpr size_t kMappedBytes = size_t{16} << 20;

size_t class_size(int c) { return (4 + size_t(c & 3)) << ((c >> 2) + 2); }  // floats
int size_class(size_t n) {  // the smallest class that holds n floats
  int c = 0;
  while (class_size(c) < n) ++c;
  return c;
}
size_t class_bytes(int c) { return (class_size(c) * sizeof(float) + 63) / 64 * 64; }

float* allocate(size_t bytes) {
  void* p = nullptr;
  if (bytes >= kMappedBytes) {
    p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) p = nullptr;
  } else {
    p = std::aligned_alloc(64, bytes);
  }
  if (!p) throw std::bad_alloc();
  return static_cast<float*>(p);
}
void deallocate(Storage* s) {
  const size_t bytes = class_bytes(size_class(s->n));
  if (bytes >= kMappedBytes) munmap(s->data, bytes);
  else std::free(s->data);
  delete s;
}

// Tensors that outlive the pool (statics destroyed after it at exit) free their buffers directly.
thread_local bool pool_gone = false;
struct StoragePool {
  std::vector<Storage*> free[kClasses];
  size_t bytes = 0;  // cached
  ~StoragePool() {
    pool_gone = true;
    for (auto& list : free)
      for (Storage* s : list) deallocate(s);
  }
};
thread_local StoragePool pool;
}  // namespace

Storage* Storage::make(size_t n) {
  const int c = size_class(n);
  if (!pool_gone && c < kClasses && !pool.free[c].empty()) {
    Storage* s = pool.free[c].back();
    pool.free[c].pop_back();
    pool.bytes -= class_bytes(c);
    s->n = n;
    s->refs = 0;
    return s;
  }
  auto* s = new Storage;
  s->n = n;
  s->data = allocate(class_bytes(c));
  return s;
}

void Storage::release(Storage* s) {
  if (--s->refs > 0) return;
  const int c = size_class(s->n);
  if (!pool_gone && c < kClasses && pool.free[c].size() < kMaxCachedPerClass &&
      pool.bytes + class_bytes(c) <= kMaxCachedBytes) {
    pool.free[c].push_back(s);
    pool.bytes += class_bytes(c);
    return;
  }
  deallocate(s);
}

// ================================================================================================
// Node and the Tensor handle
// ================================================================================================
Node::~Node() {
  for (const Tensor& in : inputs)
    if (in.defined()) --in.node()->edges;  // then `inputs` is destroyed: the handles let go
  for (const Tensor& r : saved_recomputed) --r.node()->edges;
  if (storage) Storage::release(storage);
}

float* Node::data() const {
  if (!storage) {
    if (!recompute || !saved.has_value()) throw_freed(*this, "numbers");
    Node& self = const_cast<Node&>(*this);  // the numbers are made again; the tensor's value is unchanged
    self.recompute(self);
  }
  return storage->data;
}
void Node::allocate_numbers() {
  if (storage) Storage::release(storage);
  storage = Storage::make(static_cast<size_t>(shape.numel()));
  ++storage->refs;
}
void throw_freed(const Node& n, const char* what) {
  throw std::logic_error(std::string("internal error: a backward read the ") + what + " of a '" + n.op +
                         "' tensor, which were freed: an op's backward may read only what the op saved with "
                         "save_for_backward(), and only once (a graph is freed by its backward(), as "
                         "PyTorch's retain_graph=False)");
}

void Node::free_numbers_if_unread() {
  if (storage && refs == edges && !saved_output) {
    Storage::release(storage);
    storage = nullptr;
  }
}
void Node::release_saved() {
  saved_inputs.clear();
  for (const Tensor& r : saved_recomputed) --r.node()->edges;
  saved_recomputed.clear();  // (a recomputed input's numbers are freed here, as an edge's)
  saved.reset();
  saved_output = false;
  free_numbers_if_unread();
}

float* Node::grad_data() {
  if (!grad.defined()) grad = zeros(shape);
  return grad.data();
}
float* Node::grad_data(bool* first) {
  *first = !grad.defined();
  if (*first) grad = empty(shape);
  return grad.data();
}

namespace {
thread_local uint64_t g_next_seq = 0;
Node* new_node(Shape s, Storage* storage) {
  Node* n = new Node;
  n->seq = ++g_next_seq;
  n->shape = s;
  n->storage = storage;
  ++storage->refs;
  return n;
}
// A handle lets go of its node: the node is deleted with the last handle, and its numbers are
// freed when only graph edges remain (see Node in autograd.hpp).
void let_go(Node* n) {
  if (!n) return;
  if (--n->refs == 0) delete n;
  else if (n->refs == n->edges) n->free_numbers_if_unread();
}
}  // namespace

Tensor::Tensor(Node* n) noexcept : n_(n) {
  if (n_) ++n_->refs;
}
Tensor::Tensor(const Tensor& o) noexcept : n_(o.n_) {
  if (n_) ++n_->refs;
}
Tensor& Tensor::operator=(const Tensor& o) noexcept {
  if (o.n_) ++o.n_->refs;
  Node* old = n_;
  n_ = o.n_;
  let_go(old);
  return *this;
}
Tensor& Tensor::operator=(Tensor&& o) noexcept {
  if (this != &o) {
    Node* old = n_;
    n_ = o.n_;
    o.n_ = nullptr;
    let_go(old);
  }
  return *this;
}
Tensor::~Tensor() { let_go(n_); }

namespace {
Node& must(Node* n) {
  if (!n) throw std::logic_error("tensor: use of an undefined Tensor (like Python's None)");
  return *n;
}
}  // namespace

const Shape& Tensor::shape() const { return must(n_).shape; }
int64_t Tensor::size(int64_t dim) const { return shape()[wrap_dim(dim, ndim())]; }
float* Tensor::data() const { return must(n_).data(); }
std::vector<float> Tensor::tolist() const { return {data(), data() + numel()}; }
float Tensor::item() const {
  if (numel() != 1)
    throw std::invalid_argument("item(): the tensor has shape " + shape().str() +
                                ", not exactly one element");
  return data()[0];
}
float& Tensor::at(std::initializer_list<int64_t> idx) const {
  const Shape& s = shape();
  if (static_cast<int>(idx.size()) != s.ndim())
    throw std::invalid_argument("at(): " + std::to_string(idx.size()) + " indices for shape " + s.str());
  int64_t off = 0;
  int d = 0;
  for (int64_t i : idx) {
    if (i < 0) i += s[d];
    if (i < 0 || i >= s[d])
      throw std::out_of_range("at(): index " + std::to_string(i) + " out of range for dim " +
                              std::to_string(d) + " of shape " + s.str());
    off = off * s[d] + i;
    ++d;
  }
  return data()[off];
}

bool Tensor::requires_grad() const { return must(n_).requires_grad; }
Tensor& Tensor::requires_grad_(bool on) {
  if (!is_leaf())
    throw std::logic_error("requires_grad_(): only leaves (parameters) can be marked; this is the "
                           "result of '" + std::string(op_name()) + "' (use detach() first)");
  n_->requires_grad = on;
  return *this;
}
Tensor Tensor::grad() const { return must(n_).grad; }
void Tensor::zero_grad() { must(n_).grad = Tensor(); }
Tensor& Tensor::retain_grad() {
  must(n_).retains_grad = true;
  return *this;
}
bool Tensor::is_leaf() const { return must(n_).backward_fn == nullptr; }
const char* Tensor::op_name() const { return must(n_).op; }

Tensor Tensor::detach() const {
  data();  // (the numbers must be there)
  Node* n = new_node(shape(), n_->storage);
  return Tensor(n);
}

// ================================================================================================
// In-place updates (no graph)
// ================================================================================================
Tensor& Tensor::mul_(float s) {
  float* p = data();
  for (int64_t i = 0, n = numel(); i < n; ++i) p[i] *= s;
  return *this;
}
Tensor& Tensor::add_(const Tensor& other, float alpha) {
  if (other.shape() != shape())
    throw std::invalid_argument("add_(): shapes " + shape().str() + " and " + other.shape().str() + " differ");
  float* p = data();
  const float* q = other.data();
  for (int64_t i = 0, n = numel(); i < n; ++i) p[i] += alpha * q[i];
  return *this;
}
Tensor& Tensor::fill_(float value) {
  std::fill_n(data(), numel(), value);
  return *this;
}
Tensor& Tensor::copy_(const Tensor& src) {
  if (src.numel() != numel())
    throw std::invalid_argument("copy_(): " + src.shape().str() + " into " + shape().str());
  std::copy_n(src.data(), numel(), data());
  return *this;
}

namespace {
Tensor fresh(Shape s) {
  int64_t n = s.numel();
  if (n < 0) throw std::invalid_argument("tensor: negative size in shape " + s.str());
  return Tensor(new_node(s, Storage::make(static_cast<size_t>(n))));
}
}  // namespace

// ================================================================================================
// view: a new node over the same storage. Backward: the gradient, read in the input's shape.
// ================================================================================================
namespace {
Shape infer_shape(Shape s, int64_t numel, const Shape& from) {
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < s.ndim(); ++i) {
    if (s[i] == -1) {
      if (infer >= 0) throw std::invalid_argument("view(): only one dimension can be -1");
      infer = i;
    } else if (s[i] < 0) {
      throw std::invalid_argument("view(): invalid size in " + s.str());
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0 && known > 0 && numel % known == 0) s[infer] = numel / known;
  if (s.numel() != numel || (infer >= 0 && known == 0))
    throw std::invalid_argument("view(): shape " + s.str() + " is invalid for a tensor of shape " +
                                from.str() + " (" + std::to_string(numel) + " elements)");
  return s;
}
}  // namespace

namespace {
void view_backward(Node& o);
}  // namespace

// x: any shape -> out: the same numbers, a new shape
Tensor Tensor::view(Shape s) const {
  Node& src = must(n_);
  s = infer_shape(s, src.shape.numel(), src.shape);
  src.data();  // (the numbers must be there)
  Tensor out(new_node(s, src.storage));
  out.node()->op = "view";
  if (grad_enabled() && src.requires_grad) join_graph(*out.node(), {*this}, view_backward);
  return out;
}

namespace {
// dx += dout, element for element (the gradient read in the input's shape)
void view_backward(Node& o) {
  Node& x = *o.inputs[0].node();
  if (!x.requires_grad) return;
  bool first;
  float* dx = x.grad_data(&first);
  const float* dout = o.grad.data();
  const int64_t N = o.shape.numel();
  if (first) std::copy_n(dout, N, dx);
  else for (int64_t i = 0; i < N; ++i) dx[i] += dout[i];
}
}  // namespace

LongTensor LongTensor::view(Shape s) const {
  LongTensor out;
  out.shape = infer_shape(s, numel(), shape);
  out.data = data;
  return out;
}

// ================================================================================================
// LongTensor
// ================================================================================================
LongTensor::LongTensor(std::vector<int64_t> values, Shape s) : shape(s), data(std::move(values)) {
  if (shape.numel() != numel())
    throw std::invalid_argument("LongTensor: " + std::to_string(data.size()) +
                                " values do not fill shape " + shape.str());
}
LongTensor::LongTensor(std::vector<int64_t> values)
    : shape({static_cast<int64_t>(values.size())}), data(std::move(values)) {}

int64_t LongTensor::item() const {
  if (numel() != 1) throw std::invalid_argument("item(): LongTensor of shape " + shape.str());
  return data[0];
}
int64_t LongTensor::at(std::initializer_list<int64_t> idx) const {
  if (static_cast<int>(idx.size()) != shape.ndim())
    throw std::invalid_argument("at(): wrong number of indices for shape " + shape.str());
  int64_t off = 0;
  int d = 0;
  for (int64_t i : idx) {
    if (i < 0) i += shape[d];
    if (i < 0 || i >= shape[d]) throw std::out_of_range("at(): index out of range for " + shape.str());
    off = off * shape[d++] + i;
  }
  return data[static_cast<size_t>(off)];
}
LongTensor LongTensor::operator[](const LongTensor& rows) const {
  if (shape.ndim() < 1) throw std::invalid_argument("indexing a 0-D LongTensor");
  int64_t n0 = shape[0], row = n0 ? numel() / n0 : 0;
  LongTensor out;
  for (int64_t d : rows.shape) out.shape.push_back(d);
  for (int i = 1; i < shape.ndim(); ++i) out.shape.push_back(shape[i]);
  out.data.resize(static_cast<size_t>(rows.numel() * row));
  for (int64_t r = 0; r < rows.numel(); ++r) {
    int64_t i = rows.data[static_cast<size_t>(r)];
    if (i < 0) i += n0;
    if (i < 0 || i >= n0)
      throw std::out_of_range("index " + std::to_string(rows.data[static_cast<size_t>(r)]) +
                              " is out of bounds for dimension 0 with size " + std::to_string(n0));
    for (int64_t j = 0; j < row; ++j) out.data[static_cast<size_t>(r * row + j)] = data[static_cast<size_t>(i * row + j)];
  }
  return out;
}
LongTensor LongTensor::slice(int64_t dim, int64_t start, int64_t end) const {
  int d = wrap_dim(dim, shape.ndim());
  int64_t n = shape[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < d; ++i) outer *= shape[i];
  for (int i = d + 1; i < shape.ndim(); ++i) inner *= shape[i];
  LongTensor out;
  out.shape = shape;
  out.shape[d] = end - start;
  out.data.reserve(static_cast<size_t>(outer * (end - start) * inner));
  for (int64_t o = 0; o < outer; ++o)
    out.data.insert(out.data.end(), data.begin() + (o * n + start) * inner,
                    data.begin() + (o * n + end) * inner);
  return out;
}
LongTensor arange_long(int64_t end) {
  std::vector<int64_t> v(static_cast<size_t>(std::max<int64_t>(end, 0)));
  std::iota(v.begin(), v.end(), int64_t{0});
  return LongTensor(std::move(v));
}
LongTensor cat(const std::vector<LongTensor>& xs, int64_t dim) {
  if (xs.empty()) throw std::invalid_argument("cat(): no tensors");
  int d = wrap_dim(dim, xs[0].ndim());
  LongTensor out;
  out.shape = xs[0].shape;
  out.shape[d] = 0;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < d; ++i) outer *= out.shape[i];
  for (int i = d + 1; i < out.shape.ndim(); ++i) inner *= out.shape[i];
  for (const auto& x : xs) {
    Shape a = x.shape, b = xs[0].shape;
    if (a.ndim() != b.ndim()) throw std::invalid_argument("cat(): tensors of different ranks");
    a[d] = b[d] = 0;
    if (a != b) throw std::invalid_argument("cat(): shapes " + x.shape.str() + " and " + xs[0].shape.str() + " differ outside dim " + std::to_string(d));
    out.shape[d] += x.shape[d];
  }
  for (int64_t o = 0; o < outer; ++o)
    for (const auto& x : xs) {
      int64_t chunk = x.shape[d] * inner;
      out.data.insert(out.data.end(), x.data.begin() + o * chunk, x.data.begin() + (o + 1) * chunk);
    }
  return out;
}

// ================================================================================================
// Factories
// ================================================================================================
Tensor empty(Shape s) { return fresh(s); }
Tensor zeros(Shape s) { return full(s, 0.0f); }
Tensor ones(Shape s) { return full(s, 1.0f); }
Tensor full(Shape s, float value) {
  Tensor t = fresh(s);
  std::fill_n(t.data(), t.numel(), value);
  return t;
}
Tensor tensor(std::vector<float> values, Shape s) {
  if (s.numel() != static_cast<int64_t>(values.size()))
    throw std::invalid_argument("tensor(): " + std::to_string(values.size()) +
                                " values do not fill shape " + s.str());
  Tensor t = fresh(s);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}
Tensor tensor(std::vector<float> values) {
  Shape s{static_cast<int64_t>(values.size())};
  return tensor(std::move(values), s);
}
Tensor scalar_tensor(float value) { return full(Shape{}, value); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape()); }
Tensor arange(int64_t end) {
  Tensor t = fresh(Shape{end});
  for (int64_t i = 0; i < end; ++i) t.data()[i] = static_cast<float>(i);
  return t;
}
Tensor linspace(float start, float end, int64_t steps) {
  // As torch: step = (end - start) / (steps - 1); the first half counts up from start, the second
  // half down from end (symmetric rounding).
  Tensor t = fresh(Shape{steps});
  float* p = t.data();
  if (steps == 1) p[0] = start;
  if (steps > 1) {
    float step = (end - start) / static_cast<float>(steps - 1);
    int64_t half = steps / 2;
    for (int64_t i = 0; i < steps; ++i)
      p[i] = i < half ? start + step * static_cast<float>(i)
                      : end - step * static_cast<float>(steps - i - 1);
  }
  return t;
}

// ================================================================================================
// Printing, torch style.
// ================================================================================================
namespace {
void print_rec(std::ostream& os, const float* p, const Shape& s, int d, int64_t& off, int indent) {
  if (d == s.ndim()) {
    os << p[off++];
    return;
  }
  os << '[';
  for (int64_t i = 0; i < s[d]; ++i) {
    if (i) {
      os << ',';
      if (d + 1 < s.ndim()) os << '\n' << std::string(static_cast<size_t>(indent + d + 1), ' ');
      else os << ' ';
    }
    print_rec(os, p, s, d + 1, off, indent);
  }
  os << ']';
}
}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "None";
  std::ios_base::fmtflags f = os.flags();
  std::streamsize prec = os.precision();
  os << "tensor(" << std::fixed << std::setprecision(4);
  int64_t off = 0;
  print_rec(os, t.data(), t.shape(), 0, off, 7);
  if (t.requires_grad()) os << ", requires_grad=True";
  os << ')';
  os.flags(f);
  os.precision(prec);
  return os;
}

std::ostream& operator<<(std::ostream& os, const LongTensor& t) {
  os << "tensor(";
  if (t.shape.ndim() == 0) return os << (t.data.empty() ? 0 : t.data[0]) << ')';
  int64_t off = 0;
  struct R {
    static void go(std::ostream& o, const LongTensor& t, int d, int64_t& off) {
      if (d == t.shape.ndim()) {
        o << t.data[static_cast<size_t>(off++)];
        return;
      }
      o << '[';
      for (int64_t i = 0; i < t.shape[d]; ++i) {
        if (i) o << (d + 1 < t.shape.ndim() ? ",\n        " : ", ");
        go(o, t, d + 1, off);
      }
      o << ']';
    }
  };
  R::go(os, t, 0, off);
  return os << ')';
}

}  // namespace z2h
