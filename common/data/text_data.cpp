#include "common/data/text_data.hpp"

#include "common/app/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace z2h {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF).
size_t utf8_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) { return byte(k) >= lo && byte(k) <= hi; };
  const unsigned b = byte(i);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    const unsigned lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    const unsigned lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

// 1-based line and column of byte `pos`.
std::pair<size_t, size_t> line_column(std::string_view text, size_t pos) {
  const size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + pos, '\n'));
  const size_t line_start = pos == 0 ? 0 : text.rfind('\n', pos - 1);
  return {line, line_start == std::string_view::npos ? pos + 1 : pos - line_start};
}

// How a character reads in a message: 'a', '\n', '\x01', or for the UTF-8 sequence starting at
// text[pos] the character itself and its code point: '’' (U+2019).
std::string describe(std::string_view text, size_t pos) {
  const auto c = static_cast<unsigned char>(text[pos]);
  char buf[32];
  if (c >= 0x80) {
    const size_t n = utf8_length(text, pos);
    if (n == 0) {
      std::snprintf(buf, sizeof buf, "byte 0x%02X", c);
      return buf;
    }
    unsigned cp = c & (0xFF >> (n + 1));
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[pos + k]) & 0x3F);
    std::snprintf(buf, sizeof buf, "' (U+%04X)", cp);
    return std::string(1, '\'').append(text.substr(pos, n)).append(buf);
  }
  if (c == '\n') return "'\\n'";
  if (c == '\r') return "'\\r'";
  if (c == '\t') return "'\\t'";
  if (c < 0x20 || c == 0x7F) {
    std::snprintf(buf, sizeof buf, "'\\x%02X'", c);
    return buf;
  }
  return {'\'', static_cast<char>(c), '\''};
}

std::string printable(std::string_view chars) {
  std::string s;
  for (size_t i = 0; i < chars.size(); ++i) {
    const std::string d = describe(chars, i);
    s += d.substr(1, d.size() - 2);  // without the quotes
  }
  return s;
}

// The first non-ASCII byte of `text`, or npos.
size_t find_non_ascii(std::string_view text) {
  auto it = std::find_if(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  return it == text.end() ? std::string_view::npos : static_cast<size_t>(it - text.begin());
}

}  // namespace

std::string read_text(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) throw UserError("file " + quote_path(path) + " not found (check the path)");
  if (fs::is_directory(status)) throw UserError(quote_path(path) + " is a directory, not a text file (pass the file itself)");
  // A pipe or a device could block forever or never end: only regular files.
  if (!fs::is_regular_file(status)) throw UserError(quote_path(path) + " is not a regular file (pass a text file)");

  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot read " + quote_path(path) + ": " + std::strerror(errno) + " (check its permissions)");
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw UserError("cannot read " + quote_path(path) + ": " + std::strerror(errno));
  return parse_text(std::move(text), path);
}

std::string parse_text(std::string text, const std::string& path) {
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // a UTF-8 byte-order mark (Windows editors)
  if (text.empty()) throw UserError(quote_path(path) + " is empty (expected text; fetch the data again or pass another file)");

  if (const size_t nul = text.find('\0'); nul != std::string::npos) {
    throw UserError(quote_path(path) + " looks binary, not text (a NUL byte on line " +
                    std::to_string(line_column(text, nul).first) + "; pass a UTF-8 text file)");
  }
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_length(text, i);
    if (n == 0) {
      throw UserError(quote_path(path) + " looks binary, not text (invalid UTF-8 on line " +
                      std::to_string(line_column(text, i).first) + "; pass a UTF-8 text file)");
    }
    // A byte-order mark is dropped at the start of the file (above); anywhere else it is a
    // character no vocabulary wants, and invisible in an editor: say so.
    if (n == 3 && text.compare(i, 3, "\xEF\xBB\xBF") == 0) {
      throw UserError(quote_path(path) + " has a byte-order mark (U+FEFF) on line " +
                      std::to_string(line_column(text, i).first) +
                      ", not at the start of the file (remove it: it is invisible in most editors)");
    }
    i += n;
  }
  return text;
}

std::vector<std::string> read_lines(const std::string& path) { return split_lines(read_text(path)); }

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    if (!line.empty() && line.back() == '\r') line.pop_back();  // a file saved with Windows line ends
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

Vocab::Vocab(std::string chars) : chars_(std::move(chars)) {
  index_.fill(-1);
  for (size_t i = 0; i < chars_.size(); ++i) {
    const auto c = static_cast<unsigned char>(chars_[i]);
    if (c >= 0x80) throw UserError("vocabulary has the non-ASCII byte " + describe(chars_, i) + " (expected ASCII characters)");
    if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7F)
      throw UserError("vocabulary has the control character " + describe(chars_, i) + " (a corrupt checkpoint?)");
    if (index_[c] >= 0) throw UserError("vocabulary has the character " + describe(chars_, i) + " twice (a corrupt checkpoint?)");
    index_[c] = static_cast<int>(i);
  }
}

Vocab Vocab::for_names(std::string chars, char special) {
  if (chars.empty() || chars[0] != special)
    throw UserError("vocabulary " + quote(chars) + " does not start with the start/end token " +
                    describe(std::string(1, special), 0) + " (a corrupt checkpoint?)");
  for (size_t i = 0; i < chars.size(); ++i) {
    const auto c = static_cast<unsigned char>(chars[i]);
    if (c < 0x20 || c >= 0x7F)
      throw UserError("vocabulary " + quote(chars) + " has " + describe(chars, i) +
                      ", not a printable character (a corrupt checkpoint?)");
  }
  return Vocab(std::move(chars));
}

Vocab Vocab::from_words(const std::vector<std::string>& words, char special) {
  std::array<bool, 256> seen{};
  for (size_t w = 0; w < words.size(); ++w) {
    const std::string& word = words[w];
    if (const size_t bad = find_non_ascii(word); bad != std::string::npos) {
      throw UserError("line " + std::to_string(w + 1) + " (" + quote(word) + ") has the non-ASCII character " +
                      describe(word, bad) + "; the character vocabulary needs ASCII text");
    }
    const auto control = std::find_if(word.begin(), word.end(), [](char ch) {
      const auto c = static_cast<unsigned char>(ch);
      return c < 0x20 || c == 0x7F;
    });
    if (control != word.end()) {
      throw UserError("line " + std::to_string(w + 1) + " (" + quote(word) + ") has the control character " +
                      describe(word, static_cast<size_t>(control - word.begin())) +
                      "; a name must be printable characters");
    }
    if (word.find(special) != std::string::npos) {
      throw UserError("line " + std::to_string(w + 1) + " (" + quote(word) + ") contains " + describe(word, word.find(special)) +
                      ", the start/end token; remove it from the data");
    }
    for (char c : word) seen[static_cast<unsigned char>(c)] = true;
  }
  std::string chars(1, special);
  for (int c = 0; c < 256; ++c) {
    if (seen[c]) chars += static_cast<char>(c);
  }
  return Vocab(std::move(chars));
}

Vocab Vocab::from_text(std::string_view text) {
  if (const size_t bad = find_non_ascii(text); bad != std::string_view::npos) {
    throw UserError("line " + std::to_string(line_column(text, bad).first) + " has the non-ASCII character " +
                    describe(text, bad) + "; the character vocabulary needs ASCII text");
  }
  const auto control = std::find_if(text.begin(), text.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7F;
  });
  if (control != text.end()) {
    const size_t pos = static_cast<size_t>(control - text.begin());
    throw UserError("line " + std::to_string(line_column(text, pos).first) + " has the control character " +
                    describe(text, pos) + "; the character vocabulary needs printable text");
  }
  std::array<bool, 256> seen{};
  for (char c : text) seen[static_cast<unsigned char>(c)] = true;
  std::string chars;
  for (int c = 0; c < 256; ++c) {
    if (seen[c]) chars += static_cast<char>(c);
  }
  return Vocab(std::move(chars));
}

int Vocab::stoi(char c) const {
  const int i = index_[static_cast<unsigned char>(c)];
  if (i < 0) {
    const std::string one(1, c);
    throw UserError("character " + describe(one, 0) + " is not in the vocabulary '" + printable(chars_) + "'");
  }
  return i;
}

char Vocab::itos(int i) const {
  if (i < 0 || i >= size()) {
    throw std::out_of_range("Vocab::itos: index " + std::to_string(i) + " outside [0, " + std::to_string(size()) + ")");
  }
  return chars_[static_cast<size_t>(i)];
}

std::vector<int> Vocab::encode(std::string_view text) const {
  std::vector<int> ids;
  ids.reserve(text.size());
  for (size_t pos = 0; pos < text.size(); ++pos) {
    const int i = index_[static_cast<unsigned char>(text[pos])];
    if (i < 0) {
      const auto [line, column] = line_column(text, pos);
      throw UserError("character " + describe(text, pos) + " at line " + std::to_string(line) + ", column " +
                      std::to_string(column) + " is not in the vocabulary '" + printable(chars_) +
                      "' (use only those characters)");
    }
    ids.push_back(i);
  }
  return ids;
}

std::string Vocab::decode(const std::vector<int>& ids) const {
  std::string s;
  s.reserve(ids.size());
  for (int i : ids) s += itos(i);
  return s;
}

}  // namespace z2h
