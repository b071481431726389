#include "config/route_table.hpp"

#include <algorithm>

namespace cachecar::config {

RouteTable::RouteTable(const std::vector<RoutePolicy>& routes) : base_(routes.data()) {
  for (const auto& route : routes) ordered_.push_back(&route);
  std::stable_sort(ordered_.begin(), ordered_.end(),
                   [](const RoutePolicy* a, const RoutePolicy* b) {
                     return more_specific_first(a->path, b->path);
                   });
}

const RoutePolicy* RouteTable::match(std::string_view method, std::string_view path,
                                     RouteValues& values) const {
  for (const RoutePolicy* route : ordered_) {
    if (route->allows_method(method) && route->path.match(path, values)) return route;
  }
  values.clear();
  return nullptr;
}

}  // namespace cachecar::config
