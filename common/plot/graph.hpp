#pragma once
// Computation graphs drawn with graphviz (libgvc, in-process): micrograd's draw_dot. Each value is
// a record node { label | data | grad }; the operation that made it is a small node linked into it.
//
//   plot::Graph g;
//   g.nodes = {{"a", "{ a | data 2.0000 | grad 0.0000 }", true},
//              {"c", "{ c | data -6.0000 | grad 0.0000 }", true},
//              {"c*", "*"}};
//   g.edges = {{"a", "c*"}, {"c*", "c"}};
//   plot::draw_dot("out/01/graph.png", g);
//
// Written to a temporary file and renamed into place, like every figure (see plot.hpp). Drawing
// is serialised by a lock: graphviz keeps global state.
#include <filesystem>
#include <string>
#include <vector>

namespace z2h::plot {

struct Node {
  std::string id{};     // unique name, never shown (micrograd uses str(id(value)))
  std::string label{};  // the text; for a record, DOT record syntax: "{ a | data 2.0000 | grad 0.0000 }"
  bool record = false;  // true: a box split into fields; false: an ellipse (micrograd's op nodes)
};

struct Edge {
  std::string from{}, to{};  // node ids
};

struct Graph {
  std::vector<Node> nodes{};
  std::vector<Edge> edges{};
  std::string rankdir = "LR";  // left to right, as micrograd draws
};

// The DOT text graphviz reads, the same as micrograd's graphviz.Digraph produces:
//   digraph { graph [rankdir=LR] "a" [label="{ a | data 2.0000 | grad 0.0000 }" shape=record] ... }
std::string to_dot(const Graph& graph);

// Lays out DOT text with the "dot" engine and writes it as PNG (96 dpi, white background).
// Invalid DOT throws UserError with graphviz's message.
void render_dot(const std::filesystem::path& png, const std::string& dot);

// render_dot(png, to_dot(graph)), after checking that every edge joins two known nodes.
void draw_dot(const std::filesystem::path& png, const Graph& graph);

}  // namespace z2h::plot
