#include "proxy/runtime.hpp"

#include <random>

#include "cache/cache_status.hpp"

namespace cachecar::proxy {

Runtime::Runtime(config::Config config_in, std::size_t worker_count,
                 boost::asio::ip::tcp::endpoint origin)
    : config(std::move(config_in)),
      workers(worker_count),
      origin_endpoint(origin),
      memory(config.memory.max_bytes, config.memory.max_entry_bytes),
      stats(worker_count + 1, kRouteSlotCapacity, cache::kCacheStatusCount),
      latencies(worker_count + 1),
      acks("cachecar:ack:" + std::to_string(std::random_device{}()) +
           std::to_string(std::random_device{}())) {
  std::string error;
  publish(next_routes(std::make_shared<const config::Config>(config), error));
}

RouteSetPtr Runtime::next_routes(std::shared_ptr<const config::Config> next, std::string& error) {
  std::lock_guard lock(routes_mutex_);
  std::vector<std::size_t> slots;
  std::size_t fresh_names = 0;
  for (const auto& route : next->routes) {
    if (!stats_slot_by_name_.count(route.name)) ++fresh_names;
  }
  if (stats_slot_by_name_.size() + fresh_names > kRouteSlotCapacity) {
    error = "the routes would bring the distinct route names counted since start past " +
            std::to_string(kRouteSlotCapacity) + "; restart cachecar to load them";
    return nullptr;
  }
  for (const auto& route : next->routes) {
    auto [it, added] = stats_slot_by_name_.emplace(route.name, stats_slot_by_name_.size());
    slots.push_back(it->second);
  }
  const std::uint64_t generation = routes_ ? routes_->generation + 1 : 1;
  return std::make_shared<const RouteSet>(std::move(next), std::move(slots), generation);
}

void Runtime::publish(RouteSetPtr next) {
  std::lock_guard lock(routes_mutex_);
  routes_ = std::move(next);
  routes_generation_.store(routes_->generation, std::memory_order_release);
}

}  // namespace cachecar::proxy
