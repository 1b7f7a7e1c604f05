// Checkpoints: C++ -> file -> C++, PyTorch -> file -> C++, C++ -> file -> PyTorch, and the errors.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "common/nn/checkpoint.hpp"
#include "common/app/error.hpp"
#include "common/rng/generator.hpp"
#include "common/tests/tensor_test_support.hpp"

using namespace z2h;
namespace fs = std::filesystem;

namespace {
fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("z2h_ckpt_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST_CASE("a module's parameters and buffers round-trip through a checkpoint", "[checkpoint]") {
  fs::path dir = temp_dir();
  Generator g(1);
  nn::Sequential a({nn::Linear(4, 3, true, g), nn::BatchNorm1d(3)});
  a.at<nn::BatchNorm1d>(1).running_mean.fill_(0.25f);
  save_checkpoint(dir / "m.safetensors", a, {{"stage", "test"}});
  nn::Sequential b({nn::Linear(4, 3, true, g), nn::BatchNorm1d(3)});
  Tensor w_before = b.at<nn::Linear>(0).weight;
  Metadata meta = load_checkpoint(dir / "m.safetensors", b);
  CHECK(meta.at("stage") == "test");
  Z2H_CHECK_CLOSE(a.at<nn::Linear>(0).weight, b.at<nn::Linear>(0).weight, 0.0, 0.0);
  Z2H_CHECK_CLOSE(full({3}, 0.25f), b.at<nn::BatchNorm1d>(1).running_mean, 0.0, 0.0);
  CHECK(w_before.node() == b.at<nn::Linear>(0).weight.node());  // loaded in place
  fs::remove_all(dir);
}

TEST_CASE("tensors saved by PyTorch load in C++", "[checkpoint][torch]") {
  auto t = load_tensors(std::string(Z2H_SOURCE_DIR) + "/common/tests/goldens/tensor_from_torch.safetensors");
  Z2H_CHECK_CLOSE(tensor({0, 0.5f, 1, 1.5f, 2, 2.5f}, {2, 3}), t.at("weight"), 0.0, 0.0);
  Z2H_CHECK_CLOSE(tensor({-1, 2.5f}), t.at("bias"), 0.0, 0.0);
  Generator g(2147483647);
  Z2H_CHECK_CLOSE(randn({27, 10}, g), t.at("emb"), 0.0, 0.0);
}

// Needs Debian's python3-torch, so it is hidden from the default run ([.] tag) and registered with
// ctest only when CMake found /usr/bin/python3 with torch (common/CMakeLists.txt): where it runs it
// can fail, and where torch is missing it is not counted as a pass.
TEST_CASE("a checkpoint written in C++ loads in PyTorch", "[.][checkpoint][needs-torch]") {
  fs::path dir = temp_dir();
  fs::path file = dir / "from_cpp.safetensors";
  save_checkpoint(file, {{"weight", tensor({0, 0.5f, 1, 1.5f, 2, 2.5f}, {2, 3})}, {"bias", tensor({-1, 2.5f})}},
                  {{"stage", "test"}});
  std::string cmd = "/usr/bin/python3 " + std::string(Z2H_SOURCE_DIR) + "/common/tests/check_checkpoint_in_torch.py " +
                    file.string();
  CHECK(std::system(cmd.c_str()) == 0);
  fs::remove_all(dir);
}

TEST_CASE("a mismatched, truncated or missing checkpoint is a clear error", "[checkpoint][errors]") {
  fs::path dir = temp_dir();
  save_checkpoint(dir / "small.safetensors", nn::NamedTensors{{"W", zeros({30, 100})}});
  Tensor W = zeros({30, 200});
  CHECK_THROWS_AS(load_checkpoint(dir / "small.safetensors", {{"W", W}}), UserError);
  CHECK_THROWS_WITH(load_checkpoint(dir / "small.safetensors", {{"W", W}}), Catch::Contains("200"));
  CHECK_THROWS_WITH(load_checkpoint(dir / "small.safetensors", {{"b", W}}), Catch::Contains("b"));
  CHECK_THROWS_AS(load_checkpoint(dir / "missing.safetensors", {{"W", W}}), UserError);
  {
    std::ifstream in(dir / "small.safetensors", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream out(dir / "cut.safetensors", std::ios::binary);
    out << bytes.substr(0, bytes.size() / 2);
  }
  CHECK_THROWS_AS(load_tensors(dir / "cut.safetensors"), UserError);
  fs::remove_all(dir);
}
