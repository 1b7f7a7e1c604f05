#pragma once
// The one error type that reaches a person: a problem with their input (a flag, a file, a path),
// and quote(), the one way a message shows a piece of that input.
#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace z2h {

// Thrown for bad input. The message is ONE line that names the fix, e.g.
//   data file 'names.txt' not found in data/ (run ./z2h run 02-bigram to fetch it, or pass --data PATH)
// Stage programs print it as `error: <message>` on stderr and exit with status 2 (see cli.hpp).
struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Untrusted text (a line of a data file, a name or value from a checkpoint, a path) as it may
// appear in a message: in single quotes, every byte that is not printable escaped (\n, \t, \x1B;
// printable UTF-8 such as 'zoë' stays readable, but not C1 controls, line separators or bidi
// overrides) so that nothing reaches the terminal as a control sequence, and cut after
// `max_bytes` bytes with a note of the full length, so a 1 MB line makes a short message:
//   quote("emma")            'emma'
//   quote("a\x1b[2Jb")       'a\x1B[2Jb'
//   quote(one_mb_line)       'aaaaaaaa...'... (1048576 bytes)
inline std::string quote(std::string_view s, size_t max_bytes = 60) {
  std::string out = "'";
  const size_t n = s.size() < max_bytes ? s.size() : max_bytes;
  auto byte = [&](size_t k) { return k < n ? static_cast<unsigned char>(s[k]) : 0u; };
  for (size_t i = 0; i < n;) {
    const unsigned c = byte(i);
    // A whole, printable UTF-8 sequence is kept as it is.
    const size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (len > 0) {
      unsigned cp = c & (0xFFu >> (len + 1));
      bool ok = true;
      for (size_t k = 1; k < len; ++k) {
        ok = ok && (byte(i + k) & 0xC0u) == 0x80u;
        cp = (cp << 6) | (byte(i + k) & 0x3Fu);
      }
      const unsigned min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
      ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) && cp >= 0xA0 &&
           !(cp >= 0x2028 && cp <= 0x202E) && !(cp >= 0x2066 && cp <= 0x2069) && cp != 0xFEFF;
      if (ok) {
        out.append(s.substr(i, len));
        i += len;
        continue;
      }
    }
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c == '\\') out += "\\\\";
    else if (c == '\'') out += "\\'";
    else if (c < 0x20 || c >= 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  out += '\'';
  if (n < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

// A path in a message: quoted the same way, with room for a long directory.
inline std::string quote_path(std::string_view path) { return quote(path, 300); }

}  // namespace z2h
