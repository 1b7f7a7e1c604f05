// Checkpoints in the safetensors format: byte-exact against the reference library's own test
// vectors, a file written by PyTorch (goldens/pytorch.safetensors), and every kind of broken file.
//
// Cross-check the other way (PyTorch reads what we write), by hand:
//   Z2H_SAFETENSORS_OUT=/tmp/z2h-cpp.safetensors build/release/bin/common_util_tests "*check-cpp*"
//   /usr/bin/python3 common/tests/safetensors_check.py check-cpp /tmp/z2h-cpp.safetensors
#include "common/io/safetensors.hpp"

#include "common/app/error.hpp"
#include "common/tests/util_test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace fs = std::filesystem;
using z2h::DType;
using z2h::NamedArray;
using z2h::UserError;
using z2h::test::read_bytes;
using z2h::test::TempDir;
using z2h::test::write_bytes;

namespace {

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &n, 8);
  return s;
}

std::string f32_bytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// A file from its parts: the header length, the header text, the data bytes.
std::string raw_file(const std::string& header, const std::string& data) { return le64(header.size()) + header + data; }

}  // namespace

TEST_CASE("safetensors: arrays, ints, scalars, empty arrays and metadata survive a round trip") {
  TempDir tmp;
  const std::vector<NamedArray> arrays = {
      {.name = "W", .shape = {2, 3}, .data = {1.5f, -2.0f, 0.1f, 1e-45f, -0.0f, 3.4e38f}},
      {.name = "bias", .shape = {3}, .data = {0, 1, 2}},
      {.name = "num_batches_tracked", .shape = {}, .dtype = DType::I64, .ints = {12345678901}},
      {.name = "counts", .shape = {2}, .dtype = DType::I64, .ints = {-1, int64_t{1} << 62}},
      {.name = "nothing", .shape = {0, 4}},
  };
  const auto path = tmp / "model.safetensors";
  z2h::save_safetensors(path, arrays, {{"stage", "03-mlp"}, {"vocab", ".abc"}});
  const auto file = z2h::load_safetensors(path);
  CHECK(file.path == path.string());
  CHECK(file.metadata == std::map<std::string, std::string>{{"stage", "03-mlp"}, {"vocab", ".abc"}});
  REQUIRE(file.arrays.size() == 5);
  // Sorted by name on reading.
  CHECK(file.arrays[0].name == "W");
  CHECK(file.arrays[1].name == "bias");
  CHECK(file.arrays[2].name == "counts");
  for (const auto& want : arrays) {
    const auto& got = file.get(want.name, want.shape, want.dtype);
    INFO(want.name);
    CHECK(got.data == want.data);
    CHECK(got.ints == want.ints);
  }
  CHECK(std::signbit(file.get("W", {2, 3}).data[4]));  // -0.0 stays negative
  CHECK(file.get("num_batches_tracked", {}, DType::I64).numel() == 1);
  CHECK(file.get("nothing", {0, 4}).numel() == 0);
}

TEST_CASE("safetensors: byte-identical to the reference library's test vectors") {
  // From huggingface/safetensors, safetensors/src/tensor.rs: test_serialization,
  // test_serialization_forced_alignement and test_empty.
  TempDir tmp;
  const std::vector<float> values = {0, 1, 2, 3, 4, 5};
  z2h::save_safetensors(tmp / "a", {{.name = "attn.0", .shape = {1, 2, 3}, .data = values}});
  CHECK(read_bytes(tmp / "a") ==
        raw_file(R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})", f32_bytes(values)));

  z2h::save_safetensors(tmp / "b", {{.name = "attn0", .shape = {1, 1, 2, 3}, .data = values}});
  CHECK(read_bytes(tmp / "b") ==  // 7 spaces pad the header to 72 bytes, so the data is 8-byte aligned
        raw_file(R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       )", f32_bytes(values)));

  z2h::save_safetensors(tmp / "c", {});
  CHECK(read_bytes(tmp / "c") == raw_file("{}      ", ""));
  z2h::save_safetensors(tmp / "d", {}, {{"framework", "pt"}});
  CHECK(read_bytes(tmp / "d") == raw_file(R"({"__metadata__":{"framework":"pt"}}     )", ""));
  CHECK(z2h::load_safetensors(tmp / "d").metadata.at("framework") == "pt");
}

TEST_CASE("safetensors: data is laid out like the reference library: int64 first, then by name") {
  TempDir tmp;
  z2h::save_safetensors(tmp / "m", {{.name = "b", .shape = {1}, .data = {2}},
                                    {.name = "a", .shape = {1}, .data = {1}},
                                    {.name = "n", .shape = {}, .dtype = DType::I64, .ints = {7}}});
  const std::string header =
      R"({"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
      R"("a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})";
  const int64_t seven = 7;
  const std::string n_bytes(reinterpret_cast<const char*>(&seven), 8);
  CHECK(read_bytes(tmp / "m") == raw_file(header + std::string((8 - header.size() % 8) % 8, ' '),
                                          n_bytes + f32_bytes({1}) + f32_bytes({2})));
}

TEST_CASE("safetensors: reads the golden file written by PyTorch exactly") {
  // Made by: /usr/bin/python3 common/tests/safetensors_check.py write-golden common/tests/goldens/pytorch.safetensors
  const auto file = z2h::load_safetensors(std::string(Z2H_SOURCE_DIR) + "/common/tests/goldens/pytorch.safetensors");
  CHECK(file.metadata == std::map<std::string, std::string>{{"source", "torch 1.13"}, {"vocab", ".abc"}});
  REQUIRE(file.arrays.size() == 5);

  const auto& weight = file.get("weight", {3, 4});  // torch.arange(12.) .reshape(3, 4) / 7
  for (int i = 0; i < 12; ++i) {
    INFO("weight[" << i << "]");
    CHECK(weight.data[i] == static_cast<float>(i) / 7.0f);
  }
  const auto& special = file.get("special", {7}).data;
  CHECK(special[0] == 0.0f);
  CHECK_FALSE(std::signbit(special[0]));
  CHECK(special[1] == 0.0f);
  CHECK(std::signbit(special[1]));
  CHECK(special[2] == std::numeric_limits<float>::infinity());
  CHECK(special[3] == -std::numeric_limits<float>::infinity());
  CHECK(special[4] == std::numeric_limits<float>::denorm_min());
  CHECK(special[5] == std::numeric_limits<float>::max());
  CHECK(std::isnan(special[6]));
  CHECK(file.get("step", {}, DType::I64).ints == std::vector<int64_t>{12345678901});
  CHECK(file.get("counts", {3}, DType::I64).ints == std::vector<int64_t>{-1, 0, int64_t{1} << 62});
  CHECK(file.get("empty", {0, 3}).data.empty());
}

TEST_CASE("safetensors: writes the file that safetensors_check.py check-cpp reads") {
  // The same arrays are built in safetensors_check.py; see the command at the top of this file.
  TempDir tmp;
  const char* env = std::getenv("Z2H_SAFETENSORS_OUT");
  const fs::path path = env != nullptr ? fs::path(env) : tmp / "cpp.safetensors";
  std::vector<float> W(20), b(5);
  for (int i = 0; i < 20; ++i) W[i] = static_cast<float>(i) * 0.25f - 2.0f;
  for (int i = 0; i < 5; ++i) b[i] = static_cast<float>(i + 1) / 3.0f;
  z2h::save_safetensors(path,
                        {{.name = "layer.W", .shape = {4, 5}, .data = W},
                         {.name = "layer.b", .shape = {5}, .data = b},
                         {.name = "bn.num_batches_tracked", .shape = {}, .dtype = DType::I64, .ints = {7}},
                         {.name = "big", .shape = {2}, .dtype = DType::I64, .ints = {-5, int64_t{1} << 40}}},
                        {{"stage", "test"}, {"vocab", ".abc"}});
  CHECK(z2h::load_safetensors(path).get("layer.W", {4, 5}).data == W);
}

TEST_CASE("safetensors: asking for a missing array or another shape names the mismatch") {
  TempDir tmp;
  z2h::save_safetensors(tmp / "m", {{.name = "C", .shape = {27, 2}, .data = std::vector<float>(54)}});
  const auto file = z2h::load_safetensors(tmp / "m");
  const std::string p = (tmp / "m").string();
  REQUIRE_THROWS_WITH(file.get("W1", {30, 200}),
                      "checkpoint '" + p + "' has no array 'W1' (was it saved by another stage or model?)");
  REQUIRE_THROWS_WITH(file.get("C", {27, 10}), "checkpoint '" + p +
                                                   "' has 'C' as F32 [27, 2], but this model needs F32 [27, 10] "
                                                   "(was it saved with other hyper-parameters?)");
  REQUIRE_THROWS_AS(file.get("C", {27, 2}, DType::I64), UserError);
}

TEST_CASE("safetensors: a missing file or a directory is a clear error") {
  TempDir tmp;
  REQUIRE_THROWS_WITH(z2h::load_safetensors(tmp / "nope.safetensors"),
                      "checkpoint '" + (tmp / "nope.safetensors").string() + "' not found (check the path)");
  REQUIRE_THROWS_WITH(z2h::load_safetensors(tmp.path()), Catch::Contains("is not a checkpoint file"));
  REQUIRE_THROWS_WITH(z2h::load_safetensors("/dev/zero"), Catch::Contains("is not a checkpoint file"));  // would never end
}

TEST_CASE("safetensors: every kind of corrupt file is a UserError naming the problem") {
  TempDir tmp;
  const auto path = tmp / "bad.safetensors";
  auto error_of = [&](const std::string& bytes) -> std::string {
    write_bytes(path, bytes);
    try {
      z2h::load_safetensors(path);
    } catch (const UserError& e) {
      return e.what();
    }
    return "(no error)";
  };
  const std::string four_floats = f32_bytes({1, 2, 3, 4});
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  REQUIRE(error_of(raw_file(ok, four_floats)) == "(no error)");

  CHECK_THAT(error_of("abc"), Catch::Contains("fewer than the 8-byte header length"));
  CHECK_THAT(error_of(""), Catch::Contains("it has 0 bytes"));
  CHECK_THAT(error_of(le64(1000) + "{}"), Catch::Contains("the header length says 1000 bytes but only 2 follow"));
  CHECK_THAT(error_of(le64(uint64_t{1} << 63) + "{}"), Catch::Contains("header length says"));
  CHECK_THAT(error_of(raw_file("{\"a\": [", "")), Catch::Contains("not a JSON object"));
  CHECK_THAT(error_of(raw_file("[1, 2]", "")), Catch::Contains("not a JSON object"));
  CHECK_THAT(error_of(raw_file("{\"a\": 1}", "")), Catch::Contains("needs dtype, shape and data_offsets"));
  CHECK_THAT(error_of(raw_file(R"({"a":{"dtype":"F32","shape":[2,2]}})", four_floats)),
             Catch::Contains("needs dtype, shape and data_offsets"));
  CHECK_THAT(error_of(raw_file(R"({"a":{"dtype":"F32","shape":[-2,2],"data_offsets":[0,16]}})", four_floats)),
             Catch::Contains("needs dtype, shape and data_offsets"));
  CHECK_THAT(error_of(raw_file(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0]}})", four_floats)),
             Catch::Contains("needs dtype, shape and data_offsets"));
  CHECK_THAT(error_of(raw_file(R"({"a":{"dtype":"F16","shape":[2,4],"data_offsets":[0,16]}})", four_floats)),
             Catch::Contains("array 'a' has dtype 'F16'; only F32 and I64 are supported"));
  CHECK_THAT(error_of(raw_file(R"({"__metadata__":{"n":1}})", "")), Catch::Contains("is not a string"));
  CHECK_THAT(error_of(raw_file(R"({"__metadata__":[1]})", "")), Catch::Contains("__metadata__ is not an object"));

  // Offsets and shapes that disagree.
  CHECK_THAT(error_of(raw_file(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,32]}})", four_floats)),
             Catch::Contains("data_offsets [0, 32] outside the 16 bytes of data"));
  CHECK_THAT(error_of(raw_file(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[16,0]}})", four_floats)),
             Catch::Contains("data_offsets [16, 0] outside"));
  CHECK_THAT(error_of(raw_file(R"({"a":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}})", four_floats)),
             Catch::Contains("has shape [3, 2] of F32 but data_offsets span 16 bytes"));
  CHECK_THAT(error_of(raw_file(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}})",
                               four_floats)),
             Catch::Contains("but data_offsets span 16 bytes"));  // the shape's byte count overflows 64 bits
  CHECK_THAT(error_of(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                               R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                               four_floats)),
             Catch::Contains("array 'b' overlaps the one before it"));
  CHECK_THAT(error_of(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", four_floats)),
             Catch::Contains("there are unused bytes before array 'a'"));
  CHECK_THAT(error_of(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", four_floats)),
             Catch::Contains("its arrays use 8 bytes of data but the file has 16"));
  CHECK_THAT(error_of(raw_file(ok, four_floats.substr(0, 12))), Catch::Contains("outside the 12 bytes of data"));

  CHECK_THAT(error_of("abc"), Catch::StartsWith("checkpoint '" + path.string() + "' is not a valid safetensors file: ") &&
                                  Catch::EndsWith("(is it truncated or corrupt? save it again)"));
}

TEST_CASE("safetensors: a file cut short at any byte, or with any header byte changed, never crashes") {
  TempDir tmp;
  const auto good = tmp / "good";
  z2h::save_safetensors(good, {{.name = "W", .shape = {3, 2}, .data = {1, 2, 3, 4, 5, 6}},
                               {.name = "n", .shape = {}, .dtype = DType::I64, .ints = {3}}},
                        {{"k", "v"}});
  const std::string bytes = read_bytes(good);
  const auto path = tmp / "bad";
  for (size_t len = 0; len < bytes.size(); ++len) {
    write_bytes(path, bytes.substr(0, len));
    INFO("cut at " << len << " of " << bytes.size());
    CHECK_THROWS_AS(z2h::load_safetensors(path), UserError);
  }
  uint64_t header_end = 0;
  std::memcpy(&header_end, bytes.data(), 8);
  header_end += 8;
  for (size_t i = 0; i < header_end; ++i) {
    for (char c : {'\0', '9', '"', '}', '\xFF'}) {
      std::string b = bytes;
      b[i] = c;
      write_bytes(path, b);
      INFO("byte " << i << " set to " << int(c));
      try {
        z2h::load_safetensors(path);  // some changes are harmless (a digit in a metadata string)
      } catch (const UserError&) {
      }
    }
  }
}

TEST_CASE("safetensors: arrays that are wrong in the program are bugs: std::invalid_argument") {
  TempDir tmp;
  const auto p = tmp / "x";
  CHECK_THROWS_AS(z2h::save_safetensors(p, {{.name = "W", .shape = {2, 2}, .data = {1, 2, 3}}}), std::invalid_argument);
  CHECK_THROWS_AS(z2h::save_safetensors(p, {{.name = "W", .shape = {1}, .data = {1}, .ints = {1}}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(z2h::save_safetensors(p, {{.name = "", .shape = {1}, .data = {1}}}), std::invalid_argument);
  CHECK_THROWS_AS(z2h::save_safetensors(p, {{.name = "__metadata__", .shape = {1}, .data = {1}}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(z2h::save_safetensors(p, {{.name = "W", .shape = {1}, .data = {1}},
                                            {.name = "W", .shape = {1}, .dtype = DType::I64, .ints = {1}}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(z2h::save_safetensors(p, {{.name = "W", .shape = {-1}, .data = {}}}), std::invalid_argument);
  CHECK_FALSE(fs::exists(p));
}

TEST_CASE("safetensors: an unwritable checkpoint path is a UserError and leaves nothing behind") {
  TempDir tmp;
  write_bytes(tmp / "file", "x");
  REQUIRE_THROWS_AS(z2h::save_safetensors(tmp / "file/model.safetensors", {}), UserError);
  REQUIRE_THROWS_AS(z2h::save_safetensors(tmp / "missing/model.safetensors", {}), UserError);
}
