// libFuzzer target: a checkpoint's metadata checked against its tensors before anything is
// allocated (03-mlp's checkpoint_config: sizes, vocabulary, shapes, finite values). Every input
// is accepted with a configuration whose parameters all fit in the file, or is a z2h::UserError.
#include "03-mlp/model.hpp"
#include "common/app/error.hpp"
#include "common/io/safetensors.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const z2h::SafetensorsFile f = z2h::parse_safetensors(bytes, "fuzz.safetensors");
    const mlp::CheckpointConfig cc = mlp::checkpoint_config(f);
    const auto& c = cc.config;
    // What the model would allocate: C, W1, b1, W2, b2 (and W3), in floats.
    const uint64_t n_in = uint64_t(c.block_size) * uint64_t(c.emb);
    const uint64_t floats = uint64_t(c.vocab_size) * c.emb + n_in * c.hidden + c.hidden +
                            uint64_t(c.hidden) * c.vocab_size + c.vocab_size + (c.direct ? n_in * c.vocab_size : 0);
    if (floats * 4 > size) std::abort();  // accepted, yet larger than the file: the bug this guards
    if (cc.vocab.size() < 1 || cc.vocab.chars()[0] != '.') std::abort();
  } catch (const z2h::UserError&) {
  }
  return 0;
}
