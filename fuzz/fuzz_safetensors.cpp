// libFuzzer target: the safetensors reader (common/io/safetensors.cpp) on arbitrary bytes.
// Every input must either parse into arrays that tile the data exactly, or throw z2h::UserError;
// anything else (a crash, a sanitizer report, another exception, a huge allocation) is a bug.
#include "common/app/error.hpp"
#include "common/io/safetensors.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const z2h::SafetensorsFile f = z2h::parse_safetensors(bytes, "fuzz.safetensors");
    uint64_t total = 0;
    for (const auto& a : f.arrays) {
      const size_t count = a.dtype == z2h::DType::F32 ? a.data.size() : a.ints.size();
      if (count != static_cast<size_t>(a.numel())) std::abort();  // the shape must match the values
      total += count * (a.dtype == z2h::DType::F32 ? 4 : 8);
      z2h::require_finite(a, f.path);
    }
    if (total > size) std::abort();  // never more data than the file holds
  } catch (const z2h::UserError&) {
  }
  return 0;
}
