// Applies an invalidation Scope to both tiers: first into the log (so that
// fills in flight see it), then the memory tier, then Redis (tag sets,
// or a SCAN for key/prefix/entity-wide scopes). Used by the bus and by the
// admin endpoint; runs on the control thread (it owns `redis`).
#pragma once

#include <boost/asio/awaitable.hpp>

#include "fleet/fleet_link.hpp"
#include "invalidation/log.hpp"
#include "invalidation/scope.hpp"
#include "store/memory_tier.hpp"
#include "store/redis_tier.hpp"

namespace cachecar::invalidation {

class Invalidator {
 public:
  Invalidator(store::MemoryTier& memory, store::RedisTier* redis, InvalidationLog& log,
              std::string environment)
      : memory_(memory), redis_(redis), log_(log), environment_(std::move(environment)) {
    if (redis_) fleet_.emplace(redis_->client(), redis_->key_namespace());
  }

  struct Result {
    std::uint64_t memory = 0;
    std::uint64_t redis = 0;
  };
  boost::asio::awaitable<Result> apply(Scope scope);
  const std::string& environment() const { return environment_; }
  store::RedisTier* redis() const { return redis_; }
  // PUBLISH to the fleet over the same Redis, or nullptr without one.
  fleet::FleetLink* fleet() { return fleet_ ? &*fleet_ : nullptr; }

 private:
  std::uint64_t purge_memory(const Scope& scope);

  store::MemoryTier& memory_;
  store::RedisTier* redis_;
  std::optional<fleet::FleetLink> fleet_;
  InvalidationLog& log_;
  std::string environment_;
};

}  // namespace cachecar::invalidation
