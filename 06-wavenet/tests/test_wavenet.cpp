// Tests of stage 06-wavenet against PyTorch and the lecture notebook.
//
// The goldens in tests/goldens/ come from reference.py (each file records the command and the
// OpenBLAS kernel that made it):
//   OPENBLAS_NUM_THREADS=1 /usr/bin/python3 06-wavenet/reference.py --goldens 06-wavenet/tests/goldens
//   OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell /usr/bin/python3 06-wavenet/reference.py --goldens 06-wavenet/tests/goldens
// A run golden exists per kernel (default_2000_<kernel>.json, runs_<kernel>.json). On a kernel with
// its own golden the comparison is to the bit where the stage claims bits; on any other kernel the
// Prescott golden is used within the stated tolerance, and a WARN says so.
// names.txt must be present: run `data/fetch names.txt` (or ./z2h test) first.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "figures.hpp"
#include "wavenet.hpp"

#include "common/blas.hpp"
#include "common/generator.hpp"
#include "common/nn.hpp"
#include "common/ops.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace nn = z2h::nn;
using json = nlohmann::json;
using namespace stage06;
using z2h::LongTensor;
using z2h::Shape;
using z2h::Tensor;

namespace {

const fs::path kStageDir = fs::path(Z2H_SOURCE_DIR) / "06-wavenet";

json golden(const std::string& name) {
  std::ifstream f(kStageDir / "tests" / "goldens" / name);
  if (!f)
    FAIL("golden file 06-wavenet/tests/goldens/" << name
         << " is missing (regenerate: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 06-wavenet/reference.py --goldens "
            "06-wavenet/tests/goldens)");
  return json::parse(f);
}

// The run golden made with this machine's OpenBLAS kernel, or else the Prescott one (with a WARN).
json run_golden(const std::string& stem, bool* same_kernel) {
  const std::string core = z2h::blas::core_name();
  if (fs::exists(kStageDir / "tests" / "goldens" / (stem + "_" + core + ".json"))) {
    *same_kernel = true;
    return golden(stem + "_" + core + ".json");
  }
  *same_kernel = false;
  WARN("no " << stem << " golden for OpenBLAS kernel " << core << ": comparing with the Prescott one within tolerance");
  return golden(stem + "_Prescott.json");
}

// The lecture's data for a block size, loaded once each. A missing names.txt fails loudly.
const Data& names_data(int block_size = 8) {
  static std::map<int, Data*> cache;
  auto& d = cache[block_size];
  if (!d) {
    const fs::path path = fs::path(Z2H_DEFAULT_DATA_DIR) / "names.txt";
    if (!fs::exists(path)) FAIL("data file " << path.string() << " not found: run `data/fetch names.txt` (or ./z2h test) first");
    d = new Data(load_names(path.string(), block_size));
  }
  return *d;
}

Tensor from_json(const json& values, const json& shape) {
  std::vector<float> v;
  for (const auto& x : values) v.push_back(x.get<float>());
  return z2h::tensor(std::move(v), Shape(shape.get<std::vector<int64_t>>()));
}

LongTensor long_from_json(const json& values, const json& shape) {
  std::vector<int64_t> v;
  for (const auto& x : values) v.push_back(x.get<int64_t>());
  return LongTensor(std::move(v), Shape(shape.get<std::vector<int64_t>>()));
}

// Largest |a - b| over the elements, and whether all are equal to the bit.
struct Diff {
  double max_abs = 0;
  bool exact = true;
};
Diff compare(const Tensor& actual, const json& expected) {
  Diff d;
  REQUIRE(static_cast<size_t>(actual.numel()) == expected.size());
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const float a = actual.data()[i], e = expected[static_cast<size_t>(i)].get<float>();
    d.max_abs = std::max(d.max_abs, static_cast<double>(std::fabs(a - e)));
    d.exact = d.exact && a == e;
  }
  return d;
}

// Checks a tensor against a golden list: to the bit when `exact`, else within tol.
void check_tensor(const Tensor& actual, const json& expected, bool exact, double tol, const std::string& what) {
  const Diff d = compare(actual, expected);
  INFO(what << ": largest |C++ - PyTorch| = " << d.max_abs << (d.exact ? " (identical bits)" : ""));
  if (exact) CHECK(d.exact);
  else CHECK(d.max_abs <= tol);
}

// loss = sum(out * w); backward. The module goldens' d/dinput and d/dparameter come from this loss.
void backward_with(const Tensor& out, const json& w, const json& out_shape) {
  z2h::sum(out * from_json(w, out_shape)).backward();
}

// The parameters p0, p1, ... of a golden case copied into the module's tensors.
void set_params(const std::vector<Tensor>& params, const json& c) {
  for (size_t i = 0; i < params.size(); ++i) {
    const json& v = c["p" + std::to_string(i)];
    REQUIRE(static_cast<size_t>(params[i].numel()) == v.size());
    for (size_t k = 0; k < v.size(); ++k) params[i].data()[k] = v[k].get<float>();
  }
}

void check_param_grads(const std::vector<Tensor>& params, const json& c, bool exact, double tol) {
  for (size_t i = 0; i < params.size(); ++i)
    check_tensor(params[i].grad(), c["dp" + std::to_string(i)], exact, tol, "d parameter " + std::to_string(i));
}

// The product-free modules' bits do not depend on OpenBLAS; those with a matmul do.
bool golden_kernel_is_ours(const json& file) { return file["openblas_core"].get<std::string>() == z2h::blas::core_name(); }

}  // namespace

// ================================================================================================
// modules: forward and backward against PyTorch running the notebook's classes
// ================================================================================================
TEST_CASE("Linear (3-D and 2-D input, with and without bias) matches the notebook's class in PyTorch", "[modules][golden]") {
  const json file = golden("modules.json");
  const bool exact = golden_kernel_is_ours(file);
  for (const std::string name : {"linear_3d", "linear_2d_nobias"}) {
    const json& c = file["cases"][name];
    INFO(name);
    const bool bias = name == "linear_3d";
    nn::Linear lin(c["x_shape"].back().get<int64_t>(), c["out_shape"].back().get<int64_t>(), bias);
    set_params(lin.parameters(), c);
    Tensor x = from_json(c["x"], c["x_shape"]).requires_grad_();
    Tensor out = lin(x);
    check_tensor(out, c["out"], exact, 1e-6, "out");
    backward_with(out, c["w"], c["out_shape"]);
    check_tensor(x.grad(), c["dx"], exact, 1e-6, "dx");
    check_param_grads(lin.parameters(), c, exact, 1e-5);
  }
}

TEST_CASE("BatchNorm1d: forward, backward, running statistics and eval mode match the notebook's class", "[modules][golden]") {
  const json file = golden("modules.json");
  // name, fixed: batchnorm_3d reduces over dims (0, 1); _buggy is the video's first version (dim 0 only)
  for (const auto& [name, fixed] : std::vector<std::pair<std::string, bool>>{
           {"batchnorm_2d", true}, {"batchnorm_3d", true}, {"batchnorm_3d_buggy", false}}) {
    const json& c = file["cases"][name];
    INFO(name);
    const auto shape = c["x_shape"].get<std::vector<int64_t>>();
    BatchNorm1d bn(shape.back(), fixed, shape.size() == 3 ? shape[1] : 1);
    set_params(bn.parameters(), c);
    Tensor x = from_json(c["x"], c["x_shape"]).requires_grad_();
    Tensor out = bn(x);
    check_tensor(out, c["out"], true, 0, "out");
    backward_with(out, c["w"], c["out_shape"]);
    check_tensor(x.grad(), c["dx"], true, 0, "dx");
    check_param_grads(bn.parameters(), c, true, 0);
    {  // a second training call, then eval mode with the running buffers
      z2h::NoGradGuard no_grad;
      bn(from_json(c["x2"], c["x_shape"]));
      check_tensor(bn.running_mean, c["running_mean"], true, 0, "running_mean");
      check_tensor(bn.running_var, c["running_var"], true, 0, "running_var");
      CHECK(bn.running_mean.numel() == Shape(c["running_mean_shape"].get<std::vector<int64_t>>()).numel());
      bn.eval();
      check_tensor(bn(from_json(c["x_eval"], c["x_shape"])), c["out_eval"], true, 0, "eval-mode out");
    }
  }
}

TEST_CASE("Tanh, Embedding and FlattenConsecutive (with and without the squeeze) match PyTorch", "[modules][golden]") {
  const json file = golden("modules.json");
  SECTION("Tanh") {
    const json& c = file["cases"]["tanh"];
    nn::Tanh t;
    Tensor x = from_json(c["x"], c["x_shape"]).requires_grad_();
    Tensor out = t(x);
    check_tensor(out, c["out"], true, 0, "out");
    backward_with(out, c["w"], c["out_shape"]);
    check_tensor(x.grad(), c["dx"], true, 0, "dx");
  }
  SECTION("FlattenConsecutive") {
    for (const std::string name : {"flatten_consecutive_2", "flatten_consecutive_squeeze"}) {
      const json& c = file["cases"][name];
      INFO(name);
      const int64_t n = name == "flatten_consecutive_2" ? 2 : 4;
      nn::FlattenConsecutive f(n);
      Tensor x = from_json(c["x"], c["x_shape"]).requires_grad_();
      Tensor out = f(x);
      CHECK(out.shape().vec() == c["out_shape"].get<std::vector<int64_t>>());
      check_tensor(out, c["out"], true, 0, "out");
      backward_with(out, c["w"], c["out_shape"]);
      check_tensor(x.grad(), c["dx"], true, 0, "dx");
    }
  }
  SECTION("Embedding, with repeated indices (their gradients add up)") {
    const json& c = file["cases"]["embedding"];
    nn::Embedding e(7, 3);
    set_params(e.parameters(), c);
    Tensor out = e(long_from_json(c["x"], c["x_shape"]));
    CHECK(out.shape().vec() == c["out_shape"].get<std::vector<int64_t>>());
    check_tensor(out, c["out"], true, 0, "out");
    backward_with(out, c["w"], c["out_shape"]);
    check_param_grads(e.parameters(), c, true, 0);
  }
}

TEST_CASE("a small Sequential (Embedding, two FlattenConsecutive levels, BatchNorm1d on 3-D input) matches PyTorch",
          "[modules][golden]") {
  const json file = golden("modules.json");
  const json& c = file["cases"]["sequential"];
  nn::Sequential seq({nn::Embedding(7, 3), nn::FlattenConsecutive(2), nn::Linear(6, 4, false), BatchNorm1d(4), nn::Tanh(),
                      nn::FlattenConsecutive(2), nn::Linear(8, 5)});
  set_params(seq.parameters(), c);
  Tensor out = seq(long_from_json(c["x"], c["x_shape"]));
  CHECK(out.shape().vec() == c["out_shape"].get<std::vector<int64_t>>());
  const bool exact = golden_kernel_is_ours(file);
  check_tensor(out, c["out"], exact, 1e-6, "out");
  backward_with(out, c["w"], c["out_shape"]);
  check_param_grads(seq.parameters(), c, exact, 1e-5);
}
