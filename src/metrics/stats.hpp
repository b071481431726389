// Request counters by route and cache status (the status by its number:
// metrics/ sits below cache/ in the module graph, so it counts what it is
// told), stores and origin failures. Each worker writes only its own slab
// (relaxed atomics, no sharing of cache lines between workers); readers
// sum the slabs. Safe from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace cachecar::metrics {

enum class OriginFailure : unsigned char { refused, timeout, broken };
inline constexpr std::size_t kOriginFailureCount = 3;
const char* to_string(OriginFailure failure);

class Stats {
 public:
  // `routes` slots plus one for requests that match no route, each with
  // `statuses` counters.
  Stats(std::size_t workers, std::size_t routes, std::size_t statuses);

  void count(std::size_t worker, std::size_t route_slot, std::size_t status);
  void count_stored(std::size_t worker);
  void count_origin_failure(std::size_t worker, OriginFailure failure);

  std::size_t unmatched_slot() const { return routes_; }
  std::uint64_t by_route(std::size_t route_slot, std::size_t status) const;
  std::uint64_t stored() const;
  std::uint64_t origin_failures(OriginFailure failure) const;

 private:
  struct alignas(64) Slab {
    Slab(std::size_t routes, std::size_t statuses) : by_route((routes + 1) * statuses) {}
    std::vector<std::atomic<std::uint64_t>> by_route;  // [route_slot * statuses + status]
    std::atomic<std::uint64_t> stored{0};
    std::array<std::atomic<std::uint64_t>, kOriginFailureCount> origin_failures{};
  };

  std::size_t routes_;
  std::size_t statuses_;
  std::vector<std::unique_ptr<Slab>> slabs_;
};

}  // namespace cachecar::metrics
