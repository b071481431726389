// What every worker and the admin endpoint share for the life of the
// process: the validated config, its route table, the memory tier and the
// counters. Built once before any thread starts; read-only afterwards
// except for the thread-safe members (memory tier, stats, flags).
#pragma once

#include "config/config.hpp"
#include "cache/fetch_lock.hpp"
#include "cache/rebuild_budget.hpp"
#include "config/route_table.hpp"
#include "invalidation/bus.hpp"
#include "invalidation/gap.hpp"
#include "invalidation/log.hpp"
#include "proxy/event_acks.hpp"
#include "proxy/fleet_fill_signals.hpp"
#include "proxy/refresh_counters.hpp"
#include "proxy/startup_gate.hpp"
#include "proxy/stats.hpp"
#include "store/memory_tier.hpp"
#include "store/redis_tier.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>

namespace cachecar::proxy {

struct Runtime {
  Runtime(config::Config config, std::size_t workers, boost::asio::ip::tcp::endpoint origin_endpoint);
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const config::Config config;
  const config::RouteTable routes;  // views config.routes
  const std::size_t workers;  // the control thread counts as one more stats slot: control_slot()
  const boost::asio::ip::tcp::endpoint origin_endpoint;
  store::MemoryTier memory;
  // Each worker's Redis tier (empty without store.redis), registered before
  // the workers start; read-only afterwards, their counters thread-safe.
  std::vector<const store::RedisTier*> redis_tiers;
  Stats stats;
  cache::FetchLocks fetch_locks;                // one origin fetch per key
  cache::RebuildBudgets rebuild_budgets;        // per route slot: rebuild_rate
  RefreshCounters refreshes;
  FleetFillSignals fleet_fills;  // wakes lease losers when the holder is done
  EventAcks acks;                // the fleet's acknowledgements of our write-through events
  invalidation::InvalidationLog invalidations;  // "no stale set"
  invalidation::GapState gap;                   // the bus' gap rule
  invalidation::BusCounters bus;
  StartupGate startup;  // readyz waits for these
  std::atomic<bool> listening{false};
  std::atomic<bool> draining{false};
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

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
};

}  // namespace cachecar::proxy
