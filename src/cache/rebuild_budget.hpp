// rebuild_rate: how many origin rebuilds per second a route may cause in
// this process (ADR 0007). A token bucket holding one second's worth, kept
// as GCRA's "theoretical arrival time" so that a take is one compare and one
// add under a per-route mutex (only fetches take tokens; hits never do).
// Pure in time: callers pass `now`.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace cachecar::cache {

class RebuildBudget {
 public:
  using Clock = std::chrono::steady_clock;

  // `per_second`: tokens per second, > 0; the bucket holds max(1, per_second).
  explicit RebuildBudget(double per_second);

  // A token now, or reserved within `max_wait`: returns how long to wait
  // before using it (zero: at once). nullopt: none within `max_wait`, and
  // nothing was taken; `retry_after` says when one would be free.
  std::optional<Clock::duration> take(Clock::time_point now, Clock::duration max_wait,
                                      Clock::duration* retry_after = nullptr);

 private:
  std::mutex mutex_;
  Clock::duration interval_;   // one token per interval
  Clock::duration tolerance_;  // burst: tokens beyond the first, in time
  Clock::time_point tat_{};    // when the bucket would be full again
};

// One budget per route slot; routes without rebuild_rate have none.
class RebuildBudgets {
 public:
  explicit RebuildBudgets(const std::vector<std::optional<double>>& per_route);
  RebuildBudget* for_route(std::size_t slot) {
    return slot < budgets_.size() ? budgets_[slot].get() : nullptr;
  }

 private:
  std::vector<std::unique_ptr<RebuildBudget>> budgets_;
};

}  // namespace cachecar::cache
