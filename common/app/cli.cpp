#include "common/app/cli.hpp"

#include "common/app/error.hpp"

// OpenBLAS's own header, for openblas_set_num_threads. It is kept out of cli.hpp because <cblas.h>
// and xtensor-blas cannot be included in the same translation unit (duplicate declarations).
#include <cblas.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <new>
#include <sstream>

#ifndef Z2H_DEFAULT_DATA_DIR
#define Z2H_DEFAULT_DATA_DIR "data"  // the top-level CMakeLists.txt defines it as <repo>/data
#endif

namespace z2h {

namespace {

// Parses all of `s` as a decimal number. CLI11 reads integers with strtoll(..., base 0), where
// "010" is octal 8 and "0x10" is 16; nobody means that on a command line, so both are refused.
template <typename T>
bool parse_decimal(const std::string& s, T& value) {
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if constexpr (std::is_integral_v<T>) {
    const char* digits = (first != last && *first == '-') ? first + 1 : first;
    if (last - digits > 1 && *digits == '0') return false;  // a leading zero: C reads it as octal
  }
  auto [end, ec] = std::from_chars(first, last, value);
  return ec == std::errc() && end == last && first != last;
}

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

CLI::Validator seed_check() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        uint64_t v = 0;
        if (!parse_decimal(s, v)) return "must be an integer from 0 to 18446744073709551615, got " + in_quotes(s);
        return {};
      },
      "UINT64");
}

// CLI11 messages start with a capital ("The following argument was not expected: --foo"); ours
// follow "error: " in lower case, on one line.
// Also the last guard against a message that echoes untrusted bytes: control characters are
// escaped (no escape sequence reaches the terminal) and the line is cut at kMaxErrorBytes.
constexpr size_t kMaxErrorBytes = 1000;

std::string one_line(std::string raw) {
  std::string msg;
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    const auto u = static_cast<unsigned char>(c);
    const bool c1 = u == 0xC2 && i + 1 < raw.size() && static_cast<unsigned char>(raw[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(raw[i + 1]) <= 0x9F;  // a C1 control such as CSI, in UTF-8
    if (c1) {
      msg += quote(raw.substr(i, 2)).substr(1, 8);  // \xC2\x9B
      ++i;
    } else if (c == '\n' || c == '\r') msg += ' ';
    else if (u < 0x20 || u == 0x7F) {
      const std::string q = quote(std::string_view(&c, 1));  // '\t', '\x1B'
      msg += q.substr(1, q.size() - 2);
    }
    else msg += c;
  }
  if (msg.size() > kMaxErrorBytes) msg = msg.substr(0, kMaxErrorBytes) + "... (message cut)";
  if (msg.size() > 1 && std::isupper(static_cast<unsigned char>(msg[0])) &&
      std::islower(static_cast<unsigned char>(msg[1]))) {
    msg[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(msg[0])));
  }
  return msg;
}

// --help as "  --steps INT>=0    optimisation steps (default: 100)": the check as the type, the
// default after the description (CLI11's own "--steps INT:INT>=0=100" is hard to read).
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_opts(const CLI::Option* opt) const override {
    if (opt->get_type_size() == 0) return {};  // a flag such as --quiet takes no value
    const std::string type = opt->get_type_name();  // "INT" or "INT:INT>=0" with a check
    return " " + type.substr(type.rfind(':') + 1);
  }
  // A switch that sets false (`--no-tanh{false}`) is shown without its value: "--no-tanh".
  std::string make_option_name(const CLI::Option* opt, bool is_positional) const override {
    std::string name = CLI::Formatter::make_option_name(opt, is_positional);
    for (size_t open = name.find('{'); open != std::string::npos; open = name.find('{', open)) {
      const size_t close = name.find('}', open);
      if (close == std::string::npos) break;
      name.erase(open, close - open + 1);
    }
    return name;
  }
  std::string make_option_desc(const CLI::Option* opt) const override {
    const std::string def = opt->get_type_size() == 0 ? "" : opt->get_default_str();
    return opt->get_description() + (def.empty() ? "" : " (default: " + def + ")");
  }
};

void print_error(const std::string& msg) {
  std::cout.flush();  // whatever the stage printed so far comes first
  std::cerr << "error: " << one_line(msg) << std::endl;
}

}  // namespace

CLI::Validator at_least(int64_t min) {
  return CLI::Validator(
      [min](std::string& s) -> std::string {
        int64_t v = 0;
        if (!parse_decimal(s, v) || v < min) {
          return "must be an integer >= " + std::to_string(min) + ", got " + in_quotes(s);
        }
        return {};
      },
      "INT>=" + std::to_string(min));
}

CLI::Validator in_range(int64_t min, int64_t max) {
  const std::string range = "[" + std::to_string(min) + ", " + std::to_string(max) + "]";
  return CLI::Validator(
      [min, max, range](std::string& s) -> std::string {
        int64_t v = 0;
        if (!parse_decimal(s, v) || v < min || v > max) return "must be an integer in " + range + ", got " + in_quotes(s);
        return {};
      },
      "INT in " + range);
}

CLI::Validator between(double lo, double hi) {
  std::ostringstream os;
  os << "[" << lo << ", " << hi << "]";
  const std::string range = os.str();
  return CLI::Validator(
      [lo, hi, range](std::string& s) -> std::string {
        double v = 0;
        if (!parse_decimal(s, v) || !std::isfinite(v) || v < lo || v > hi) {
          return "must be a number in " + range + ", got " + in_quotes(s);
        }
        return {};
      },
      "NUMBER in " + range);
}

CLI::Validator positive() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        double v = 0;
        if (!parse_decimal(s, v) || !std::isfinite(v) || v <= 0) return "must be a number > 0, got " + in_quotes(s);
        return {};
      },
      "NUMBER>0");
}

void add_common_options(CLI::App& app, CommonOptions& opt) {
  if (opt.out.empty()) opt.out = "out/" + opt.stage;
  app.option_defaults()->always_capture_default();  // so --help can show every default
  auto formatter = std::make_shared<HelpFormatter>();
  formatter->column_width(26);
  app.formatter(formatter);
  app.add_option("--seed", opt.seed, "random seed, as torch.manual_seed")->check(seed_check());
  app.add_option("--out", opt.out, "directory for plots, metrics.csv, summary.json, checkpoints")
      ->type_name("DIR")
      ->check(CLI::Validator(
          [](std::string& s) -> std::string { return s.empty() ? "must name a directory, got ''" : ""; }, "DIR"));
  app.add_option("--threads", opt.threads, "OpenBLAS threads")->check(at_least(1));
  app.add_option("--data", opt.data, "the data file, or its directory; without it, the repo's data/")->type_name("PATH");
  app.add_option("--steps", opt.steps, "optimisation steps")->check(at_least(0));
  app.add_flag("--quiet", opt.quiet, "no progress bar");
}

void add_max_len_option(CLI::App& app, int& max_len) {
  app.add_option("--max-len", max_len, "longest sampled name: one that has not ended by then is cut there")
      ->check(in_range(1, 1000000));
}

int run_main(int argc, const char* const* argv, CLI::App& app, const CommonOptions& opt,
             const std::function<int()>& body) {
  try {
    try {
      app.parse(argc, argv);
    } catch (const CLI::Success& e) {  // --help: CLI11 prints it and answers 0
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      print_error(std::string(e.what()) + " (see --help)");
      return 2;
    }
    openblas_set_num_threads(opt.threads);
    return body();
  } catch (const UserError& e) {
    print_error(e.what());
    return 2;
  } catch (const std::bad_alloc&) {  // a size from a flag or a file that does not fit in memory
    print_error("out of memory (try smaller sizes in the flags: the model, --batch, --samples)");
    return 2;
  } catch (const std::length_error&) {  // a size no container can hold
    print_error("a requested size is too large to allocate (try smaller sizes in the flags)");
    return 2;
  } catch (const std::exception& e) {
    print_error(std::string("internal: ") + e.what());
    return 1;
  } catch (...) {
    print_error("internal: unknown exception");
    return 1;
  }
}

std::string data_file(const CommonOptions& opt, const std::string& name) {
  namespace fs = std::filesystem;
  std::error_code ec;  // the non-throwing overloads: a missing file is the normal case here
  if (!opt.data.empty()) {
    fs::path p = opt.data;
    if (fs::is_directory(p, ec)) p /= name;
    if (fs::is_regular_file(p, ec)) return p.string();
    throw UserError("data file '" + p.string() + "' not found (check --data: it names the file, or the directory holding " +
                    name + ")");
  }
  fs::path p = fs::path(Z2H_DEFAULT_DATA_DIR) / name;
  if (fs::is_regular_file(p, ec)) return p.string();
  const std::string stage = opt.stage.empty() ? "<stage>" : opt.stage;
  throw UserError("data file '" + name + "' not found (looked in " + std::string(Z2H_DEFAULT_DATA_DIR) +
                  "; run ./z2h run " + stage + " to fetch it, or pass --data PATH)");
}

}  // namespace z2h
