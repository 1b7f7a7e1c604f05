#pragma once
// Text data: reading names.txt / tinyshakespeare.txt, and the character vocabulary of lectures 2-7
// (the lectures' `stoi` / `itos` dictionaries and `encode` / `decode` lambdas).
//
//   auto words = z2h::read_lines(path);               // {"emma", "olivia", ...}
//   auto vocab = z2h::Vocab::from_words(words, '.');  // '.'=0, 'a'=1 ... 'z'=26
//   vocab.encode("emma")                              // {5, 13, 13, 1}
//
//   auto text = z2h::read_text(path);                 // all of tiny shakespeare
//   auto vocab = z2h::Vocab::from_text(text);         // 65 characters: "\n !$&',-.3:;?ABC...xyz"
//   vocab.decode(vocab.encode("hii there"))           // "hii there"
//
// A character here is one byte, so the text must be ASCII, as the course's data is; Python's
// sorted(set(text)) counts code points, which for ASCII is the same thing.
#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace z2h {

// The whole file, without a UTF-8 byte-order mark at its start (Windows editors write one).
// Throws UserError for a missing file, a directory, an empty file, content that is not text (a
// NUL byte or invalid UTF-8: "looks binary"), or a byte-order mark anywhere but the start.
std::string read_text(const std::string& path);

// The file's lines, without their "\n" or "\r\n". A final newline does not make an empty last
// line. Same errors as read_text.
std::vector<std::string> read_lines(const std::string& path);

// The same two steps for text already in memory (`path` names it in messages): read_text's
// checks on a file's content, and read_lines's split.
std::string parse_text(std::string text, const std::string& path);
std::vector<std::string> split_lines(std::string_view text);

class Vocab {
 public:
  // Exactly these characters, in this order: chars[i] has index i (e.g. to rebuild a vocabulary
  // stored in a checkpoint). Throws UserError for a repeated, non-ASCII or control character
  // (other than '\n', '\t', '\r', which a text may hold).
  explicit Vocab(std::string chars);

  // `special` at index 0, then the sorted distinct characters of the words (lecture 2's
  // `stoi = {s:i+1 ...}; stoi['.'] = 0`). Throws UserError if a word contains `special`
  // or a non-ASCII character, naming the word's line.
  static Vocab from_words(const std::vector<std::string>& words, char special = '.');

  // A names vocabulary read back from a checkpoint: `special` first, then printable ASCII only
  // (what from_words makes). Throws UserError otherwise: the file is corrupt or not a names model.
  static Vocab for_names(std::string chars, char special = '.');

  // The sorted distinct characters of the text (lecture 7's `chars = sorted(list(set(text)))`).
  // Throws UserError for non-ASCII text, naming the line.
  static Vocab from_text(std::string_view text);

  int size() const { return static_cast<int>(chars_.size()); }
  const std::string& chars() const { return chars_; }  // itos as a string: chars()[i]
  bool contains(char c) const { return index_[static_cast<unsigned char>(c)] >= 0; }

  // Throws UserError naming the character when it is not in the vocabulary.
  int stoi(char c) const;
  // Throws std::out_of_range for an index outside [0, size()): that is a bug, not bad input.
  char itos(int i) const;

  // Throws UserError for the first character not in the vocabulary, naming it and its line and
  // column in `text`.
  std::vector<int> encode(std::string_view text) const;
  std::string decode(const std::vector<int>& ids) const;

 private:
  std::string chars_;
  std::array<int, 256> index_;  // byte -> index, -1 when absent
};

}  // namespace z2h
