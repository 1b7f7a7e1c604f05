// Graphs rendered in-process by graphviz: gvContext, agmemread, gvLayout(..., "dot"), then
// gvRenderData(..., "png") into memory so the file is written atomically by us.
#include "common/plot/graph.hpp"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <memory>
#include <mutex>
#include <set>

#include "common/app/error.hpp"
#include "common/io/output.hpp"
#include "common/plot/plot.hpp"

namespace z2h::plot {

namespace {

// graphviz keeps its error handler and plugin registry in globals: one graph at a time.
std::mutex g_graphviz_mutex;
std::string g_messages;  // what graphviz reported while rendering the current graph

int collect_message(char* message) {
  g_messages += message;
  return 0;
}

// Appends `s` as a DOT quoted string: backslash and double quote escaped, nothing else changed.
void append_quoted(std::string& out, const std::string& s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// The first line graphviz printed, for a one-line error message.
std::string first_message() {
  std::string m = g_messages.substr(0, g_messages.find('\n'));
  return m.empty() ? "no details" : m;
}

// One graphviz context for the whole program, never freed: graphviz's pango plugin caches a
// pointer to the previous context's font name, so a second context would read freed memory.
GVC_t* context() {
  static GVC_t* gvc = gvContext();
  return gvc;
}

struct GraphDeleter {
  void operator()(Agraph_t* g) const { agclose(g); }
};

}  // namespace

std::string to_dot(const Graph& graph) {
  std::string dot = "digraph {\n\tgraph [rankdir=";
  append_quoted(dot, graph.rankdir);
  dot += " bgcolor=white]\n";
  for (const Node& n : graph.nodes) {
    dot += '\t';
    append_quoted(dot, n.id);
    dot += " [label=";
    append_quoted(dot, n.label);
    dot += n.record ? " shape=record]\n" : "]\n";
  }
  for (const Edge& e : graph.edges) {
    dot += '\t';
    append_quoted(dot, e.from);
    dot += " -> ";
    append_quoted(dot, e.to);
    dot += '\n';
  }
  return dot + "}\n";
}

void render_dot(const std::filesystem::path& png, const std::string& dot) {
  std::lock_guard<std::mutex> lock(g_graphviz_mutex);
  g_messages.clear();
  const agusererrf previous = agseterrf(&collect_message);  // keep graphviz off stderr
  struct Restore {
    agusererrf f;
    ~Restore() { agseterrf(f); }
  } restore{previous};

  GVC_t* gvc = context();
  std::unique_ptr<Agraph_t, GraphDeleter> g(agmemread(dot.c_str()));
  if (!g) throw UserError("graph for '" + png.string() + "' is not valid DOT: " + first_message());
  if (gvLayout(gvc, g.get(), "dot") != 0)
    throw UserError("graphviz could not lay out the graph for '" + png.string() + "': " + first_message());
  char* data = nullptr;
  unsigned int size = 0;
  const int failed = gvRenderData(gvc, g.get(), "png", &data, &size);
  std::unique_ptr<char, void (*)(char*)> owned(data, gvFreeRenderData);
  gvFreeLayout(gvc, g.get());
  if (failed || size == 0)
    throw UserError(
        "graphviz has no PNG renderer (install the Debian package libgvc6, with its "
        "plugins): " +
        first_message());
  write_file_atomic(png, std::string_view(data, size));
}

void draw_dot(const std::filesystem::path& png, const Graph& graph) {
  if (graph.nodes.empty())
    throw UserError("graph for '" + png.string() + "' has no nodes (add at least one)");
  std::set<std::string> ids;
  for (const Node& n : graph.nodes)
    if (!ids.insert(n.id).second)
      throw UserError("graph for '" + png.string() + "': node id '" + n.id + "' is used twice");
  for (const Edge& e : graph.edges)
    for (const std::string* end : {&e.from, &e.to})
      if (!ids.count(*end))
        throw UserError("graph for '" + png.string() + "': edge " + e.from + " -> " + e.to +
                        " names unknown node '" + *end + "'");
  render_dot(png, to_dot(graph));
}

}  // namespace z2h::plot
