// Request counters by route and cache status. Each worker writes only its
// own slab (relaxed atomics, no sharing of cache lines between workers);
// readers sum the slabs. Safe from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "cache/cache_status.hpp"

namespace cachecar::proxy {

enum class OriginFailure : unsigned char { refused, timeout, broken };
inline constexpr std::size_t kOriginFailureCount = 3;
const char* to_string(OriginFailure failure);

class Stats {
 public:
  // `routes` slots plus one for requests that match no route.
  Stats(std::size_t workers, std::size_t routes);

  void count(std::size_t worker, std::size_t route_slot, cache::CacheStatus status);
  void count_stored(std::size_t worker);
  void count_origin_failure(std::size_t worker, OriginFailure failure);

  std::size_t unmatched_slot() const { return routes_; }
  std::uint64_t by_route(std::size_t route_slot, cache::CacheStatus status) const;
  std::uint64_t stored() const;
  std::uint64_t origin_failures(OriginFailure failure) const;

 private:
  using Row = std::array<std::atomic<std::uint64_t>, cache::kCacheStatusCount>;
  struct alignas(64) Slab {
    explicit Slab(std::size_t routes) : by_route(routes + 1) {}
    std::vector<Row> by_route;
    std::atomic<std::uint64_t> stored{0};
    std::array<std::atomic<std::uint64_t>, kOriginFailureCount> origin_failures{};
  };

  std::size_t routes_;
  std::vector<std::unique_ptr<Slab>> slabs_;
};

}  // namespace cachecar::proxy
