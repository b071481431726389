// The gap rule (SPEC §5): while the bus subscription is down, entries may
// have missed events. An entry filled before the drop is not served more
// than the route's max_stale after it (0 when unset: not at all), and once
// the subscription is back every entry filled before that moment is
// fetched again before it is served. Thread-safe: the bus writes, workers
// read two atomics per hit.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace cachecar::invalidation {

class GapState {
 public:
  using Clock = std::chrono::system_clock;

  // A cachecar that runs the bus tracks its subscription from the start;
  // `apply_rule` is false in stream mode, where missed events are replayed
  // instead, so nothing is held back.
  void enable(Clock::time_point now, bool apply_rule = true) {
    enabled_.store(true, std::memory_order_relaxed);
    rule_.store(apply_rule, std::memory_order_relaxed);
    mark_down(now);  // not subscribed yet
  }
  void mark_down(Clock::time_point now) {
    std::int64_t expected = 0;
    down_since_ms_.compare_exchange_strong(expected, to_ms(now), std::memory_order_acq_rel);
  }
  // `after_gap`: false for the first subscription (nothing was missed).
  void mark_subscribed(Clock::time_point now, bool after_gap) {
    if (after_gap) invalid_before_ms_.store(to_ms(now), std::memory_order_release);
    down_since_ms_.store(0, std::memory_order_release);
  }

  bool servable(Clock::time_point stored_at, Clock::time_point now,
                std::chrono::milliseconds max_stale) const {
    if (!rule_.load(std::memory_order_relaxed)) return true;
    if (to_ms(stored_at) < invalid_before_ms_.load(std::memory_order_acquire)) return false;
    std::int64_t down = down_since_ms_.load(std::memory_order_acquire);
    return down == 0 || to_ms(now) <= down + max_stale.count();
  }
  bool subscribed() const { return down_since_ms_.load(std::memory_order_acquire) == 0; }
  // A bus runs (and subscribed() means something).
  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }

 private:
  static std::int64_t to_ms(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  }
  std::atomic<bool> enabled_{false};
  std::atomic<bool> rule_{false};
  std::atomic<std::int64_t> down_since_ms_{0};
  std::atomic<std::int64_t> invalid_before_ms_{0};
};

}  // namespace cachecar::invalidation
