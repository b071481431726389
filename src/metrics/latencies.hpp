// The request path's latency histograms: what clients waited for, by
// status class, and how long the origin took to answer (to its response
// head). One shard per worker plus one for the control thread.
#pragma once

#include <memory>
#include <vector>

#include "metrics/latency_histogram.hpp"

namespace cachecar::metrics {

inline constexpr std::size_t kStatusClasses = 5;  // 1xx .. 5xx

class Latencies {
 public:
  explicit Latencies(std::size_t slots) {
    for (std::size_t i = 0; i < slots; ++i) shards_.push_back(std::make_unique<Shards>());
  }

  void client(std::size_t slot, unsigned status, std::chrono::nanoseconds elapsed) {
    std::size_t cls = status >= 100 && status < 600 ? status / 100 - 1 : kStatusClasses - 1;
    shards_[slot]->client[cls].observe(elapsed);
  }
  void origin(std::size_t slot, std::chrono::nanoseconds elapsed) {
    shards_[slot]->origin.observe(elapsed);
  }

  LatencySnapshot client_snapshot(std::size_t status_class) const {
    LatencySnapshot sum;
    for (const auto& s : shards_) sum.add(s->client[status_class]);
    return sum;
  }
  LatencySnapshot origin_snapshot() const {
    LatencySnapshot sum;
    for (const auto& s : shards_) sum.add(s->origin);
    return sum;
  }

 private:
  struct Shards {
    std::array<LatencyShard, kStatusClasses> client;
    LatencyShard origin;
  };
  std::vector<std::unique_ptr<Shards>> shards_;
};

}  // namespace cachecar::metrics
