#pragma once
// common/app/settings.hpp — one definition per setting. A stage declares its hyper-parameters once,
// as the fields of a struct with the lecture's values; one line per setting then makes it a flag
// and records it for summary.json's "config", so a name is never spelled twice.
//
//   struct Hyper {
//     double lr = 0.1;       // the learning rate
//     int batch_size = 32;
//     double saturation = 0.99;
//   };
//   Hyper hp;
//   z2h::Settings settings(app);
//   settings.option("--lr", hp.lr, "learning rate")->check(z2h::positive());      // config "lr"
//   settings.option("--batch", hp.batch_size, "minibatch size", "batch_size");    // config "batch_size"
//   settings.record("saturation", hp.saturation);                                  // no flag, still in config
//   settings.choice("--init", hp.model.init, {{"lecture", Init::lecture}, {"tuned", Init::tuned}}, "...");
//   ...
//   summary["config"] = settings.json();   // {"batch_size": 32, "lr": 0.1, "saturation": 0.99}
//
// The config key is the flag's name without its dashes, '-' read as '_' ("--lr-decay-step" ->
// "lr_decay_step"), unless a key is given. Values are read when json() is called, so what a run
// settles after parsing (a mode's own default, a checkpoint's sizes) is what summary.json shows.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace z2h {

class Settings {
 public:
  explicit Settings(CLI::App& app) : app_(app) {}

  // A flag that takes a value (CLI11's add_option), bound to `field`, recorded under `key`.
  template <typename T>
  CLI::Option* option(const std::string& flag, T& field, const std::string& help, const std::string& key = "") {
    record(key.empty() ? key_of(flag) : key, field);
    return options_.emplace_back(&field, app_.add_option(flag, field, help)).second;
  }

  // A switch (CLI11's add_flag): present means true.
  CLI::Option* flag(const std::string& flag, bool& field, const std::string& help, const std::string& key = "") {
    record(key.empty() ? key_of(flag) : key, field);
    return options_.emplace_back(&field, app_.add_flag(flag, field, help)).second;
  }

  // A flag that takes one of a few names, bound to an enum field: the flag and summary.json show
  // the names, the field holds the enum. `settings.choice("--init", cfg.init,
  // {{"lecture", Init::lecture}, {"tuned", Init::tuned}}, "how the weights start")`.
  template <typename E>
  CLI::Option* choice(const std::string& flag, E& field, std::vector<std::pair<std::string, E>> names,
                      const std::string& help, const std::string& key = "") {
    auto name_of = [names, &field] {
      for (const auto& [n, v] : names)
        if (v == field) return n;
      return std::string();
    };
    derived(key.empty() ? key_of(flag) : key, [name_of] { return nlohmann::json(name_of()); });
    std::vector<std::string> allowed;
    for (const auto& nv : names) allowed.push_back(nv.first);
    CLI::Option* o = app_.add_option_function<std::string>(
                             flag,
                             [&field, names](const std::string& s) {
                               for (const auto& [n, v] : names)
                                 if (n == s) field = v;
                             },
                             help)
                         ->check(CLI::IsMember(allowed))
                         ->default_str(name_of());
    return options_.emplace_back(&field, o).second;
  }

  // Whether the command line gave the flag bound to `field` (a run may then keep it over a default
  // of its own: `if (!settings.given(hp.n_hidden)) hp.n_hidden = 100;`).
  template <typename T>
  bool given(const T& field) const { return option_of(&field)->count() > 0; }

  // The flag bound to `field`, as the person typed it: "--n-hidden".
  template <typename T>
  std::string flag_of(const T& field) const { return option_of(&field)->get_name(); }

  // A setting that is not a flag (or one that CommonOptions defines, like steps and seed).
  template <typename T>
  void record(const std::string& key, const T& field) {
    entries_.emplace_back(key, [&field] { return nlohmann::json(field); });
  }

  // A value the run derives from its settings (the sizes a --variant implies), computed on demand.
  void derived(const std::string& key, std::function<nlohmann::json()> value) {
    entries_.emplace_back(key, std::move(value));
  }

  // {"key": value, ...} for every setting, as the fields hold them now.
  nlohmann::json json() const {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [key, value] : entries_) j[key] = value();
    return j;
  }

  // "--lr-decay-step" -> "lr_decay_step"
  static std::string key_of(const std::string& flag) {
    std::string k = flag.substr(flag.find_first_not_of('-'));
    for (char& c : k)
      if (c == '-') c = '_';
    return k;
  }

 private:
  CLI::Option* option_of(const void* field) const {
    for (const auto& [f, o] : options_)
      if (f == field) return o;
    throw std::logic_error("no flag is bound to this setting");  // a bug in the stage
  }

  CLI::App& app_;
  std::vector<std::pair<const void*, CLI::Option*>> options_;
  std::vector<std::pair<std::string, std::function<nlohmann::json()>>> entries_;
};

}  // namespace z2h
