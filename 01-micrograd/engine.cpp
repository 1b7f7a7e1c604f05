// micrograd's engine.py in C++: each op computes its output and, right beside it, the backward rule
// that pushes the output's gradient into its operands (the chain rule for that one op).
#include "engine.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace micrograd {

// ---- node memory ----------------------------------------------------------------------------------
// A forward pass of the moons net makes ~65 000 nodes and drops them all one step later, and
// backward() visits every one of them in between. What costs time is not the arithmetic but memory:
// allocation, and cache misses. So nodes are handed out front to back from 256 KiB chunks: the nodes
// of one forward pass sit side by side in the order they were made, which is close to the order
// backward() walks them. Each chunk counts its live nodes; when the last one is released the chunk is
// reused from its start. Plain (non-atomic) reference counts and one 64-byte cache line per node do
// the rest.
namespace {

constexpr size_t kChunkBytes = 256 * 1024;  // a power of two: a node finds its chunk by masking

struct alignas(64) Chunk {
  uint32_t live = 0;  // nodes made here and not yet released
  uint32_t used = 0;  // nodes handed out since the chunk was last (re)started
  Chunk* next_empty = nullptr;
  Chunk* next_all = nullptr;
  static constexpr uint32_t kCapacity = kChunkBytes / sizeof(Node) - 1;  // the header takes one slot
  Node* slot(uint32_t i) { return reinterpret_cast<Node*>(this + 1) + i; }
};
static_assert(sizeof(Node) == 64 && sizeof(Chunk) == 64, "a node, and a chunk header, fill one cache line");

class NodePool {
 public:
  Node* create() {
    if (current_ == nullptr || current_->used == Chunk::kCapacity) next_chunk();
    ++current_->live;
    return current_->slot(current_->used++);
  }

  void destroy(Node* node) {
    Chunk* chunk = reinterpret_cast<Chunk*>(reinterpret_cast<uintptr_t>(node) & ~(kChunkBytes - 1));
    if (--chunk->live != 0) return;
    if (chunk == current_) {
      chunk->used = 0;  // everything made here is gone: start again at the front
    } else {
      chunk->next_empty = empty_;
      empty_ = chunk;
    }
  }

  // Sets every node's visit stamp back to 0 (see build_topo: after 2^32 topological sorts).
  void clear_visits() {
    for (Chunk* c = all_; c != nullptr; c = c->next_all) {
      for (uint32_t i = 0; i < Chunk::kCapacity; ++i) c->slot(i)->visit = 0;
    }
  }

 private:
  void next_chunk() {
    if (empty_ != nullptr) {
      current_ = empty_;
      empty_ = empty_->next_empty;
    } else {
      void* memory = std::aligned_alloc(kChunkBytes, kChunkBytes);
      if (memory == nullptr) throw std::bad_alloc();
      current_ = new (memory) Chunk();
      for (uint32_t i = 0; i < Chunk::kCapacity; ++i) new (current_->slot(i)) Node();  // visit stamps 0
      current_->next_all = all_;
      all_ = current_;
    }
    current_->used = 0;
  }

  // Plain pointers only: the pool is never destroyed (a Value in static storage may be released after
  // main returns), and chunks are kept for reuse, never freed.
  Chunk* current_ = nullptr;  // where new nodes go
  Chunk* empty_ = nullptr;    // chunks with no live node, ready for reuse
  Chunk* all_ = nullptr;      // every chunk, through next_all
};

constinit NodePool pool;

void retain(Node* n) { ++n->refs; }

// Drops one reference; a node nobody holds is freed, and with it its references on its children.
// A worklist instead of recursion: dropping the last handle on a long chain (a sum of 100 000 terms)
// would otherwise recurse as deep as the chain.
void release(Node* n) {
  if (--n->refs != 0) return;
  static std::vector<Node*>& dead = *new std::vector<Node*>();  // reused: no allocation per release
  dead.push_back(n);
  while (!dead.empty()) {
    Node* d = dead.back();
    dead.pop_back();
    for (Node* c : d->children) {
      if (c != nullptr && --c->refs == 0) dead.push_back(c);
    }
    pool.destroy(d);
  }
}

// Labels are interned: a program names a handful of nodes with a handful of names, so the tens of
// thousands of unnamed nodes of a training step pay only a null pointer for the feature.
const std::string* intern(const std::string& label) {
  static std::unordered_set<std::string>& labels = *new std::unordered_set<std::string>();
  return &*labels.insert(label).first;  // elements of an unordered_set never move
}

}  // namespace

// ---- Value: a counted handle on a node -----------------------------------------------------------
Value::Value(Node* node) noexcept : node_(node) { retain(node_); }

Value::Value(double data) : node_(pool.create()) {
  *node_ = Node{.data = data, .refs = 1};
}

Value::Value(double data, std::string label) : Value(data) { set_label(label); }

const std::string& Value::label() const {
  static const std::string none;
  return node_->label != nullptr ? *node_->label : none;
}

void Value::set_label(const std::string& label) { node_->label = intern(label); }

Value::Value(const Value& other) noexcept : node_(other.node_) { retain(node_); }

// As with any moved-from object, a moved-from Value may only be assigned to or destroyed.
Value::Value(Value&& other) noexcept : node_(other.node_) { other.node_ = nullptr; }

Value& Value::operator=(const Value& other) noexcept {
  retain(other.node_);  // first, for self-assignment
  if (node_ != nullptr) release(node_);
  node_ = other.node_;
  return *this;
}

Value& Value::operator=(Value&& other) noexcept {
  std::swap(node_, other.node_);
  return *this;
}

Value::~Value() {
  if (node_ != nullptr) release(node_);
}

std::vector<Value> Value::children() const {
  std::vector<Value> out;
  for (Node* c : node_->children) {
    if (c != nullptr) out.push_back(Value(c));
  }
  return out;
}

// Every op ends here: a new node holding `data`, its operands a (and b), and its backward rule.
Value make_op(double data, const Op* op, const Value& a, const Value* b, double exponent) {
  Node* n = pool.create();
  Node* right = b != nullptr ? b->node_ : nullptr;
  *n = Node{.data = data, .children = {a.node_, right}, .op = op, .exponent = exponent};
  retain(a.node_);
  if (right != nullptr) retain(right);
  return Value(n);  // Value(Node*) takes the first reference
}

// ---- the ops: forward value, then the backward rule -------------------------------------------------
// In each rule `out` is the node the op made, and self / other are its operands.

Value operator+(const Value& a, const Value& b) {
  static constexpr Op add{"+", [](Node& out) {
    Node& self = *out.children[0];
    Node& other = *out.children[1];
    self.grad += out.grad;
    other.grad += out.grad;
  }};
  return make_op(a.data() + b.data(), &add, a, &b, 0.0);
}

Value operator*(const Value& a, const Value& b) {
  static constexpr Op mul{"*", [](Node& out) {
    Node& self = *out.children[0];
    Node& other = *out.children[1];
    self.grad += other.data * out.grad;
    other.grad += self.data * out.grad;
  }};
  return make_op(a.data() * b.data(), &mul, a, &b, 0.0);
}

Value Value::pow(double n) const {
  static constexpr Op pow_{"**", [](Node& out) {
    Node& self = *out.children[0];
    self.grad += (out.exponent * std::pow(self.data, out.exponent - 1)) * out.grad;
  }};
  return make_op(std::pow(data(), n), &pow_, *this, nullptr, n);
}

Value Value::exp() const {
  static constexpr Op exp_{"exp", [](Node& out) {
    Node& self = *out.children[0];
    self.grad += out.data * out.grad;  // d/dx e^x = e^x, which is out.data
  }};
  return make_op(std::exp(data()), &exp_, *this, nullptr, 0.0);
}

Value Value::log() const {
  static constexpr Op log_{"log", [](Node& out) {
    Node& self = *out.children[0];
    self.grad += (1.0 / self.data) * out.grad;
  }};
  return make_op(std::log(data()), &log_, *this, nullptr, 0.0);
}

// The lecture's formula, (e^2x - 1)/(e^2x + 1). For 2x > 709 e^2x overflows to inf and inf/inf is
// nan; but beyond |x| = 20 tanh(x) is 1 to the last bit of a double, so it is returned directly.
// (std::tanh would be safe too, but it can differ from the lecture in the last bit:
// std::tanh(0.8813735870195432) = 0.7071067811865477, the lecture's o is 0.7071067811865476.)
Value Value::tanh() const {
  static constexpr Op tanh_{"tanh", [](Node& out) {
    Node& self = *out.children[0];
    self.grad += (1 - out.data * out.data) * out.grad;  // d/dx tanh x = 1 - tanh²x
  }};
  const double x = data();
  double t;
  if (x > 20.0) {
    t = 1.0;
  } else if (x < -20.0) {
    t = -1.0;
  } else {
    const double e2x = std::exp(2 * x);
    t = (e2x - 1) / (e2x + 1);
  }
  return make_op(t, &tanh_, *this, nullptr, 0.0);
}

Value Value::relu() const {
  static constexpr Op relu{"ReLU", [](Node& out) {
    Node& self = *out.children[0];
    self.grad += (out.data > 0 ? 1.0 : 0.0) * out.grad;
  }};
  return make_op(data() < 0 ? 0.0 : data(), &relu, *this, nullptr, 0.0);
}

// Derived ops, built from the ones above exactly as micrograd builds them.
Value operator+(const Value& a, double b) { return a + Value(b); }
Value operator+(double a, const Value& b) { return b + Value(a); }        // __radd__
Value operator*(const Value& a, double b) { return a * Value(b); }
Value operator*(double a, const Value& b) { return b * Value(a); }        // __rmul__
Value operator-(const Value& a) { return a * -1.0; }                      // __neg__
Value operator-(const Value& a, const Value& b) { return a + (-b); }
Value operator-(const Value& a, double b) { return a + (-b); }            // -b is a number here
Value operator-(double a, const Value& b) { return a + (-b); }            // __rsub__: (-b) + a
Value operator/(const Value& a, const Value& b) { return a * b.pow(-1); }
Value operator/(const Value& a, double b) { return a * std::pow(b, -1.0); }  // Python: b**-1
Value operator/(double a, const Value& b) { return a * b.pow(-1); }       // __rtruediv__

Value sum(const std::vector<Value>& values, double start) {
  if (values.empty()) return Value(start);
  Value acc = start + values[0];
  for (size_t i = 1; i < values.size(); ++i) acc = acc + values[i];
  return acc;
}

Value sum(const std::vector<Value>& values, const Value& start) {
  Value acc = start;
  for (const Value& v : values) acc = acc + v;
  return acc;
}

// ---- backward ----------------------------------------------------------------------------------------
namespace {

// micrograd's build_topo, a depth-first search that appends a node after all its children:
//   def build_topo(v):
//     if v not in visited:
//       visited.add(v)
//       for child in v._prev: build_topo(child)
//       topo.append(v)
// Written with an explicit stack (a deep graph would overflow the call stack), and with a pass
// number stored in each node instead of a `visited` set: a node is visited when its stamp is this
// pass's number.
void build_topo(Node* root, std::vector<Node*>& topo) {
  static uint32_t pass = 0;
  if (++pass == 0) {  // 2^32 sorts later the stamps wrap around: clear every node's, start at 1
    pool.clear_visits();
    pass = 1;
  }
  struct Frame {
    Node* node;
    int next_child;  // 0, 1, or 2 when both children are done
  };
  static std::vector<Frame>& stack = *new std::vector<Frame>();  // reused: no allocation per call
  topo.clear();
  root->visit = pass;
  stack.push_back({root, 0});
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next_child == 2) {
      topo.push_back(f.node);
      stack.pop_back();
      continue;
    }
    Node* child = f.node->children[f.next_child++];
    if (child != nullptr && child->visit != pass) {
      child->visit = pass;
      stack.push_back({child, 0});  // may move `f`: not used again this iteration
    }
  }
}

}  // namespace

std::vector<Value> Value::topological_order() const {
  std::vector<Node*> topo;
  build_topo(node_, topo);
  std::vector<Value> out;
  out.reserve(topo.size());
  for (Node* n : topo) out.push_back(Value(n));
  return out;
}

void Value::backward() {
  static std::vector<Node*>& topo = *new std::vector<Node*>();  // reused: no allocation per step
  build_topo(node_, topo);
  // go one node at a time, from the output back, and apply the chain rule to get its children's grads
  node_->grad = 1.0;
  for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
    Node& n = **it;
    if (n.op != nullptr) n.op->backward(n);
  }
}

// ---- printing -----------------------------------------------------------------------------------------

std::string repr(const Value& v) { return "Value(data=" + py_repr(v.data()) + ")"; }

}  // namespace micrograd
