#include "common/io/safetensors.hpp"

#include "common/app/error.hpp"
#include "common/io/output.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <tuple>

namespace z2h {

namespace fs = std::filesystem;

// The format is little-endian; so is every machine we build for (x86-64, arm64), which lets the
// bytes be copied as they are.
static_assert(std::endian::native == std::endian::little, "safetensors.cpp assumes a little-endian machine");

namespace {

const char* dtype_name(DType t) { return t == DType::F32 ? "F32" : "I64"; }
size_t dtype_size(DType t) { return t == DType::F32 ? sizeof(float) : sizeof(int64_t); }

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

const void* bytes_of(const NamedArray& a) {
  return a.dtype == DType::F32 ? static_cast<const void*>(a.data.data()) : static_cast<const void*>(a.ints.data());
}

// Header entries as the reader finds them, before the bytes are copied out.
struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;  // data_offsets, relative to the start of the data
};

}  // namespace

int64_t NamedArray::numel() const {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

const NamedArray& SafetensorsFile::get(const std::string& name, const std::vector<int64_t>& shape, DType dtype) const {
  auto it = std::find_if(arrays.begin(), arrays.end(), [&](const NamedArray& a) { return a.name == name; });
  if (it == arrays.end()) {
    throw UserError("checkpoint " + quote_path(path) + " has no array " + quote(name) +
                    " (was it saved by another stage or model?)");
  }
  if (it->shape != shape || it->dtype != dtype) {
    throw UserError("checkpoint " + quote_path(path) + " has " + quote(name) + " as " + dtype_name(it->dtype) + " " +
                    shape_text(it->shape) + ", but this model needs " + dtype_name(dtype) + " " + shape_text(shape) +
                    " (was it saved with other hyper-parameters?)");
  }
  return *it;
}

// ---- writing -------------------------------------------------------------------------------

void save_safetensors(const fs::path& path, const std::vector<NamedArray>& arrays,
                      const std::map<std::string, std::string>& metadata) {
  for (const auto& a : arrays) {
    if (a.name.empty() || a.name == "__metadata__") throw std::invalid_argument("save_safetensors: bad name '" + a.name + "'");
    if (std::any_of(a.shape.begin(), a.shape.end(), [](int64_t d) { return d < 0; })) {
      throw std::invalid_argument("save_safetensors: '" + a.name + "' has a negative dimension");
    }
    const size_t count = a.dtype == DType::F32 ? a.data.size() : a.ints.size();
    const size_t other = a.dtype == DType::F32 ? a.ints.size() : a.data.size();
    if (count != static_cast<size_t>(a.numel()) || other != 0) {
      throw std::invalid_argument("save_safetensors: '" + a.name + "' has " + std::to_string(count) + " " +
                                  dtype_name(a.dtype) + " values for shape " + shape_text(a.shape));
    }
  }

  // The reference library's order: larger elements first (I64 before F32, which keeps every
  // array aligned to its element size), then by name.
  std::vector<const NamedArray*> order;
  for (const auto& a : arrays) order.push_back(&a);
  std::sort(order.begin(), order.end(), [](const NamedArray* x, const NamedArray* y) {
    if (x->dtype != y->dtype) return x->dtype == DType::I64;
    return x->name < y->name;
  });

  // ordered_json keeps the keys in insertion order: "__metadata__" first, then the arrays in data
  // order, like the reference library.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const NamedArray* a : order) {
    if (header.contains(a->name)) throw std::invalid_argument("save_safetensors: two arrays named '" + a->name + "'");
    const uint64_t bytes = static_cast<uint64_t>(a->numel()) * dtype_size(a->dtype);
    header[a->name] = {{"dtype", dtype_name(a->dtype)}, {"shape", a->shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // so the data starts 8-byte aligned

  std::string file(8, '\0');
  const uint64_t n = json.size();
  std::memcpy(file.data(), &n, 8);
  file += json;
  file.reserve(file.size() + offset);
  for (const NamedArray* a : order) {
    const size_t bytes = static_cast<size_t>(a->numel()) * dtype_size(a->dtype);
    if (bytes > 0) file.append(static_cast<const char*>(bytes_of(*a)), bytes);
  }
  write_file_atomic(path, file);
}

// ---- reading -------------------------------------------------------------------------------

SafetensorsFile load_safetensors(const fs::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw UserError("checkpoint " + quote_path(name) + " not found (check the path)");
  if (!fs::is_regular_file(path, ec)) throw UserError(quote_path(name) + " is not a checkpoint file but a directory or device");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot read checkpoint " + quote_path(name) + ": " + std::strerror(errno));
  std::string file(fs::file_size(path, ec), '\0');
  if (ec || !in.read(file.data(), static_cast<std::streamsize>(file.size()))) {
    throw UserError("cannot read checkpoint " + quote_path(name) + ": " + (ec ? ec.message() : std::strerror(errno)));
  }
  return parse_safetensors(file, name);
}

SafetensorsFile parse_safetensors(std::string_view file, const std::string& name) {
  const std::string bad = "checkpoint " + quote_path(name) + " is not a valid safetensors file: ";
  const std::string resave = " (is it truncated or corrupt? save it again)";
  if (file.size() < 8) {
    throw UserError(bad + "it has " + std::to_string(file.size()) + " bytes, fewer than the 8-byte header length" + resave);
  }
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  if (n > kMaxHeaderBytes) {
    throw UserError(bad + "the header length says " + std::to_string(n) + " bytes, more than the " +
                    std::to_string(kMaxHeaderBytes) + " a safetensors header may have" + resave);
  }
  if (n > file.size() - 8) {
    throw UserError(bad + "the header length says " + std::to_string(n) + " bytes but only " +
                    std::to_string(file.size() - 8) + " follow" + resave);
  }
  const uint64_t data_size = file.size() - 8 - n;
  const char* data = file.data() + 8 + n;

  const auto header = nlohmann::json::parse(file.begin() + 8, file.begin() + 8 + static_cast<std::ptrdiff_t>(n),
                                            nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) throw UserError(bad + "the header is not a JSON object" + resave);

  SafetensorsFile result{.path = name, .arrays = {}, .metadata = {}};
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) throw UserError(bad + "__metadata__ is not an object of strings" + resave);
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) throw UserError(bad + "__metadata__ value " + quote(k) + " is not a string" + resave);
        result.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string what = bad + "array " + quote(key) + " ";
    const bool well_formed = value.is_object() && value.contains("dtype") && value["dtype"].is_string() &&
                             value.contains("shape") && value["shape"].is_array() &&
                             value.contains("data_offsets") && value["data_offsets"].is_array() &&
                             value["data_offsets"].size() == 2 &&
                             std::all_of(value["shape"].begin(), value["shape"].end(),
                                         [](const auto& d) { return d.is_number_unsigned(); }) &&
                             value["data_offsets"][0].is_number_unsigned() && value["data_offsets"][1].is_number_unsigned();
    if (!well_formed) throw UserError(what + "needs dtype, shape and data_offsets (non-negative integers)" + resave);

    const auto dtype = value["dtype"].get<std::string>();
    if (dtype != "F32" && dtype != "I64") {
      throw UserError("checkpoint " + quote_path(name) + ": array " + quote(key) + " has dtype " + quote(dtype) +
                      "; only F32 and I64 are supported (in PyTorch, save it with .float())");
    }
    Entry e{key, dtype == "F32" ? DType::F32 : DType::I64, {}, value["data_offsets"][0].get<uint64_t>(),
            value["data_offsets"][1].get<uint64_t>()};

    // The byte count the shape needs, guarding against overflow: no shape can need more bytes
    // than the file has.
    uint64_t bytes = dtype_size(e.dtype);
    for (const auto& d : value["shape"]) {
      const auto dim = d.get<uint64_t>();
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        throw UserError(what + "has an impossible dimension " + std::to_string(dim) + resave);
      }
      e.shape.push_back(static_cast<int64_t>(dim));
      if (bytes != 0 && dim > std::numeric_limits<uint64_t>::max() / bytes) bytes = std::numeric_limits<uint64_t>::max();
      else bytes *= dim;
    }
    if (e.begin > e.end || e.end > data_size) {
      throw UserError(what + "has data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                      "] outside the " + std::to_string(data_size) + " bytes of data" + resave);
    }
    if (e.end - e.begin != bytes) {
      throw UserError(what + "has shape " + shape_text(e.shape) + " of " + dtype + " but data_offsets span " +
                      std::to_string(e.end - e.begin) + " bytes" + resave);
    }
    entries.push_back(std::move(e));
  }

  // Like the reference reader: the arrays must tile the data exactly, no overlap, no gap, nothing after.
  std::vector<const Entry*> by_offset;
  for (const auto& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Entry* x, const Entry* y) { return std::tie(x->begin, x->end) < std::tie(y->begin, y->end); });
  uint64_t covered = 0;
  for (const Entry* e : by_offset) {
    if (e->begin < covered) throw UserError(bad + "array " + quote(e->name) + " overlaps the one before it" + resave);
    if (e->begin > covered) throw UserError(bad + "there are unused bytes before array " + quote(e->name) + resave);
    covered = e->end;
  }
  if (covered != data_size) {
    throw UserError(bad + "its arrays use " + std::to_string(covered) + " bytes of data but the file has " +
                    std::to_string(data_size) + resave);
  }

  for (const auto& e : entries) {  // in name order: nlohmann::json objects are sorted by key
    NamedArray a{.name = e.name, .shape = e.shape, .dtype = e.dtype};
    const size_t bytes = e.end - e.begin;
    void* dst = nullptr;
    if (e.dtype == DType::F32) {
      a.data.resize(bytes / sizeof(float));
      dst = a.data.data();
    } else {
      a.ints.resize(bytes / sizeof(int64_t));
      dst = a.ints.data();
    }
    if (bytes > 0) std::memcpy(dst, data + e.begin, bytes);
    result.arrays.push_back(std::move(a));
  }
  return result;
}

void require_finite(const NamedArray& a, const std::string& path) {
  if (a.dtype != DType::F32) return;
  const auto bad = std::find_if(a.data.begin(), a.data.end(), [](float v) { return !std::isfinite(v); });
  if (bad != a.data.end()) {
    throw UserError("checkpoint " + quote_path(path) + ": array " + quote(a.name) + " holds " +
                    (std::isnan(*bad) ? "NaN" : "an infinity") + " at index " + std::to_string(bad - a.data.begin()) +
                    " (the run that saved it diverged, or the file is corrupt; train again)");
  }
}

}  // namespace z2h
