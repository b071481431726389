// Route templates: compile the first line of the input, match the second as
// a path. Invariant: a path that matches has a canonical form that matches
// again and is its own canonical form.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/route_template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  std::string error;
  auto route = cachecar::config::RouteTemplate::parse(input.substr(0, newline), error);
  if (!route) return 0;
  cachecar::config::RouteValues values;
  if (!route->match(input.substr(newline + 1), values)) return 0;
  std::string canonical;
  route->append_canonical_path(values, canonical);
  cachecar::config::RouteValues again;
  if (!route->match(canonical, again)) __builtin_trap();
  std::string twice;
  route->append_canonical_path(again, twice);
  if (twice != canonical) __builtin_trap();
  return 0;
}
