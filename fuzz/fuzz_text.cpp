// libFuzzer target: the data loaders (common/data/text_data.cpp) on arbitrary file contents — the
// text checks, the line split, both vocabularies, encode/decode. Every input is accepted or is a
// z2h::UserError; an accepted text must round-trip through its vocabulary.
#include "common/app/error.hpp"
#include "common/data/text_data.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string raw(reinterpret_cast<const char*>(data), size);
  try {
    const std::string text = z2h::parse_text(raw, "fuzz.txt");
    try {  // lectures 2-6: one name per line
      const auto words = z2h::split_lines(text);
      const z2h::Vocab v = z2h::Vocab::from_words(words, '.');
      if (v.chars().empty() || v.chars()[0] != '.') std::abort();
      for (const auto& w : words)
        if (v.decode(v.encode(w)) != w) std::abort();
      (void)z2h::Vocab::for_names(v.chars());  // what a checkpoint stores reads back
    } catch (const z2h::UserError&) {
    }
    // lecture 7: the whole text
    const z2h::Vocab v = z2h::Vocab::from_text(text);
    if (v.decode(v.encode(text)) != text) std::abort();
  } catch (const z2h::UserError&) {
  }
  try {  // a vocabulary string straight from a (corrupt) checkpoint
    const z2h::Vocab v(raw.substr(0, 300));
    for (int i = 0; i < v.size(); ++i)
      if (v.stoi(v.itos(i)) != i) std::abort();
  } catch (const z2h::UserError&) {
  }
  return 0;
}
