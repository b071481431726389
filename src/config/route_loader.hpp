// Parsing and validation of the `routes:` list (with `defaults:` merged in),
// including cross-route checks: unique names, overlap, `refreshes` targets.
#pragma once

#include <vector>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace cachecar::config {

std::vector<RoutePolicy> load_routes(YamlReader& reader, const YAML::Node& routes,
                                     const YAML::Node& defaults);

}  // namespace cachecar::config
