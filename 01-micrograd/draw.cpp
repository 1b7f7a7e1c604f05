#include "draw.hpp"

#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace micrograd {

std::string op_label(const Value& v) {
  std::string op = v.op();
  if (op != "**") return op;
  const double n = v.exponent();
  // The lecture's exponents are Python ints (x**2, x**-1): written without ".0".
  if (n == std::floor(n) && std::abs(n) < 1e15) return op + std::to_string(static_cast<long long>(n));
  return op + py_repr(n);
}

z2h::plot::Graph to_graph(const Value& root) {
  // def trace(root): builds a set of all nodes and edges in a graph
  std::vector<Value> nodes;
  std::vector<std::pair<Value, Value>> edges;  // (child, parent)
  std::unordered_map<const Node*, std::string> ids;
  std::vector<Value> stack = {root};
  while (!stack.empty()) {
    Value v = stack.back();
    stack.pop_back();
    if (!ids.emplace(v.id(), std::to_string(nodes.size())).second) continue;  // seen already
    nodes.push_back(v);
    std::vector<Value> children = v.children();
    for (const Value& child : children) edges.emplace_back(child, v);
    for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(*it);  // left first
  }

  z2h::plot::Graph g;
  for (const Value& n : nodes) {
    // for any value in the graph, create a rectangular ('record') node for it
    char label[512];
    std::snprintf(label, sizeof label, "{ %s | data %.4f | grad %.4f }", n.label().c_str(), n.data(), n.grad());
    const std::string& uid = ids[n.id()];
    g.nodes.push_back({uid, label, true});
    // if this value is a result of some operation, create an op node for it, and connect to it
    if (!std::string(n.op()).empty()) {
      g.nodes.push_back({uid + n.op(), op_label(n), false});
      g.edges.push_back({uid + n.op(), uid});
    }
  }
  // connect n1 to the op node of n2 (each pair once, as micrograd's edge set: a + a has one arrow)
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& [child, parent] : edges) {
    std::pair<std::string, std::string> e{ids[child.id()], ids[parent.id()] + parent.op()};
    if (seen.insert(e).second) g.edges.push_back({e.first, e.second});
  }
  return g;
}

void draw_dot(const Value& root, const std::filesystem::path& png) { z2h::plot::draw_dot(png, to_graph(root)); }

}  // namespace micrograd
