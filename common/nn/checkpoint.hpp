#pragma once
// common/nn/checkpoint.hpp — saving and loading named tensors (a model's parameters and buffers) as
// safetensors files (common/io/safetensors.hpp), which PyTorch reads with safetensors.torch.load_file
// and writes with save_file. Writes are atomic (a temporary file renamed into place).
//
//   save_checkpoint(dir / "model.safetensors", model, {{"stage", "06-wavenet"}});
//   load_checkpoint(path, model);   // copies into the model's tensors; names and shapes must match
//   save_model / load_model         // the same, with the stage and the model named in the metadata
//
// A missing, truncated or corrupt file, a missing tensor or a tensor of another shape is a
// UserError whose one line names the file, the tensor and both shapes.
#include <filesystem>
#include <map>
#include <string>

#include "common/nn/nn.hpp"

namespace z2h {

using Metadata = std::map<std::string, std::string>;

// Writes every tensor under its name (float32, row-major).
void save_checkpoint(const std::filesystem::path& path, const nn::NamedTensors& tensors,
                     const Metadata& metadata = {});
// A module's named_parameters() and named_buffers().
void save_checkpoint(const std::filesystem::path& path, const nn::Module& module, const Metadata& metadata = {});

// Copies each named tensor's numbers from the file into `into` (the tensors keep their identity,
// so optimisers holding them see the loaded values). Extra tensors in the file are ignored.
// Returns the file's metadata.
Metadata load_checkpoint(const std::filesystem::path& path, const nn::NamedTensors& into);
Metadata load_checkpoint(const std::filesystem::path& path, nn::Module& module);

// A stage's model: the tensors plus metadata naming the stage and the model, so that a checkpoint
// of another model is refused by name before any tensor is read, not by a shape deep in the file.
//   save_model(path, model, "06-wavenet", "wavenet-scaled-24-128");
//   load_model(path, model, "06-wavenet", "wavenet-scaled-24-128", "pass the --variant and sizes it was trained with");
//   -> error: checkpoint 'out/x.safetensors' holds model 'wavenet-original-10-200', not
//      'wavenet-scaled-24-128' (pass the --variant and sizes it was trained with)
// The metadata is untrusted: the message shows it quoted (z2h::quote). Returns the metadata.
void save_model(const std::filesystem::path& path, const nn::NamedTensors& tensors, const std::string& stage,
                const std::string& model_id);
void save_model(const std::filesystem::path& path, const nn::Module& module, const std::string& stage,
                const std::string& model_id);
Metadata load_model(const std::filesystem::path& path, const nn::NamedTensors& into, const std::string& stage,
                    const std::string& model_id, const std::string& hint);
Metadata load_model(const std::filesystem::path& path, nn::Module& module, const std::string& stage,
                    const std::string& model_id, const std::string& hint);

// Every float32 tensor in the file, by name (new leaf tensors).
std::map<std::string, Tensor> load_tensors(const std::filesystem::path& path);

}  // namespace z2h
