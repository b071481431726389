// Typed reads from yaml-cpp nodes that never throw: each problem becomes a
// Diagnostic at the node's line:col naming the key, and reading goes on so
// that `--check` reports every problem in one run.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/diagnostic.hpp"
#include "config/units.hpp"

namespace cachecar::config {

class YamlReader {
 public:
  explicit YamlReader(std::vector<Diagnostic>& errors) : errors_(errors) {}

  void error(const YAML::Node& at, std::string message);
  void error(const YAML::Mark& at, std::string message);

  // False (and an error) unless `node` is a mapping.
  bool expect_map(const YAML::Node& node, const std::string& key);
  // Reports every key of `map` that is not in `allowed`.
  void reject_unknown_keys(const YAML::Node& map, const std::vector<std::string_view>& allowed,
                           const std::string& where);

  std::optional<std::string> string(const YAML::Node& node, const std::string& key);
  std::optional<Duration> duration(const YAML::Node& node, const std::string& key);
  std::optional<std::uint64_t> size(const YAML::Node& node, const std::string& key);
  std::optional<double> percent(const YAML::Node& node, const std::string& key);
  std::optional<double> rate(const YAML::Node& node, const std::string& key);
  std::optional<double> number(const YAML::Node& node, const std::string& key, double min,
                               double max);
  std::optional<std::int64_t> integer(const YAML::Node& node, const std::string& key,
                                      std::int64_t min, std::int64_t max);
  std::optional<bool> boolean(const YAML::Node& node, const std::string& key);
  // A sequence of strings; a single scalar is taken as a list of one when allowed.
  std::optional<std::vector<std::string>> string_list(const YAML::Node& node,
                                                      const std::string& key, bool scalar_allowed);

  template <typename Enum>
  std::optional<Enum> choice(const YAML::Node& node, const std::string& key,
                             std::initializer_list<std::pair<std::string_view, Enum>> options) {
    auto text = string(node, key);
    if (!text) return std::nullopt;
    std::string names;
    for (const auto& [name, value] : options) {
      if (name == *text) return value;
      names += names.empty() ? std::string(name) : " | " + std::string(name);
    }
    error(node, key + ": '" + *text + "' is not one of " + names);
    return std::nullopt;
  }

 private:
  std::vector<Diagnostic>& errors_;
};

}  // namespace cachecar::config
