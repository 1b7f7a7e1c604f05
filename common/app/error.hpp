#pragma once
// The one error type that reaches a person: a problem with their input (a flag, a file, a path).
#include <stdexcept>
#include <string>

namespace z2h {

// Thrown for bad input. The message is ONE line that names the fix, e.g.
//   data file 'names.txt' not found in data/ (run ./z2h run 02-bigram to fetch it, or pass --data PATH)
// Stage programs print it as `error: <message>` on stderr and exit with status 2 (see cli.hpp).
struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace z2h
