// 01-micrograd — lecture 1, "The spelled-out intro to neural networks and backpropagation".
//
//   ./z2h run 01-micrograd                 every demo, in the lecture's order
//   ./z2h run 01-micrograd moons --seed 42 one demo (several may be named)
//
// Demos: derivative, expression, reuse, neuron, mlp, moons, exercises. The walkthrough is README.md.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "common/app/cli.hpp"
#include "common/app/error.hpp"
#include "common/io/output.hpp"
#include "common/plot/plot.hpp"
#include "common/rng/py_random.hpp"
#include "common/app/run_info.hpp"
#include "common/app/run_report.hpp"
#include "common/app/settings.hpp"
#include "draw.hpp"
#include "engine.hpp"
#include "lecture.hpp"
#include "moons.hpp"
#include "nn.hpp"

using namespace micrograd;
namespace fs = std::filesystem;

// ---- hyper-parameters (the lecture's; all but mlp_layers are flags) ----------------------------------------
struct Config {
  // the 4-example MLP of the first notebook: MLP(3, [4, 4, 1]), 20 steps of p.data += -0.1 * p.grad
  std::vector<int> mlp_layers = {4, 4, 1};
  int64_t mlp_steps = 20;
  double mlp_lr = 0.1;
  // the moons demo of demo.ipynb: make_moons(100, noise=0.1), MLP(2, [16, 16, 1]), SVM loss + 1e-4 L2,
  // 100 full-batch steps at learning_rate = 1.0 - 0.9*k/100
  MoonsConfig moons;
  double mesh_step = 0.25;  // h of the decision-boundary mesh
};
const uint64_t kLectureSeed = 1337;  // np.random.seed(1337); random.seed(1337)
const std::vector<std::string> kDemos = {"derivative", "expression", "reuse", "neuron", "mlp", "moons", "exercises"};

// Every setting as a flag (and as summary.json's "config"), each named once: here.
void declare(z2h::Settings& s, Config& cfg, z2h::CommonOptions& opt, std::vector<std::string>& demos) {
  s.record("steps", opt.steps);  // the moons demo's
  s.option("demos", demos, "demos to run (default: all): derivative expression reuse neuron mlp moons exercises")
      ->check(CLI::IsMember(kDemos));
  s.option("--n-samples", cfg.moons.n_samples, "moons: points in make_moons")->check(z2h::at_least(2));
  s.option("--noise", cfg.moons.noise, "moons: make_moons noise")->check(z2h::between(0, 10));
  s.option("--hidden", cfg.moons.hidden, "moons: hidden layer sizes, e.g. 16,16")->delimiter(',')->check(z2h::at_least(1));
  s.option("--alpha", cfg.moons.alpha, "moons: L2 regularisation strength")->check(z2h::between(0, 1e6));
  s.option("--lr", cfg.moons.lr_start, "moons: learning rate at step 0")->check(z2h::positive());
  s.option("--lr-decay", cfg.moons.lr_decay, "moons: learning_rate = lr - lr_decay * k / steps")
      ->check(z2h::between(0, 1e6));
  s.option("--mesh-step", cfg.mesh_step, "moons: step of the decision-boundary mesh")->check(z2h::between(0.01, 10));
  s.record("mlp_layers", cfg.mlp_layers);
  s.option("--mlp-steps", cfg.mlp_steps, "mlp: training steps")->check(z2h::at_least(0));
  s.option("--mlp-lr", cfg.mlp_lr, "mlp: learning rate")->check(z2h::positive());
}

namespace {

std::string fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

std::string list_repr(const std::vector<double>& xs) {
  std::string s = "[";
  for (size_t i = 0; i < xs.size(); ++i) s += (i ? ", " : "") + py_repr(xs[i]);
  return s + "]";
}

// ---- derivative: the slope of a function, numerically -------------------------------------------------
void demo_derivative(const fs::path& out) {
  std::cout << "\n== derivative: f(x) = 3*x**2 - 4*x + 5 ==\n";
  std::cout << "f(3.0) = " << py_repr(lecture::f(3.0)) << "\n";
  std::cout << "(f(x + h) - f(x))/h at x = 2/3, h = 0.000001: "
            << py_repr(lecture::forward_difference(lecture::f, 2.0 / 3, 0.000001)) << "  (the minimum: slope ~ 0)\n";

  // d = a*b + c: how much does d move when c moves a little?
  double h = 0.0001, a = 2.0, b = -3.0, c = 10.0;
  const double d1 = a * b + c;
  c += h;
  const double d2 = a * b + c;
  std::cout << "d = a*b + c, a = 2.0, b = -3.0, c = 10.0, bump c by h = 0.0001:\n";
  std::cout << "d1 " << py_repr(d1) << "\nd2 " << py_repr(d2) << "\nslope " << py_repr((d2 - d1) / h) << "\n";

  z2h::plot::Line curve;
  for (double x = -5; x < 5; x += 0.25) {  // np.arange(-5, 5, 0.25)
    curve.x.push_back(x);
    curve.y.push_back(lecture::f(x));
  }
  z2h::plot::lines(out / "derivative.png", {curve}, {.title = "f(x) = 3x² - 4x + 5", .xlabel = "x", .ylabel = "f(x)"});
  std::cout << "wrote " << (out / "derivative.png").string() << "\n";
}

// ---- expression: L = (a*b + c)*f, its graph, backward, one step ----------------------------------------
void demo_expression(const fs::path& out) {
  std::cout << "\n== expression: L = (a*b + c)*f ==\n";
  lecture::Expression x = lecture::expression();
  std::cout << "L = " << repr(x.L) << "  (e = " << py_repr(x.e.data()) << ", d = " << py_repr(x.d.data()) << ")\n";
  draw_dot(x.L, out / "expression.png");

  x.L.backward();
  std::cout << "after L.backward(): dL/dd = " << py_repr(x.d.grad()) << ", dL/df = " << py_repr(x.f.grad())
            << ", dL/dc = " << py_repr(x.c.grad()) << ", dL/de = " << py_repr(x.e.grad())
            << ", dL/da = " << py_repr(x.a.grad()) << ", dL/db = " << py_repr(x.b.grad()) << "\n";
  draw_dot(x.L, out / "expression_grad.png");

  // lol(): the same derivative, numerically
  const double h = 0.001;
  const double L1 = lecture::expression().L.data();
  const double L2 = lecture::expression(2.0, -3.0 + h).L.data();
  std::cout << "numerical dL/db, (L(b + h) - L(b))/h with h = 0.001: " << py_repr((L2 - L1) / h) << "\n";

  // one step of gradient ascent on L: nudge every leaf along its gradient
  for (Value* leaf : {&x.a, &x.b, &x.c, &x.f}) leaf->data() += 0.01 * leaf->grad();
  const Value e = x.a * x.b, d = e + x.c, L = d * x.f;
  std::cout << "after x.data += 0.01 * x.grad for a, b, c, f: L = " << py_repr(L.data()) << "\n";
  std::cout << "wrote " << (out / "expression.png").string() << " (before backward), "
            << (out / "expression_grad.png").string() << " (after)\n";
}

// ---- reuse: a node used twice must accumulate its gradients ------------------------------------------------
void demo_reuse(const fs::path& out) {
  std::cout << "\n== reuse: gradients accumulate (+=) ==\n";
  Value a(3.0, "a");
  Value b = a + a;
  b.set_label("b");
  b.backward();
  std::cout << "b = a + a, a = 3.0: a.grad = " << py_repr(a.grad()) << "  (with = instead of += it would be 1.0)\n";
  draw_dot(b, out / "reuse_a_plus_a.png");

  Value a2(-2.0, "a"), b2(3.0, "b");
  Value d = a2 * b2, e = a2 + b2;
  d.set_label("d");
  e.set_label("e");
  Value f = d * e;
  f.set_label("f");
  f.backward();
  std::cout << "d = a*b, e = a + b, f = d*e, a = -2.0, b = 3.0: f = " << py_repr(f.data())
            << ", a.grad = " << py_repr(a2.grad()) << ", b.grad = " << py_repr(b2.grad()) << "\n";
  draw_dot(f, out / "reuse_d_times_e.png");
  std::cout << "wrote " << (out / "reuse_a_plus_a.png").string() << ", " << (out / "reuse_d_times_e.png").string() << "\n";
}

// ---- neuron: o = tanh(x1*w1 + x2*w2 + b) -------------------------------------------------------------------------
void demo_neuron(const fs::path& out) {
  std::cout << "\n== neuron: o = tanh(x1*w1 + x2*w2 + b) ==\n";
  z2h::plot::Line curve;
  for (double x = -5; x < 5; x += 0.2) {  // plt.plot(np.arange(-5,5,0.2), np.tanh(np.arange(-5,5,0.2)))
    curve.x.push_back(x);
    curve.y.push_back(Value(x).tanh().data());
  }
  z2h::plot::lines(out / "tanh.png", {curve}, {.title = "tanh(x)", .xlabel = "x", .ylabel = "tanh(x)", .grid = true});

  lecture::NeuronExample x = lecture::neuron(false);
  draw_dot(x.o, out / "neuron_forward.png");  // the forward pass alone: every grad still 0
  x.o.backward();
  std::vector<double> topo;
  for (const Value& v : x.o.topological_order()) topo.push_back(v.data());
  std::cout << "topological order (data): " << list_repr(topo) << "\n";
  std::cout << "n = " << py_repr(x.n.data()) << ", o = " << py_repr(x.o.data())
            << ", 1 - o**2 = " << py_repr(1 - std::pow(x.o.data(), 2)) << "\n";
  std::cout << "x1.grad = " << py_repr(x.x1.grad()) << ", w1.grad = " << py_repr(x.w1.grad())
            << ", x2.grad = " << py_repr(x.x2.grad()) << ", w2.grad = " << py_repr(x.w2.grad())
            << "  (to 4 decimals: " << fixed(x.x1.grad(), 4) << ", " << fixed(x.w1.grad(), 4) << ", "
            << fixed(x.x2.grad(), 4) << ", " << fixed(x.w2.grad(), 4) << ")\n";
  draw_dot(x.o, out / "neuron.png");

  lecture::NeuronExample y = lecture::neuron(true);
  y.o.backward();
  std::cout << "tanh from exp, o = (e - 1)/(e + 1) with e = exp(2n): o = " << py_repr(y.o.data())
            << ", x1.grad = " << py_repr(y.x1.grad()) << ", w1.grad = " << py_repr(y.w1.grad())
            << ", x2.grad = " << py_repr(y.x2.grad()) << ", w2.grad = " << py_repr(y.w2.grad()) << "\n";
  draw_dot(y.o, out / "neuron_exp.png");
  std::cout << "wrote " << (out / "tanh.png").string() << ", " << (out / "neuron_forward.png").string()
            << " (before backward), " << (out / "neuron.png").string() << " (after), "
            << (out / "neuron_exp.png").string() << "\n";
}

// ---- mlp: MLP(3, [4, 4, 1]) on four examples, squared error ---------------------------------------------------
void demo_mlp(const Config& cfg, uint64_t seed) {
  std::cout << "\n== mlp: MLP(3, [4, 4, 1]) with tanh, four examples, sum of squared errors ==\n";
  z2h::PyRandom rng(seed);  // the lecture's random was unseeded: its numbers cannot be reproduced
  MLP n = MLP::lecture(3, cfg.mlp_layers, rng);
  std::cout << "n([2.0, 3.0, -1.0]) = " << repr(n({2.0, 3.0, -1.0})[0]) << ", "
            << n.parameters().size() << " parameters\n";

  const std::vector<std::vector<Value>> xs = {{2.0, 3.0, -1.0}, {3.0, -1.0, 0.5}, {0.5, 1.0, 1.0}, {1.0, 1.0, -1.0}};
  const std::vector<double> ys = {1.0, -1.0, -1.0, 1.0};  // desired targets
  std::vector<double> ypred_data;
  for (int64_t k = 0; k < cfg.mlp_steps; ++k) {
    // forward pass
    std::vector<Value> ypred, squared_errors;
    for (const auto& x : xs) ypred.push_back(n(x)[0]);
    for (size_t i = 0; i < ys.size(); ++i) squared_errors.push_back((ypred[i] - ys[i]).pow(2));
    Value loss = sum(squared_errors);
    // backward pass
    n.zero_grad();
    loss.backward();
    // update
    for (Value& p : n.parameters()) p.data() += -cfg.mlp_lr * p.grad();
    std::cout << k << " " << py_repr(loss.data()) << "\n";
    ypred_data.clear();
    for (const Value& y : ypred) ypred_data.push_back(y.data());
  }
  std::cout << "ypred (before the last update) = " << list_repr(ypred_data) << "\n";
}

// ---- moons: demo.ipynb -----------------------------------------------------------------------------------------------
MoonsRun demo_moons(const Config& cfg, const z2h::CommonOptions& opt, const fs::path& out, z2h::RunReport& report) {
  std::cout << "\n== moons: MLP(2, [16, 16, 1]) with ReLU, make_moons(" << cfg.moons.n_samples << ", noise="
            << py_repr(cfg.moons.noise) << "), SVM max-margin loss + " << py_repr(cfg.moons.alpha) << " L2 ==\n";
  MoonsRun run = setup_moons(cfg.moons, static_cast<uint32_t>(opt.seed));
  std::cout << "number of parameters " << run.model.parameters().size() << "\n";

  // the data, as the notebook's first scatter: plt.scatter(X[:,0], X[:,1], c=y, s=20, cmap='jet')
  z2h::plot::Points points;
  for (size_t i = 0; i < run.X.size(); ++i) {
    points.x.push_back(run.X[i][0]);
    points.y.push_back(run.X[i][1]);
    points.value.push_back(run.y[i]);
  }
  points.cmap = z2h::plot::Colormap::jet;
  points.size = 20;
  z2h::plot::scatter(out / "moons.png", points, {.title = "make_moons(100, noise=0.1), y = -1 / +1", .width = 500, .height = 500});

  report.start(cfg.moons.steps, {"step", "loss", "accuracy"}, "moons", {.every = 0});
  train_moons(run, cfg.moons, [&](const MoonsStep& st) {
    report.step(st.step, st.loss, {st.accuracy},
                "step " + std::to_string(st.step) + " loss " + py_repr(st.loss) + ", accuracy " +
                    py_repr(st.accuracy * 100) + "%");
  });
  report.stop();
  std::cout << report.speed() << "\n";

  // visualize decision boundary: the model's score on a mesh with step h, > 0 is class +1
  z2h::plot::Grid grid;
  double x_min = run.X[0][0], x_max = x_min, y_min = run.X[0][1], y_max = y_min;
  for (const auto& x : run.X) {
    x_min = std::min(x_min, x[0]), x_max = std::max(x_max, x[0]);
    y_min = std::min(y_min, x[1]), y_max = std::max(y_max, x[1]);
  }
  for (double x = x_min - 1; x < x_max + 1; x += cfg.mesh_step) grid.xs.push_back(x);
  for (double y = y_min - 1; y < y_max + 1; y += cfg.mesh_step) grid.ys.push_back(y);
  for (double y : grid.ys) {
    for (double x : grid.xs) grid.z.push_back(score(run.model, x, y) > 0 ? 1.0 : 0.0);
  }
  points.cmap = z2h::plot::Colormap::spectral;  // plt.scatter(X[:, 0], X[:, 1], c=y, s=40, cmap=plt.cm.Spectral)
  points.size = 40;
  z2h::plot::contourf(out / "moon_mlp.png", grid, points, {.title = "decision boundary after " +
                      std::to_string(cfg.moons.steps) + " steps"});
  std::cout << "wrote " << (out / "moons.png").string() << ", " << (out / "moon_mlp.png").string() << ", "
            << (out / "metrics.csv").string() << "\n";
  return run;
}

// ---- exercises: the lecture's Colab, with solutions ------------------------------------------------------------------
void print_check(const std::string& what, const std::vector<double>& expected, const std::vector<double>& yours,
                 double tolerance) {
  for (size_t dim = 0; dim < expected.size(); ++dim) {
    const bool ok = std::abs(yours[dim] - expected[dim]) < tolerance;
    std::cout << what << (ok ? " OK" : " WRONG!") << " for dim " << dim << ": expected " << py_repr(expected[dim])
              << ", yours returns " << py_repr(yours[dim]) << "\n";
  }
}

void demo_exercises() {
  std::cout << "\n== exercises: the lecture's Colab ==\n";
  // section 1: f(a, b, c) = -a**3 + sin(3*b) - 1.0/c + b**2.5 - a**0.5 and its gradient at (2, 3, 4)
  std::cout << "f(2, 3, 4) = " << py_repr(lecture::exercise_f(2, 3, 4)) << "\n";
  const std::vector<double> ans = {-12.353553390593273, 10.25699027111255, 0.0625};
  auto as_vec = [](const std::array<double, 3>& g) { return std::vector<double>(g.begin(), g.end()); };
  print_check("analytic", ans, as_vec(lecture::exercise_gradient(2, 3, 4)), 1e-5);
  print_check("forward difference", ans, as_vec(lecture::exercise_numerical_gradient(2, 3, 4, 0.000001, false)), 1e-5);
  print_check("central difference", ans, as_vec(lecture::exercise_numerical_gradient(2, 3, 4, 0.000001, true)), 1e-5);

  // section 2: softmax and the negative log likelihood of label 3
  std::vector<Value> logits = {Value(0.0), Value(3.0), Value(-2.0), Value(1.0)};
  std::vector<Value> probs = lecture::softmax(logits);
  Value loss = -probs[3].log();  // dim 3 acts as the label for this input example
  loss.backward();
  std::cout << "softmax + NLL, logits [0.0, 3.0, -2.0, 1.0], label 3: loss " << py_repr(loss.data()) << "\n";
  std::vector<double> grads;
  for (const Value& l : logits) grads.push_back(l.grad());
  print_check("softmax", {0.041772570515350445, 0.8390245074625319, 0.005653302662216329, -0.8864503806400986},
              grads, 1e-5);
}

int run(Config& cfg, const z2h::CommonOptions& opt, const z2h::Settings& settings, std::vector<std::string>& demos) {
  if (opt.seed > std::numeric_limits<uint32_t>::max()) {
    throw z2h::UserError("--seed must be at most 4294967295 here (numpy's np.random.seed takes 32 bits), got " +
                         std::to_string(opt.seed));
  }
  if (demos.empty()) demos = kDemos;
  const fs::path out = z2h::prepare_out_dir(opt.out);
  z2h::RunReport report(opt, settings, out);
  std::cout << z2h::run_header("01-micrograd", opt.seed, 1) << "\nout " << out.string() << "\n";
  auto wants = [&](const std::string& name) { return std::find(demos.begin(), demos.end(), name) != demos.end(); };
  if (wants("derivative")) demo_derivative(out);
  if (wants("expression")) demo_expression(out);
  if (wants("reuse")) demo_reuse(out);
  if (wants("neuron")) demo_neuron(out);
  if (wants("mlp")) demo_mlp(cfg, opt.seed);
  MoonsRun moons;
  if (wants("moons")) moons = demo_moons(cfg, opt, out, report);
  if (wants("exercises")) demo_exercises();

  // summary.json: the moons run's numbers (the only demo with metrics); zeros when it did not run
  const std::vector<MoonsStep>& steps = moons.steps;
  nlohmann::json loss = nlohmann::json::object();
  if (!steps.empty()) loss["train"] = steps.back().loss;
  report.summary.update({
      {"params", steps.empty() ? 0 : moons.model.parameters().size()},
      {"loss", loss},
      {"accuracy", steps.empty() ? nlohmann::json(nullptr) : nlohmann::json(steps.back().accuracy)},
      {"samples", nlohmann::json::array()},
      {"threads", 1},  // named for every stage; this one computes with scalars only
  });
  report.write();
  std::cout << "\nwrote " << (out / "summary.json").string() << "; total "
            << fixed(report.summary["wall_s"].get<double>(), 2) << " s\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"01-micrograd: a scalar autograd engine and a tiny neural net (lecture 1)"};
  z2h::CommonOptions opt{.stage = "01-micrograd", .seed = kLectureSeed};
  Config cfg;
  opt.steps = cfg.moons.steps;
  z2h::add_common_options(app, opt);
  std::vector<std::string> demos;
  z2h::Settings settings(app);
  declare(settings, cfg, opt, demos);
  return z2h::run_main(argc, argv, app, opt, [&] {
    cfg.moons.steps = opt.steps;
    return run(cfg, opt, settings, demos);
  });
}
