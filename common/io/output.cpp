#include "common/io/output.hpp"

#include "common/app/error.hpp"

#include <unistd.h>  // getpid

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace z2h {

namespace fs = std::filesystem;

namespace {

// The part of `dir` that is in the way when it cannot be created: "out" in out/02-bigram when
// "out" is a regular file. Empty when no part of the path is a non-directory.
fs::path blocking_file(const fs::path& dir) {
  std::error_code ec;
  fs::path prefix;
  for (const auto& part : dir) {
    prefix /= part;
    if (fs::exists(prefix, ec) && !fs::is_directory(prefix, ec)) return prefix;
  }
  return {};
}

}  // namespace

fs::path prepare_out_dir(const std::string& dir) {
  const fs::path path = dir.empty() ? fs::path(".") : fs::path(dir);
  if (const fs::path file = blocking_file(path); !file.empty()) {
    throw UserError("cannot create output directory '" + dir + "': '" + file.string() +
                    "' is a file, not a directory (pass another --out DIR)");
  }
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) {
    throw UserError("cannot create output directory '" + dir + "': " + ec.message() + " (pass another --out DIR)");
  }
  // Writable? Try it: permission bits do not tell (root, read-only mounts, /proc).
  const fs::path probe = path / (".z2h-write-test." + std::to_string(getpid()));
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  if (f == nullptr) {
    throw UserError("output directory '" + dir + "' is not writable: " + std::strerror(errno) +
                    " (pass another --out DIR)");
  }
  std::fclose(f);
  fs::remove(probe, ec);
  return path;
}

void write_file_atomic(const fs::path& path, std::string_view content) {
  const fs::path tmp = path.string() + ".tmp." + std::to_string(getpid());
  auto fail = [&](int err) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw UserError("cannot write '" + path.string() + "': " + std::strerror(err) +
                    " (check --out and the free disk space)");
  };
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) fail(errno);
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  const int write_err = errno;
  const bool closed = std::fclose(f) == 0;  // fclose flushes the buffer: a full disk may show up only here
  const int close_err = errno;
  if (!written) fail(write_err);
  if (!closed) fail(close_err);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail(errno);
}

void write_json_atomic(const fs::path& path, const nlohmann::json& value) {
  // `replace`: a string that is not valid UTF-8 (a sample of random bytes) is written with U+FFFD
  // instead of making dump() throw after a whole training run.
  write_file_atomic(path, value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

MetricsCsv::MetricsCsv(std::vector<std::string> columns) : columns_(std::move(columns)) {
  if (columns_.empty()) throw std::invalid_argument("MetricsCsv: no columns");
  for (const auto& c : columns_) {
    if (c.empty() || c.find_first_of(",\"\r\n") != std::string::npos) {
      throw std::invalid_argument("MetricsCsv: column name '" + c + "' is empty or needs CSV quoting");
    }
  }
}

void MetricsCsv::add_row(const std::vector<double>& values) {
  if (values.size() != columns_.size()) {
    throw std::invalid_argument("MetricsCsv::add_row: " + std::to_string(values.size()) + " values for " +
                                std::to_string(columns_.size()) + " columns");
  }
  values_.insert(values_.end(), values.begin(), values.end());
}

std::string MetricsCsv::str() const {
  std::string s;
  for (size_t c = 0; c < columns_.size(); ++c) s += (c ? "," : "") + columns_[c];
  s += '\n';
  char buf[64];
  for (size_t i = 0; i < values_.size(); ++i) {
    const double v = values_[i];
    // Whole numbers (steps, counts) as integers: "200000", not to_chars' shorter "2e+05".
    // Anything else as the shortest text that reads back as the same double.
    const bool whole = std::abs(v) < 0x1p53 && v == std::trunc(v);
    const auto result = whole ? std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v))
                              : std::to_chars(buf, buf + sizeof buf, v);
    s.append(buf, result.ptr);
    s += (i + 1) % columns_.size() == 0 ? '\n' : ',';
  }
  return s;
}

void MetricsCsv::save(const fs::path& path) const { write_file_atomic(path, str()); }

}  // namespace z2h
