// What one thread owns for talking to the origin and to Redis: each worker
// has one, and so has the control thread (warming). Everything here is
// used on that thread only, so none of it locks.
#pragma once

#include <memory>
#include <optional>
#include <random>
#include <string>

#include "fleet/fleet_link.hpp"
#include "net/beast.hpp"
#include "net/origin_pool.hpp"
#include "proxy/runtime.hpp"
#include "store/redis_tier.hpp"

namespace cachecar::proxy {

class WorkerContext {
 public:
  // `stats_slot`: the worker's index, or runtime.control_slot().
  WorkerContext(Runtime& runtime, std::size_t stats_slot, net::asio::any_io_executor executor);
  WorkerContext(const WorkerContext&) = delete;
  WorkerContext& operator=(const WorkerContext&) = delete;

  Runtime& runtime() { return runtime_; }
  std::size_t stats_slot() const { return stats_slot_; }
  const net::asio::any_io_executor& executor() const { return executor_; }
  net::OriginPool& origin() { return origin_; }
  // This thread's shared tier, or nullptr without store.redis.
  store::RedisTier* redis() { return redis_.get(); }
  // Leases and PUBLISH over the same Redis, or nullptr without store.redis.
  fleet::FleetLink* fleet() { return fleet_ ? &*fleet_ : nullptr; }
  // Uniform in [0, 1): ttl jitter and XFetch draws.
  double jitter_draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }
  // A fresh random fleet-lease token.
  std::string lease_token();

 private:
  Runtime& runtime_;
  std::size_t stats_slot_;
  net::asio::any_io_executor executor_;
  net::OriginPool origin_;
  std::unique_ptr<store::RedisTier> redis_;
  std::optional<fleet::FleetLink> fleet_;
  std::minstd_rand random_;
};

}  // namespace cachecar::proxy
