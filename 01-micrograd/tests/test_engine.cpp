// The Value engine: micrograd's own tests, every op against central finite differences, node reuse,
// the documented behaviour of a second backward(), handles, and Python's float printing.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "engine.hpp"
#include "support.hpp"

using namespace micrograd;

// ---- micrograd's test/test_engine.py (numbers from micrograd and PyTorch, both in double) ---------
TEST_CASE("micrograd test_sanity_check: y = -20, x.grad = 46 exactly", "[engine][micrograd]") {
  Value x(-4.0);
  Value z = 2 * x + 2 + x;
  Value q = z.relu() + z * x;
  Value h = (z * z).relu();
  Value y = h + q + q * x;
  y.backward();
  CHECK(y.data() == -20.0);
  CHECK(x.grad() == 46.0);
}

TEST_CASE("micrograd test_more_ops: g = 24.70408163265306, a.grad and b.grad to the last bit", "[engine][micrograd]") {
  Value a(-4.0);
  Value b(2.0);
  Value c = a + b;
  Value d = a * b + b.pow(3);
  c = c + (c + 1);            // c += c + 1
  c = c + (1 + c + (-a));     // c += 1 + c + (-a)
  d = d + (d * 2 + (b + a).relu());
  d = d + (3 * d + (b - a).relu());
  Value e = c - d;
  Value f = e.pow(2);
  Value g = f / 2.0;
  g = g + 10.0 / f;
  g.backward();
  // micrograd checks these against PyTorch to 1e-6; op for op as Python, they agree exactly
  CHECK(g.data() == 24.70408163265306);
  CHECK(a.grad() == 138.83381924198252);
  CHECK(b.grad() == 645.5772594752186);
}

// ---- every op against central finite differences ------------------------------------------------------
namespace {

// d/dx of fn at x, (fn(x+h) - fn(x-h)) / 2h, against the gradient backward() finds.
void check_unary(const std::string& name, const std::function<Value(const Value&)>& fn, double x) {
  Value v(x);
  Value out = fn(v);
  out.backward();
  const double h = 1e-6;
  const double numeric = (fn(Value(x + h)).data() - fn(Value(x - h)).data()) / (2 * h);
  INFO(name << " at x = " << x << ": backward " << v.grad() << ", central difference " << numeric);
  CHECK(v.grad() == Approx(numeric).epsilon(1e-6).margin(1e-8));
}

void check_binary(const std::string& name, const std::function<Value(const Value&, const Value&)>& fn, double x,
                  double y) {
  Value a(x), b(y);
  fn(a, b).backward();
  const double h = 1e-6;
  const double da = (fn(Value(x + h), Value(y)).data() - fn(Value(x - h), Value(y)).data()) / (2 * h);
  const double db = (fn(Value(x), Value(y + h)).data() - fn(Value(x), Value(y - h)).data()) / (2 * h);
  INFO(name << " at (" << x << ", " << y << "): backward (" << a.grad() << ", " << b.grad() << "), central (" << da
            << ", " << db << ")");
  CHECK(a.grad() == Approx(da).epsilon(1e-6).margin(1e-8));
  CHECK(b.grad() == Approx(db).epsilon(1e-6).margin(1e-8));
}

}  // namespace

TEST_CASE("every unary op's gradient matches a central finite difference", "[engine][gradcheck]") {
  for (double x : {-2.5, -0.3, 0.7, 1.9}) {
    check_unary("exp", [](const Value& v) { return v.exp(); }, x);
    check_unary("tanh", [](const Value& v) { return v.tanh(); }, x);
    check_unary("relu", [](const Value& v) { return v.relu(); }, x);
    check_unary("neg", [](const Value& v) { return -v; }, x);
    check_unary("pow 2", [](const Value& v) { return v.pow(2); }, x);
    check_unary("pow 3", [](const Value& v) { return v.pow(3); }, x);
    check_unary("pow -1", [](const Value& v) { return v.pow(-1); }, x);
    check_unary("x + 2", [](const Value& v) { return v + 2.0; }, x);
    check_unary("2 + x", [](const Value& v) { return 2.0 + v; }, x);
    check_unary("x - 2", [](const Value& v) { return v - 2.0; }, x);
    check_unary("2 - x", [](const Value& v) { return 2.0 - v; }, x);
    check_unary("x * 3", [](const Value& v) { return v * 3.0; }, x);
    check_unary("3 * x", [](const Value& v) { return 3.0 * v; }, x);
    check_unary("x / 4", [](const Value& v) { return v / 4.0; }, x);
    check_unary("4 / x", [](const Value& v) { return 4.0 / v; }, x);
  }
  for (double x : {0.3, 1.7, 4.0}) {  // defined for x > 0 only
    check_unary("log", [](const Value& v) { return v.log(); }, x);
    check_unary("pow 0.5", [](const Value& v) { return v.pow(0.5); }, x);
    check_unary("pow 2.5", [](const Value& v) { return v.pow(2.5); }, x);
  }
}

TEST_CASE("every binary op's gradients match central finite differences", "[engine][gradcheck]") {
  for (auto [x, y] : {std::pair{1.5, -0.5}, std::pair{-2.0, 3.0}, std::pair{0.25, 4.0}}) {
    check_binary("a + b", [](const Value& a, const Value& b) { return a + b; }, x, y);
    check_binary("a - b", [](const Value& a, const Value& b) { return a - b; }, x, y);
    check_binary("a * b", [](const Value& a, const Value& b) { return a * b; }, x, y);
    check_binary("a / b", [](const Value& a, const Value& b) { return a / b; }, x, y);
    check_binary("tanh(a*b + a)", [](const Value& a, const Value& b) { return (a * b + a).tanh(); }, x, y);
  }
}

TEST_CASE("relu passes gradient only where its output is positive", "[engine]") {
  Value a(-1.0), b(0.0), c(2.0);
  for (Value* v : {&a, &b, &c}) v->relu().backward();
  CHECK(a.grad() == 0.0);
  CHECK(b.grad() == 0.0);  // relu(0) = 0: micrograd's (out.data > 0) is false
  CHECK(c.grad() == 1.0);
}

TEST_CASE("tanh is safe for large inputs: 1 and -1, gradient 0, never nan", "[engine]") {
  for (double x : {20.5, 400.0, 1e300}) {
    Value p(x), n(-x);
    Value tp = p.tanh(), tn = n.tanh();
    tp.backward();
    tn.backward();
    CHECK(tp.data() == 1.0);
    CHECK(tn.data() == -1.0);
    CHECK(p.grad() == 0.0);
    CHECK(n.grad() == 0.0);
  }
  // and below the cut-off it is the lecture's (e^2x - 1)/(e^2x + 1), continuous with it
  CHECK(Value(19.9).tanh().data() == 1.0);
  CHECK(Value(0.8813735870195432).tanh().data() == 0.7071067811865476);
}

// ---- node reuse: gradients accumulate ------------------------------------------------------------------
TEST_CASE("b = a + a accumulates into a twice: a.grad == 2", "[engine][reuse]") {
  Value a(3.0, "a");
  Value b = a + a;
  b.backward();
  CHECK(b.data() == 6.0);
  CHECK(a.grad() == 2.0);
}

TEST_CASE("d = a*b, e = a + b, f = d*e at a = -2, b = 3: a.grad = -3, b.grad = -8", "[engine][reuse]") {
  Value a(-2.0, "a"), b(3.0, "b");
  Value d = a * b, e = a + b;
  Value f = d * e;
  f.backward();
  CHECK(f.data() == -6.0);
  CHECK(a.grad() == -3.0);
  CHECK(b.grad() == -8.0);
}

TEST_CASE("a * a gives 2a: both operands are the same node", "[engine][reuse]") {
  Value a(-1.5);
  (a * a).backward();
  CHECK(a.grad() == -3.0);
}

// ---- the documented semantics of backward() ---------------------------------------------------------------
TEST_CASE("a second backward() adds again: intermediate grads are stale, so L=(a*b)*c gives a.grad 3bc", "[engine]") {
  Value a(2.0), b(-3.0), c(5.0);
  Value ab = a * b;
  Value L = ab * c;
  L.backward();
  CHECK(a.grad() == -3.0 * 5.0);  // b*c
  CHECK(ab.grad() == 5.0);
  L.backward();
  CHECK(L.grad() == 1.0);           // the output is reset to 1, not accumulated
  CHECK(ab.grad() == 10.0);         // c + c
  CHECK(a.grad() == 3 * -3.0 * 5.0);  // bc + b*(2c)
}

TEST_CASE("zeroing every grad of the graph makes a second backward() give the same grads", "[engine]") {
  Value a(2.0), b(-3.0), c(5.0);
  Value L = (a * b) * c;
  L.backward();
  const double first = a.grad();
  for (Value& v : L.topological_order()) v.grad() = 0.0;
  L.backward();
  CHECK(a.grad() == first);
}

TEST_CASE("topological order puts every node after its children, left operand first", "[engine]") {
  Value a(1.0, "a"), b(2.0, "b");
  Value c = a * b;
  c.set_label("c");
  Value d = c + a;
  d.set_label("d");
  std::vector<std::string> labels;
  for (const Value& v : d.topological_order()) labels.push_back(v.label());
  CHECK(labels == std::vector<std::string>{"a", "b", "c", "d"});
}

TEST_CASE("a graph a million nodes deep runs backward and is freed without recursion", "[engine]") {
  Value x(1.0);
  Value acc = x;
  for (int i = 0; i < 1000000; ++i) acc = acc + x;
  acc.backward();
  CHECK(acc.data() == 1000001.0);
  CHECK(x.grad() == 1000001.0);
}  // acc's destructor releases the whole chain here

// ---- handles, ops and their graph shape ------------------------------------------------------------------
TEST_CASE("a Value is a handle: copies share one node", "[engine]") {
  Value w(0.5, "w");
  Value p = w;
  p.data() = 2.0;
  p.grad() = 7.0;
  CHECK(w.data() == 2.0);
  CHECK(w.grad() == 7.0);
  CHECK(p.id() == w.id());
  CHECK(Value(0.5).id() != w.id());
}

TEST_CASE("numbers become leaves where micrograd puts them", "[engine]") {
  Value a(5.0, "a");
  auto shape = [](const Value& v) {
    std::string s = v.op();
    for (const Value& c : v.children()) s += " " + (c.label().empty() ? py_repr(c.data()) : c.label());
    return s;
  };
  CHECK(shape(a + 2.0) == "+ a 2.0");
  CHECK(shape(2.0 + a) == "+ a 2.0");    // __radd__: a + 2
  CHECK(shape(a * 3.0) == "* a 3.0");
  CHECK(shape(3.0 * a) == "* a 3.0");    // __rmul__
  CHECK(shape(-a) == "* a -1.0");        // __neg__: a * -1
  CHECK(shape(a - 2.0) == "+ a -2.0");   // a + (-2)
  CHECK(shape(a / 4.0) == "* a 0.25");   // a * 4**-1
  CHECK(shape(a.pow(2)) == "** a");
  CHECK((2.0 - a).children()[1].data() == 2.0);   // __rsub__: (-a) + 2
  CHECK((2.0 / a).children()[0].op() == std::string("**"));  // __rtruediv__: a**-1 * 2
  CHECK(a.op() == std::string());
  CHECK(a.children().empty());
}

TEST_CASE("sum() is Python's: a left fold from the start value", "[engine]") {
  std::vector<Value> xs = {Value(1.0), Value(2.0), Value(3.0)};
  Value s = sum(xs);
  CHECK(s.data() == 6.0);
  // ((0 + x0) + x1) + x2, and 0 + x0 is x0 + Value(0) (Python's __radd__)
  CHECK(s.children()[1].id() == xs[2].id());
  CHECK(s.children()[0].children()[0].children()[0].id() == xs[0].id());
  Value b(10.0);
  Value t = sum(xs, b);  // Neuron's sum(wx, self.b)
  CHECK(t.data() == 16.0);
  CHECK(t.children()[0].children()[0].children()[0].id() == b.id());
  CHECK(sum({}).data() == 0.0);
}

TEST_CASE("repr and py_repr print floats as Python does", "[engine][print]") {
  CHECK(repr(Value(-8.0)) == "Value(data=-8.0)");
  CHECK(py_repr(20.0) == "20.0");
  CHECK(py_repr(0.1) == "0.1");
  CHECK(py_repr(-7.286496) == "-7.286496");
  CHECK(py_repr(2.999378523327323e-06) == "2.999378523327323e-06");
  CHECK(py_repr(0.0001) == "0.0001");
  CHECK(py_repr(0.00001) == "1e-05");
  CHECK(py_repr(1e16) == "1e+16");
  CHECK(py_repr(1234567890123456.0) == "1234567890123456.0");
  CHECK(py_repr(1.5e300) == "1.5e+300");
  CHECK(py_repr(56.99999999999999) == "56.99999999999999");
  CHECK(py_repr(0.010978370135492717) == "0.010978370135492717");
  CHECK(py_repr(-0.0) == "-0.0");
  CHECK(py_repr(INFINITY) == "inf");
  CHECK(py_repr(-INFINITY) == "-inf");
  CHECK(py_repr(NAN) == "nan");
}
