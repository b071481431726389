// Latency histograms with fixed buckets (Prometheus histogram semantics).
// A shard has one writer (a worker thread, or one Redis client) and is
// written with relaxed atomics; a scrape sums the shards into a snapshot.
// Nothing on the request path locks or shares a cache line across threads.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace cachecar::metrics {

// Upper bounds in seconds: 100 µs (a memory hit) to 10 s (an origin timeout).
inline constexpr std::array<double, 15> kLatencyBounds{
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

class alignas(64) LatencyShard {
 public:
  void observe(std::chrono::nanoseconds elapsed) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    std::size_t bucket = 0;
    while (bucket < kLatencyBounds.size() && seconds > kLatencyBounds[bucket]) ++bucket;
    buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<std::uint64_t>(elapsed.count() > 0 ? elapsed.count() : 0),
                      std::memory_order_relaxed);
  }

 private:
  friend struct LatencySnapshot;
  std::array<std::atomic<std::uint64_t>, kLatencyBounds.size() + 1> buckets_{};  // the last is +Inf
  std::atomic<std::uint64_t> sum_ns_{0};
};

struct LatencySnapshot {
  std::array<std::uint64_t, kLatencyBounds.size() + 1> buckets{};  // per bucket, not cumulative
  std::uint64_t count = 0;
  double sum_seconds = 0;

  void add(const LatencyShard& shard) {
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      auto n = shard.buckets_[i].load(std::memory_order_relaxed);
      buckets[i] += n;
      count += n;
    }
    sum_seconds += static_cast<double>(shard.sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  }
};

}  // namespace cachecar::metrics
