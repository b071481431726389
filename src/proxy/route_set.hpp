// One generation of the route table: what a config reload swaps. Immutable
// once published (its rebuild budgets are thread-safe); requests and the
// background work they start hold it by shared_ptr, so whatever began under
// one generation finishes under it while new requests see the next.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "cache/rebuild_budget.hpp"
#include "config/config.hpp"
#include "config/route_table.hpp"

namespace cachecar::proxy {

struct RouteSet {
  // `stats_slots[i]`: the stats slot of config->routes[i] (stable by route
  // name across reloads, so a route's counters keep counting).
  RouteSet(std::shared_ptr<const config::Config> config, std::vector<std::size_t> stats_slots,
           std::uint64_t generation);
  RouteSet(const RouteSet&) = delete;
  RouteSet& operator=(const RouteSet&) = delete;

  const std::shared_ptr<const config::Config> config;  // the file this generation came from
  const config::RouteTable table;                      // views config->routes
  const std::vector<std::size_t> stats_slots;
  const std::uint64_t generation;
  mutable cache::RebuildBudgets rebuild_budgets;  // per route index: rebuild_rate

  const std::vector<config::RoutePolicy>& routes() const { return config->routes; }
  std::size_t stats_slot(const config::RoutePolicy* route) const {
    return stats_slots[table.index_of(route)];
  }
  cache::RebuildBudget* rebuild_budget(const config::RoutePolicy& route) const {
    return rebuild_budgets.for_route(table.index_of(&route));
  }
};

using RouteSetPtr = std::shared_ptr<const RouteSet>;

}  // namespace cachecar::proxy
