#include "common/io/output.hpp"

#include "common/app/error.hpp"

#include <fcntl.h>      // open
#include <signal.h>     // kill(pid, 0): is a process alive?
#include <unistd.h>     // getpid, fsync

#include <atomic>
#include <regex>

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

fs::path temp_path(const fs::path& target) {
  static std::atomic<unsigned> counter{0};  // two temp files of one process (threads) never collide
  return target.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

void sync_and_close(std::FILE* f, const fs::path& path) {
  const bool flushed = std::fflush(f) == 0;
  const int flush_err = errno;
  const bool synced = flushed && ::fsync(::fileno(f)) == 0;  // on the disk, not only in the page cache
  const int sync_err = errno;
  const bool closed = std::fclose(f) == 0;
  const int close_err = errno;
  if (!flushed || !synced || !closed) {
    throw UserError("cannot write " + quote_path(path.string()) + ": " +
                    std::strerror(!flushed ? flush_err : !synced ? sync_err : close_err) +
                    " (check --out and the free disk space)");
  }
}

int remove_stale_temp_files(const fs::path& dir) {
  // <name>.tmp.<pid>[.<n>] (write_file_atomic, plots) and .<name>.tmp-<pid>-<n> (older plots).
  static const std::regex pattern(R"((.+\.tmp\.([0-9]{1,9})(\.[0-9]+)?)|(\..+\.tmp-([0-9]{1,9})-[0-9]+))");
  std::error_code ec;
  int removed = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, pattern) || !it->is_regular_file(ec)) continue;
    const long pid = std::stol(m[2].matched ? m[2].str() : m[5].str());
    if (pid == ::getpid()) continue;                                  // ours, in use
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to ask)
    std::error_code rm;
    if (fs::remove(it->path(), rm)) ++removed;
  }
  return removed;
}

fs::path prepare_out_dir(const std::string& dir) {
  if (dir.empty()) throw UserError("the output directory is '' (pass --out DIR with a directory name)");
  const fs::path path = fs::path(dir);
  if (const fs::path file = blocking_file(path); !file.empty()) {
    throw UserError("cannot create output directory " + quote_path(dir) + ": " + quote_path(file.string()) +
                    " is a file, not a directory (pass another --out DIR)");
  }
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) {
    throw UserError("cannot create output directory " + quote_path(dir) + ": " + ec.message() + " (pass another --out DIR)");
  }
  // Writable? Try it: permission bits do not tell (root, read-only mounts, /proc).
  const fs::path probe = path / (".z2h-write-test." + std::to_string(getpid()));
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  if (f == nullptr) {
    throw UserError("output directory " + quote_path(dir) + " is not writable: " + std::strerror(errno) +
                    " (pass another --out DIR)");
  }
  std::fclose(f);
  fs::remove(probe, ec);
  remove_stale_temp_files(path);  // what a killed run left behind
  return path;
}

void write_file_atomic(const fs::path& path, std::string_view content) {
  const fs::path tmp = temp_path(path);
  auto fail = [&](int err) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw UserError("cannot write " + quote_path(path.string()) + ": " + std::strerror(err) +
                    " (check --out and the free disk space)");
  };
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) fail(errno);
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  const int write_err = errno;
  try {
    sync_and_close(f, path);  // a full disk often shows only when the buffer is flushed
  } catch (const UserError&) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  if (!written) fail(write_err);
  commit_temp_file(tmp, path);
}

void commit_temp_file(const fs::path& tmp, const fs::path& path) {
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw UserError("cannot write " + quote_path(path.string()) + ": " + std::strerror(err) +
                    " (check --out and the free disk space)");
  }
  // The rename itself is durable once the directory is synced (best effort: not every file
  // system lets a directory be opened for that).
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
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
