// common/nn/checkpoint.cpp — named tensors <-> safetensors files.
#include "common/nn/checkpoint.hpp"

#include <algorithm>

#include "common/app/error.hpp"
#include "common/io/safetensors.hpp"

namespace z2h {

namespace {
nn::NamedTensors module_tensors(const nn::Module& m) {
  nn::NamedTensors all = m.named_parameters();
  for (auto& b : m.named_buffers()) all.push_back(b);
  return all;
}
}  // namespace

void save_checkpoint(const std::filesystem::path& path, const nn::NamedTensors& tensors, const Metadata& metadata) {
  std::vector<NamedArray> arrays;
  arrays.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    NamedArray a;
    a.name = name;
    a.shape = t.shape().vec();
    a.data = t.tolist();
    arrays.push_back(std::move(a));
  }
  save_safetensors(path, arrays, metadata);
}

void save_checkpoint(const std::filesystem::path& path, const nn::Module& module, const Metadata& metadata) {
  save_checkpoint(path, module_tensors(module), metadata);
}

namespace {
void copy_into(const SafetensorsFile& file, const nn::NamedTensors& into) {
  for (const auto& [name, t] : into) {
    const NamedArray& a = file.get(name, t.shape().vec());  // UserError: missing, or another shape
    require_finite(a, file.path);                            // UserError: NaN or inf
    std::copy(a.data.begin(), a.data.end(), t.data());
  }
}
}  // namespace

Metadata load_checkpoint(const std::filesystem::path& path, const nn::NamedTensors& into) {
  const SafetensorsFile file = load_safetensors(path);
  copy_into(file, into);
  return file.metadata;
}

Metadata load_checkpoint(const std::filesystem::path& path, nn::Module& module) {
  return load_checkpoint(path, module_tensors(module));
}

void save_model(const std::filesystem::path& path, const nn::NamedTensors& tensors, const std::string& stage,
                const std::string& model_id) {
  save_checkpoint(path, tensors, {{"stage", stage}, {"model", model_id}});
}

void save_model(const std::filesystem::path& path, const nn::Module& module, const std::string& stage,
                const std::string& model_id) {
  save_model(path, module_tensors(module), stage, model_id);
}

Metadata load_model(const std::filesystem::path& path, const nn::NamedTensors& into, const std::string& stage,
                    const std::string& model_id, const std::string& hint) {
  const SafetensorsFile file = load_safetensors(path);
  const auto it = file.metadata.find("model");  // which model, before any tensor is copied
  if (it == file.metadata.end() || it->second != model_id)
    throw UserError("checkpoint " + quote_path(path.string()) + " holds " +
                    (it == file.metadata.end() ? "no " + stage + " model" : "model " + quote(it->second)) + ", not " +
                    quote(model_id) + " (" + hint + ")");
  copy_into(file, into);
  return file.metadata;
}

Metadata load_model(const std::filesystem::path& path, nn::Module& module, const std::string& stage,
                    const std::string& model_id, const std::string& hint) {
  return load_model(path, module_tensors(module), stage, model_id, hint);
}

std::map<std::string, Tensor> load_tensors(const std::filesystem::path& path) {
  SafetensorsFile file = load_safetensors(path);
  std::map<std::string, Tensor> out;
  for (const NamedArray& a : file.arrays)
    if (a.dtype == DType::F32) out.emplace(a.name, tensor(a.data, Shape(a.shape)));
  return out;
}

}  // namespace z2h
