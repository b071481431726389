// config/cachecar.schema.json and the loader describe the same keys (issue
// 11): every key the loader accepts is in the schema, and the schema names
// no key the loader would reject. Which values are valid is checked against
// the shipped configs by tests/docs/validate_configs.py.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "config/config_keys.hpp"

namespace cachecar::config {
namespace {

using nlohmann::json;
using Sections = std::map<std::string, std::set<std::string>>;

// Every mapping the schema describes, by the path config_keys.hpp uses.
// $refs are not followed: the shared definitions are walked on their own.
void collect(const json& node, const std::string& path, Sections& out) {
  if (!node.is_object()) return;
  if (node.contains("properties")) {
    auto& keys = out[path];
    for (const auto& [name, property] : node["properties"].items()) {
      keys.insert(name);
      collect(property, path.empty() ? name : path + "." + name, out);
    }
  }
  for (const char* alternatives : {"oneOf", "anyOf"}) {
    if (node.contains(alternatives)) {
      for (const auto& alternative : node[alternatives]) collect(alternative, path, out);
    }
  }
}

Sections schema_sections() {
  std::ifstream file(std::string(CACHECAR_SOURCE_DIR) + "/config/cachecar.schema.json");
  json schema = json::parse(file);
  Sections sections;
  collect(schema, "", sections);
  collect(schema["$defs"]["policy"], "policy", sections);
  collect(schema["$defs"]["route"], "routes[]", sections);
  return sections;
}

Sections loader_sections() {
  Sections sections;
  for (const auto& section : config_sections()) {
    sections[std::string(section.path)] =
        std::set<std::string>(section.keys.begin(), section.keys.end());
  }
  return sections;
}

TEST(ConfigSchema, DescribesExactlyTheKeysTheLoaderAccepts) {
  const Sections schema = schema_sections();
  const Sections loader = loader_sections();
  for (const auto& [path, keys] : loader) {
    auto it = schema.find(path);
    ASSERT_NE(it, schema.end()) << "the schema has no section '" << path << "'";
    for (const auto& key : keys)
      EXPECT_TRUE(it->second.count(key)) << "the schema lacks '" << path << "." << key << "'";
  }
  for (const auto& [path, keys] : schema) {
    auto it = loader.find(path);
    ASSERT_NE(it, loader.end()) << "the schema describes '" << path
                                << "', which the loader does not read";
    for (const auto& key : keys) {
      EXPECT_TRUE(it->second.count(key))
          << "the schema names '" << path << "." << key << "', which the loader rejects";
    }
  }
}

TEST(ConfigSchema, EveryRouteAcceptsEveryPolicyKey) {
  // A route is the shared policy plus its own name and match.
  std::ifstream file(std::string(CACHECAR_SOURCE_DIR) + "/config/cachecar.schema.json");
  json schema = json::parse(file);
  EXPECT_EQ(schema["$defs"]["route"]["$ref"], "#/$defs/policy");
  EXPECT_EQ(schema["$defs"]["route"]["unevaluatedProperties"], false);
  EXPECT_EQ(schema["properties"]["defaults"]["oneOf"][0]["$ref"], "#/$defs/policy");
}

}  // namespace
}  // namespace cachecar::config
