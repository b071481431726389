// Every key the config loader accepts, section by section (SPEC §3). One
// table: the loader rejects what is not in it, and the schema test checks
// that config/cachecar.schema.json describes exactly these keys.
#pragma once

#include <string_view>
#include <vector>

namespace cachecar::config {

struct ConfigSection {
  // Where the mapping sits, as the schema test names it: "" for the top
  // level, "store.redis", "routes[]" for each route's own keys, "policy"
  // for the keys a route shares with `defaults:`.
  std::string_view path;
  std::vector<std::string_view> keys;
};

const std::vector<ConfigSection>& config_sections();

// The keys of one section (`path` as above); an unknown path is a bug and
// throws std::logic_error.
const std::vector<std::string_view>& keys_of(std::string_view path);

}  // namespace cachecar::config
