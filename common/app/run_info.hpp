#pragma once
// common/app/run_info.hpp — the header line every stage prints first, and the same facts for
// summary.json: what a run's numbers depend on besides its flags.
//
//   03-mlp · seed 2147483647 · 1 thread · OpenBLAS Haswell kernels
//
// The kernel set is OpenBLAS's choice for this CPU (OPENBLAS_CORETYPE overrides it). Each set adds
// up a matrix product in its own order, so results that go through many products — long training
// runs — can differ in their last digits from one kernel set to another (and from PyTorch's on
// another machine); on the same kernel set they are PyTorch's to the bit.
#include <cstdint>
#include <string>

namespace z2h {

// "03-mlp · seed 2147483647 · 1 thread · OpenBLAS Haswell kernels"
std::string run_header(const std::string& stage, uint64_t seed, int threads);

// The kernel set OpenBLAS uses here ("Haswell", "SkylakeX", "Prescott", ...), for summary.json's
// "openblas_core" (the same name as z2h::blas::core_name()).
std::string openblas_core();

}  // namespace z2h
