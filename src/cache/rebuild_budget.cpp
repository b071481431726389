#include "cache/rebuild_budget.hpp"

#include <algorithm>

namespace cachecar::cache {

RebuildBudget::RebuildBudget(double per_second)
    : interval_(std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(1.0 / per_second))),
      tolerance_(interval_ * static_cast<long>(std::max(1.0, per_second) - 1.0)) {}

std::optional<RebuildBudget::Clock::duration> RebuildBudget::take(Clock::time_point now,
                                                                  Clock::duration max_wait,
                                                                  Clock::duration* retry_after) {
  std::lock_guard lock(mutex_);
  Clock::time_point tat = std::max(tat_, now);
  // The token is free once the bucket has drained back below full.
  Clock::duration wait = std::max(Clock::duration::zero(), (tat - tolerance_) - now);
  if (wait > max_wait) {
    if (retry_after) *retry_after = wait;
    return std::nullopt;
  }
  tat_ = tat + interval_;
  return wait;
}

RebuildBudgets::RebuildBudgets(const std::vector<std::optional<double>>& per_route) {
  for (const auto& rate : per_route) {
    budgets_.push_back(rate && *rate > 0 ? std::make_unique<RebuildBudget>(*rate) : nullptr);
  }
}

}  // namespace cachecar::cache
