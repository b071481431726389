// Maps (method, path) to the route that governs it. Routes are ordered so
// that the first match is the most specific one (ASP.NET Core precedence);
// the loader has already rejected overlaps where neither is more specific.
// Immutable after construction; safe to share across threads.
#pragma once

#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace cachecar::config {

class RouteTable {
 public:
  RouteTable() = default;
  explicit RouteTable(const std::vector<RoutePolicy>& routes);

  // The governing route, or nullptr (then the request is bypassed).
  // `values` views `path`, in the route template's variable order.
  const RoutePolicy* match(std::string_view method, std::string_view path,
                           RouteValues& values) const;

  // The route called `name`, or nullptr.
  const RoutePolicy* find(std::string_view name) const {
    for (const auto* route : ordered_) {
      if (route->name == name) return route;
    }
    return nullptr;
  }

  // Index of a route in the config's `routes` list (stable ids for stats).
  std::size_t index_of(const RoutePolicy* route) const {
    return static_cast<std::size_t>(route - base_);
  }

 private:
  const RoutePolicy* base_ = nullptr;
  std::vector<const RoutePolicy*> ordered_;
};

}  // namespace cachecar::config
