// common/app/run_info.cpp — see run_info.hpp. Asks OpenBLAS directly, so that stages without the
// tensor layer (01-micrograd) print the same header; z2h::blas::core_name() is this function.
#include "common/app/run_info.hpp"

#include <cblas.h>

namespace z2h {

std::string openblas_core() {
  const char* name = openblas_get_corename();
  std::string s = name ? name : "unknown";
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string run_header(const std::string& stage, uint64_t seed, int threads) {
  return stage + " \u00b7 seed " + std::to_string(seed) + " \u00b7 " + std::to_string(threads) +
         (threads == 1 ? " thread" : " threads") + " \u00b7 OpenBLAS " + openblas_core() + " kernels";
}

}  // namespace z2h
