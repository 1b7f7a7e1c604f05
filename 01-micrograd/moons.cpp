// demo.ipynb's training, line for line (the notebook's code is quoted in the comments).
#include "moons.hpp"

#include <utility>

#include "common/rng/np_random.hpp"
#include "common/rng/py_random.hpp"

namespace micrograd {

namespace {

// def loss(batch_size=None): the full batch through the model, the SVM loss plus L2, and accuracy.
std::pair<Value, double> loss(const MLP& model, const MoonsRun& run, double alpha) {
  // inputs = [list(map(Value, xrow)) for xrow in Xb]; scores = list(map(model, inputs))
  std::vector<Value> scores;
  scores.reserve(run.X.size());
  for (const auto& xrow : run.X) scores.push_back(model({Value(xrow[0]), Value(xrow[1])})[0]);

  // svm "max-margin" loss: losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(yb, scores)]
  std::vector<Value> losses;
  losses.reserve(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) losses.push_back((1.0 + static_cast<double>(-run.y[i]) * scores[i]).relu());
  // data_loss = sum(losses) * (1.0 / len(losses))
  Value data_loss = sum(losses) * (1.0 / static_cast<double>(losses.size()));

  // L2 regularization: reg_loss = alpha * sum((p*p for p in model.parameters()))
  std::vector<Value> squares;
  for (const Value& p : model.parameters()) squares.push_back(p * p);
  Value reg_loss = alpha * sum(squares);
  Value total_loss = data_loss + reg_loss;

  // also get accuracy: [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
  int correct = 0;
  for (size_t i = 0; i < scores.size(); ++i) correct += (run.y[i] > 0) == (scores[i].data() > 0);
  return {total_loss, static_cast<double>(correct) / static_cast<double>(scores.size())};
}

}  // namespace

MoonsRun setup_moons(const MoonsConfig& cfg, uint32_t seed) {
  // np.random.seed(1337); random.seed(1337)
  z2h::RandomState np_rng(seed);
  z2h::PyRandom py_rng(seed);

  // X, y = make_moons(n_samples=100, noise=0.1); y = y*2 - 1
  MoonsRun run;
  z2h::Moons moons = z2h::make_moons(cfg.n_samples, cfg.noise, np_rng);
  run.X = moons.X;
  for (int label : moons.y) run.y.push_back(label * 2 - 1);

  // model = MLP(2, [16, 16, 1])
  std::vector<int> nouts = cfg.hidden;
  nouts.push_back(1);
  run.model = MLP::micrograd(2, nouts, py_rng);
  return run;
}

void train_moons(MoonsRun& run, const MoonsConfig& cfg, const std::function<void(const MoonsStep&)>& on_step) {
  for (int64_t k = 0; k < cfg.steps; ++k) {
    // forward
    auto [total_loss, acc] = loss(run.model, run, cfg.alpha);
    // backward
    run.model.zero_grad();
    total_loss.backward();
    // update (sgd): learning_rate = 1.0 - 0.9*k/100
    const double learning_rate = cfg.lr_start - cfg.lr_decay * static_cast<double>(k) / static_cast<double>(cfg.steps);
    for (Value& p : run.model.parameters()) p.data() -= learning_rate * p.grad();

    run.steps.push_back({k, total_loss.data(), acc, learning_rate});
    if (on_step) on_step(run.steps.back());
  }
}

double score(const MLP& model, double x0, double x1) { return model({Value(x0), Value(x1)})[0].data(); }

}  // namespace micrograd
