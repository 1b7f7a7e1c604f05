#pragma once
// The lecture's draw_dot: a picture of the graph behind a Value. Every Value is a record
// { label | data 2.0000 | grad 0.0000 }; the op that made it is a small oval feeding into it.
//
//   draw_dot(L, "out/01-micrograd/expression.png");
//
// The nodes are listed in the order a depth-first search from the output meets them (left operand
// first), so the layout is the same at every run; micrograd iterates Python sets, whose order
// changes from run to run.
#include <filesystem>

#include "common/plot/graph.hpp"
#include "engine.hpp"

namespace micrograd {

// trace(root) + the node and edge list of draw_dot, ready for z2h::plot::draw_dot.
z2h::plot::Graph to_graph(const Value& root);

// Renders to_graph(root) to a PNG (graphviz "dot" layout, left to right).
void draw_dot(const Value& root, const std::filesystem::path& png);

// The op as the graph shows it: "+", "*", "tanh", and "**2" / "**-1" / "**0.5" for pow (the
// exponent as Python's f'**{other}' writes an int or a float).
std::string op_label(const Value& v);

}  // namespace micrograd
