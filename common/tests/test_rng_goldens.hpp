#pragma once
// Shared helpers of the rng tests: load the goldens that common/tests/make_rng_goldens.py wrote, read
// names.txt, and compare float32 streams bit for bit with a message that shows expected vs actual.
#include <bit>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/rng/generator.hpp"

namespace z2h::rng_test {

using nlohmann::json;

inline const char* kRegenerate = "/usr/bin/python3 common/tests/make_rng_goldens.py";

inline json load_golden(const std::string& name) {
  const std::string path = std::string(Z2H_SOURCE_DIR) + "/common/tests/goldens/" + name;
  std::ifstream in(path);
  if (!in) FAIL("golden file " << path << " is missing (regenerate with: " << kRegenerate << ")");
  return json::parse(in);
}

// names.txt, one word per line. A missing file is a failure, not a skip: these tests are the proof
// that the lecture's split and sampled names come out right.
inline std::vector<std::string> read_names() {
  const std::string path = std::string(Z2H_DEFAULT_DATA_DIR) + "/names.txt";
  std::ifstream in(path);
  if (!in) FAIL("data file " << path << " not found (copy names.txt into data/, e.g. ./z2h run 02-bigram fetches it)");
  std::vector<std::string> words;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) words.push_back(line);
  }
  return words;
}

// FNV-1a over the little-endian bytes of the float32 bit patterns, as the golden script computes it.
inline std::string fnv1a64(const float* x, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t b = std::bit_cast<uint32_t>(x[i]);
    for (int k = 0; k < 4; ++k) h = (h ^ ((b >> (8 * k)) & 0xffu)) * 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

inline std::string describe(uint32_t bits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g (0x%08x)", static_cast<double>(std::bit_cast<float>(bits)), bits);
  return buf;
}

// "" when `actual` equals the golden float32 array bit for bit, else the first difference.
// The golden is {"bits": [...]} or, for long arrays, {"n", "fnv1a64", "head": 8, "tail": 24}.
inline std::string f32_diff(const json& expected, const float* actual, size_t n) {
  auto compare_at = [&](size_t i, uint32_t want) -> std::string {
    const uint32_t got = std::bit_cast<uint32_t>(actual[i]);
    if (got == want) return "";
    std::string msg = "element ";
    msg += std::to_string(i) + ": expected " + describe(want) + " got " + describe(got);
    return msg;
  };
  if (expected.contains("bits")) {
    const json& bits = expected["bits"];
    if (bits.size() != n) return "size: expected " + std::to_string(bits.size()) + " got " + std::to_string(n);
    for (size_t i = 0; i < n; ++i) {
      if (std::string d = compare_at(i, bits[i].get<uint32_t>()); !d.empty()) return d;
    }
    return "";
  }
  const size_t want_n = expected["n"].get<size_t>();
  if (want_n != n) return "size: expected " + std::to_string(want_n) + " got " + std::to_string(n);
  const json& head = expected["head"];
  const json& tail = expected["tail"];
  for (size_t i = 0; i < head.size(); ++i) {
    if (std::string d = compare_at(i, head[i].get<uint32_t>()); !d.empty()) return d;
  }
  for (size_t i = 0; i < tail.size(); ++i) {
    if (std::string d = compare_at(n - tail.size() + i, tail[i].get<uint32_t>()); !d.empty()) return d;
  }
  const std::string want_hash = expected["fnv1a64"].get<std::string>(), got_hash = fnv1a64(actual, n);
  if (want_hash != got_hash) return "head and tail agree but fnv1a64 expected " + want_hash + " got " + got_hash;
  return "";
}

inline std::string f32_diff(const json& expected, const std::vector<float>& actual) {
  return f32_diff(expected, actual.data(), actual.size());
}

// The low 31 bits of the generator's next 4 draws: torch.randint(0, 2**31, (4,), generator=g).
inline std::vector<int64_t> next4(Generator& g) {
  std::vector<int64_t> v;
  for (int i = 0; i < 4; ++i) v.push_back(g.random() & 0x7fffffff);
  return v;
}

inline size_t numel(const json& shape_label) {
  const std::string s = shape_label.get<std::string>();
  const size_t x = s.find('x');
  return x == std::string::npos ? std::stoul(s) : std::stoul(s.substr(0, x)) * std::stoul(s.substr(x + 1));
}

}  // namespace z2h::rng_test

// Fails the test (and carries on) with the message when `diff` is non-empty.
#define CHECK_NO_DIFF(diff)                  \
  do {                                       \
    const std::string z2h_diff_ = (diff);    \
    if (!z2h_diff_.empty()) FAIL_CHECK(z2h_diff_); \
  } while (0)
