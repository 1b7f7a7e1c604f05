#pragma once
// Checkpoints in the safetensors format (https://github.com/huggingface/safetensors), so that
// PyTorch can load what we train and we can load what PyTorch saved:
//
//   8 bytes    N, the header length, an unsigned little-endian integer
//   N bytes    JSON: {"__metadata__": {"stage": "03-mlp"},
//                     "C": {"dtype": "F32", "shape": [27, 10], "data_offsets": [0, 1080]}, ...}
//              padded with spaces to a multiple of 8 bytes
//   the rest   the arrays' raw little-endian bytes, back to back, row-major
//
// This is the raw layer: named float32 (and int64) arrays with shapes. The files are
// byte-for-byte what the reference library writes for the same arrays (same order, same padding).
//
//   z2h::save_safetensors(dir / "model.safetensors", {{.name = "C", .shape = {27, 10}, .data = C}},
//                         {{"stage", "03-mlp"}});
//   auto ckpt = z2h::load_safetensors(path);
//   const auto& C = ckpt.get("C", {27, 10});   // a clear error if missing or another shape
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace z2h {

enum class DType { F32, I64 };  // float32 for parameters; int64 for counters such as num_batches_tracked

struct NamedArray {
  std::string name = {};
  std::vector<int64_t> shape = {};  // {} for a scalar (one value)
  DType dtype = DType::F32;
  std::vector<float> data = {};     // the values when dtype is F32, row-major
  std::vector<int64_t> ints = {};   // the values when dtype is I64, row-major

  int64_t numel() const;  // the product of shape
};

struct SafetensorsFile {
  std::string path;                             // where it was read from, for error messages
  std::vector<NamedArray> arrays;               // sorted by name
  std::map<std::string, std::string> metadata;  // the "__metadata__" strings (empty if none)

  // The array called `name`, checked to have this shape and dtype. Throws UserError for a
  // missing name or another shape: the checkpoint belongs to another model or configuration.
  const NamedArray& get(const std::string& name, const std::vector<int64_t>& shape,
                        DType dtype = DType::F32) const;
};

// Writes the arrays (and optional metadata strings) atomically (see write_file_atomic).
// Throws std::invalid_argument for a bug in the arrays (a duplicate or empty name, values that do
// not fill the shape) and UserError when the file cannot be written.
void save_safetensors(const std::filesystem::path& path, const std::vector<NamedArray>& arrays,
                      const std::map<std::string, std::string>& metadata = {});

// Reads and validates a whole file. Throws UserError naming the file and the problem for a
// missing file, a truncated file, a header that is not JSON or not the format, a dtype other
// than F32/I64, or data_offsets that do not match the shapes or do not tile the data exactly.
SafetensorsFile load_safetensors(const std::filesystem::path& path);

// The same for the bytes of a file already in memory (`name` is the path for messages).
SafetensorsFile parse_safetensors(std::string_view file, const std::string& name);

// The reference library's limit on the JSON header (100 MB): a larger claimed length is corrupt.
inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// Throws UserError naming the file, the array and the index when a float32 array holds a NaN or
// an infinity: a model loaded from it could only predict NaN.
void require_finite(const NamedArray& a, const std::string& path);

}  // namespace z2h
