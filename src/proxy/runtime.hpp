// What every worker and the admin endpoint share for the life of the
// process: the config it started with, the route table in force, the
// memory tier and the counters. Built once before any thread starts;
// read-only afterwards except for the thread-safe members (memory tier,
// stats, flags) and the route table, which a reload swaps whole.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "cache/fetch_lock.hpp"
#include "cache/rebuild_budget.hpp"
#include "config/config.hpp"
#include "config/route_table.hpp"
#include "fleet/event_acks.hpp"
#include "fleet/fill_signals.hpp"
#include "invalidation/bus.hpp"
#include "invalidation/gap.hpp"
#include "invalidation/log.hpp"
#include "metrics/latencies.hpp"
#include "metrics/refresh_counters.hpp"
#include "metrics/stats.hpp"
#include "proxy/route_set.hpp"
#include "proxy/startup_gate.hpp"
#include "store/memory_tier.hpp"
#include "store/redis_tier.hpp"

namespace cachecar::proxy {

struct Runtime {
  Runtime(config::Config config, std::size_t workers,
          boost::asio::ip::tcp::endpoint origin_endpoint);
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Distinct route names a process can count over its life (reloads add
  // names; a route keeps its slot while its name stays).
  static constexpr std::size_t kRouteSlotCapacity = 256;

  // As started. Process-wide settings (listen, admin, origin, store, limits,
  // invalidation) come from here and need a restart to change; routes and
  // defaults come from routes(), which a reload replaces.
  const config::Config config;
  const std::size_t workers;  // the control thread counts as one more stats slot: control_slot()
  const boost::asio::ip::tcp::endpoint origin_endpoint;
  store::MemoryTier memory;
  // Each worker's Redis tier (empty without store.redis), registered before
  // the workers start; read-only afterwards, their counters thread-safe.
  std::vector<const store::RedisTier*> redis_tiers;
  metrics::Stats stats;
  metrics::Latencies latencies;   // client-facing and origin, per worker (+ control)
  cache::FetchLocks fetch_locks;  // one origin fetch per key
  metrics::RefreshCounters refreshes;
  fleet::FillSignals fleet_fills;  // wakes lease losers when the holder is done
  fleet::EventAcks acks;           // the fleet's acknowledgements of our write-through events
  invalidation::InvalidationLog invalidations;  // "no stale set"
  invalidation::GapState gap;                   // the bus' gap rule
  invalidation::BusCounters bus;
  StartupGate startup;  // readyz waits for these
  std::atomic<std::uint64_t> reloads_ok{0}, reloads_failed{0};
  std::atomic<bool> listening{false};
  std::atomic<bool> draining{false};
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  // The route table in force. Workers compare routes_generation() (one
  // relaxed load) per request and take the new table only when it moved.
  RouteSetPtr routes() const {
    std::lock_guard lock(routes_mutex_);
    return routes_;
  }
  std::uint64_t routes_generation() const {
    return routes_generation_.load(std::memory_order_acquire);
  }
  // The next generation for `config` (validated); nullptr with `error` when
  // its route names would need more stats slots than there are.
  RouteSetPtr next_routes(std::shared_ptr<const config::Config> config, std::string& error);
  void publish(RouteSetPtr routes);

  std::size_t control_slot() const { return workers; }
  // The workers' Redis tiers summed; `degraded` when any breaker is open.
  store::StoreStats redis_totals(bool& degraded) const {
    store::StoreStats sum;
    degraded = false;
    for (const auto* tier : redis_tiers) {
      sum += tier->stats();
      degraded = degraded || tier->degraded();
    }
    return sum;
  }
  // How long a fleet lease lasts: a holder cannot keep it longer than a
  // fetch may take, so one that dies costs the fleet at most this long.
  std::chrono::milliseconds fleet_lease_ttl() const {
    return config.limits.origin_timeout + std::chrono::milliseconds(250);
  }

 private:
  mutable std::mutex routes_mutex_;
  RouteSetPtr routes_;
  std::atomic<std::uint64_t> routes_generation_{0};
  std::map<std::string, std::size_t> stats_slot_by_name_;  // under routes_mutex_
};

}  // namespace cachecar::proxy
