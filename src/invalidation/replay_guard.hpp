// Remembers the eids of the events this cachecar applied, so that a
// captured event published again (or a stream entry read twice) is not
// applied twice. An eid is kept for twice invalidation.max_skew: past that
// its event's ts is outside the window and validation refuses it anyway.
// Bounded: at most `capacity` eids, the oldest forgotten first. Not thread
// safe: the bus calls it from its one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

namespace cachecar::invalidation {

class ReplayGuard {
 public:
  using Clock = std::chrono::system_clock;

  explicit ReplayGuard(std::chrono::milliseconds max_skew, std::size_t capacity = 100'000)
      : keep_for_(2 * max_skew), capacity_(capacity) {}

  // True the first time `eid` is offered within the window (it is then
  // remembered); false for a repeat.
  bool first_sighting(std::string_view eid, Clock::time_point now) {
    while (!order_.empty() && (order_.front().forget_at <= now || order_.size() >= capacity_)) {
      seen_.erase(order_.front().eid);
      order_.pop_front();
    }
    auto [it, inserted] = seen_.emplace(eid);
    if (!inserted) return false;
    order_.push_back({std::chrono::time_point_cast<Clock::duration>(now + keep_for_), *it});
    return true;
  }

  std::size_t remembered() const { return seen_.size(); }

 private:
  struct Sighting {
    Clock::time_point forget_at;
    std::string eid;
  };
  std::chrono::milliseconds keep_for_;
  std::size_t capacity_;
  std::unordered_set<std::string> seen_;
  std::deque<Sighting> order_;
};

}  // namespace cachecar::invalidation
