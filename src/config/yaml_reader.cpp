#include "config/yaml_reader.hpp"

#include <algorithm>
#include <cmath>

namespace cachecar::config {

void YamlReader::error(const YAML::Mark& at, std::string message) {
  errors_.push_back({at.line + 1, at.column + 1, std::move(message)});
}

void YamlReader::error(const YAML::Node& at, std::string message) {
  error(at.Mark(), std::move(message));
}

bool YamlReader::expect_map(const YAML::Node& node, const std::string& key) {
  if (node.IsMap()) return true;
  error(node, key + ": expected a mapping of keys to values");
  return false;
}

void YamlReader::reject_unknown_keys(const YAML::Node& map,
                                     const std::vector<std::string_view>& allowed,
                                     const std::string& where) {
  for (const auto& item : map) {
    const std::string name = item.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string prefix = where.empty() ? "" : where + ".";
      error(item.first, "unknown key '" + prefix + name + "'");
    }
  }
}

std::optional<std::string> YamlReader::string(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) {
    error(node, key + ": expected a single value");
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<Duration> YamlReader::duration(const YAML::Node& node, const std::string& key) {
  auto text = string(node, key);
  if (!text) return std::nullopt;
  std::string reason;
  auto value = parse_duration(*text, reason);
  if (!value) error(node, key + ": " + reason);
  return value;
}

std::optional<std::uint64_t> YamlReader::size(const YAML::Node& node, const std::string& key) {
  auto text = string(node, key);
  if (!text) return std::nullopt;
  std::string reason;
  auto value = parse_size(*text, reason);
  if (!value) error(node, key + ": " + reason);
  return value;
}

std::optional<double> YamlReader::percent(const YAML::Node& node, const std::string& key) {
  auto text = string(node, key);
  if (!text) return std::nullopt;
  std::string reason;
  auto value = parse_percent(*text, reason);
  if (!value) error(node, key + ": " + reason);
  return value;
}

std::optional<double> YamlReader::rate(const YAML::Node& node, const std::string& key) {
  auto text = string(node, key);
  if (!text) return std::nullopt;
  std::string reason;
  auto value = parse_rate(*text, reason);
  if (!value) error(node, key + ": " + reason);
  return value;
}

std::optional<double> YamlReader::number(const YAML::Node& node, const std::string& key, double min,
                                         double max) {
  auto text = string(node, key);
  if (!text) return std::nullopt;
  try {
    std::size_t used = 0;
    double value = std::stod(*text, &used);
    if (used == text->size() && std::isfinite(value) && value >= min && value <= max) return value;
  } catch (const std::exception&) {
  }
  error(node, key + ": expected a number from " + std::to_string(min) + " to " +
                  std::to_string(max) + ", got '" + *text + "'");
  return std::nullopt;
}

std::optional<std::int64_t> YamlReader::integer(const YAML::Node& node, const std::string& key,
                                                std::int64_t min, std::int64_t max) {
  auto text = string(node, key);
  if (!text) return std::nullopt;
  try {
    std::size_t used = 0;
    long long value = std::stoll(*text, &used);
    if (used == text->size() && value >= min && value <= max) return value;
  } catch (const std::exception&) {
  }
  error(node, key + ": expected a whole number from " + std::to_string(min) + " to " +
                  std::to_string(max) + ", got '" + *text + "'");
  return std::nullopt;
}

std::optional<bool> YamlReader::boolean(const YAML::Node& node, const std::string& key) {
  auto text = string(node, key);
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  error(node, key + ": expected true or false, got '" + *text + "'");
  return std::nullopt;
}

std::optional<std::vector<std::string>> YamlReader::string_list(const YAML::Node& node,
                                                                const std::string& key,
                                                                bool scalar_allowed) {
  std::vector<std::string> values;
  if (node.IsScalar() && scalar_allowed) {
    values.push_back(node.Scalar());
    return values;
  }
  if (!node.IsSequence()) {
    error(node, key + ": expected a list of values");
    return std::nullopt;
  }
  bool ok = true;
  for (const auto& item : node) {
    if (!item.IsScalar()) {
      error(item, key + ": expected a list of plain values");
      ok = false;
      continue;
    }
    values.push_back(item.Scalar());
  }
  if (!ok) return std::nullopt;
  return values;
}

}  // namespace cachecar::config
