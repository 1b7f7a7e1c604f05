// common/tensor/autograd.cpp — the engine: grad mode, backward(), and how ops join the graph.
#include "common/tensor/autograd.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

namespace z2h {

// ================================================================================================
// Grad mode
// ================================================================================================
namespace {
thread_local bool g_grad_enabled = true;
}
bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : prev_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = prev_; }

// ================================================================================================
// backward(): micrograd's algorithm. Build a topological order of the nodes that need a gradient
// (children before parents), then walk it in reverse, calling each node's backward rule. Rules
// accumulate (+=) into their inputs' grads, so a tensor used twice receives both contributions.
// ================================================================================================
namespace {
// Each backward marks the nodes it has visited with a number of its own. Per thread: threads that
// run backward at the same time (07-gpt's replicas) each walk a graph of their own.
thread_local uint32_t g_pass = 0;

void topo_sort(Node* root, std::vector<Node*>& order) {
  // Iterative depth-first search (graphs of long training loops can be deep).
  const uint32_t pass = ++g_pass;
  std::vector<std::pair<Node*, size_t>> stack;
  root->visit = pass;
  stack.emplace_back(root, 0);
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      Node* child = node->inputs[next++].node();
      if (child->requires_grad && child->backward_fn && child->visit != pass) {
        child->visit = pass;
        stack.emplace_back(child, 0);
      }
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
}
}  // namespace

void Tensor::backward() const {
  if (numel() != 1)
    throw std::invalid_argument("backward(): the tensor has shape " + shape().str() +
                                "; only a single-element loss can seed backward() (or pass grad_output)");
  backward(ones(shape()));
}

void Tensor::backward(const Tensor& grad_output) const {
  if (!n_) throw std::logic_error("tensor: use of an undefined Tensor (like Python's None)");
  Node& root = *n_;
  if (!root.requires_grad)
    throw std::logic_error("backward(): this tensor does not require grad (no parameter with "
                           "requires_grad_() led to it, or it was computed under NoGradGuard)");
  if (grad_output.shape() != root.shape)
    throw std::invalid_argument("backward(): grad_output has shape " + grad_output.shape().str() +
                                " but the tensor has shape " + root.shape.str());
  NoGradGuard no_graph_of_the_backward_pass;
  float* g = root.grad_data();
  const float* go = grad_output.data();
  for (int64_t i = 0, n = root.shape.numel(); i < n; ++i) g[i] += go[i];
  if (!root.backward_fn) return;  // a leaf: its grad is the seed

  thread_local std::vector<Node*> order;
  order.clear();
  topo_sort(n_, order);
  // PyTorch's engine runs the ready node created last first (its sequence number), so a tensor
  // used several times receives its gradients in that order; and the latest-created first is
  // always a topological order (a node is created after its inputs). Same order, same float sums.
  std::sort(order.begin(), order.end(), [](const Node* a, const Node* b) { return a->seq < b->seq; });
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    if (!node->grad.defined()) continue;  // nothing flowed here
    node->backward_fn(*node);
    if (!node->retains_grad) node->grad = Tensor();  // intermediates' grads are freed, as in PyTorch
    node->release_saved();                           // and so is what the node saved for backward
  }
}

// ================================================================================================
// make_result: how every op allocates its output and (maybe) joins the graph.
// ================================================================================================

void join_graph(Node& n, std::vector<Tensor> inputs, BackwardFn fn) {
  n.requires_grad = true;
  n.backward_fn = fn;
  n.inputs = std::move(inputs);
  for (const Tensor& in : n.inputs)
    if (in.defined()) ++in.node()->edges;
}

Tensor make_result(Shape s, const char* op, const std::vector<Tensor>& inputs, BackwardFn fn) {
  Tensor out = empty(s);
  Node* n = out.node();
  n->op = op;
  if (!g_grad_enabled) return out;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) {
      join_graph(*n, inputs, fn);
      break;
    }
  return out;
}
Tensor make_result(Shape s, const char* op, std::initializer_list<Tensor> inputs, BackwardFn fn) {
  return make_result(s, op, std::vector<Tensor>(inputs), fn);
}

namespace {
template <class Tensors>
void save_all(const Tensor& out, const Tensors& tensors) {
  Node& n = *out.node();
  if (!n.backward_fn) return;  // not in the graph: nothing to keep
  for (const Tensor& t : tensors) {
    if (t.node() == &n) n.saved_output = true;  // (a handle would keep the node alive forever)
    else if (t.node()->recompute) {             // a recipe: a handle that counts as an edge
      ++t.node()->edges;
      n.saved_recomputed.push_back(t);
    } else n.saved_inputs.push_back(t);
  }
}
}  // namespace

void save_for_backward(const Tensor& out, std::initializer_list<Tensor> tensors) { save_all(out, tensors); }
void save_for_backward(const Tensor& out, const std::vector<Tensor>& tensors) { save_all(out, tensors); }

}  // namespace z2h
