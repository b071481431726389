// "No stale set" (DESIGN.md, SPEC §5): a fill notes the log's sequence
// number when it begins; before storing, it asks whether an invalidation
// recorded since then covers its key or tags, and drops the fill if so.
// The log keeps recent invalidations only; asked about a fill older than
// what it still holds, it answers "invalidated" (the safe side).
// Thread-safe: workers ask, the bus and the admin endpoint record.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>

#include "invalidation/scope.hpp"

namespace cachecar::invalidation {

class InvalidationLog {
 public:
  explicit InvalidationLog(std::chrono::milliseconds retention = std::chrono::seconds(60),
                           std::size_t max_records = 100'000);

  std::uint64_t begin_fill() const { return sequence_.load(std::memory_order_acquire); }
  // Record before applying the invalidation to the tiers: a fill that checks
  // after this sees it; one that checked before has stored already and is
  // removed by the application that follows.
  void record(Scope scope);
  bool invalidated_since(std::uint64_t since, std::string_view key,
                         const std::vector<std::string>& tags) const;
  // For an entry read from the shared tier: was an invalidation covering it
  // recorded after it was stored? (Between an invalidation's record and its
  // purge of Redis, Redis may still hand out what it dropped; such an entry
  // must be neither served nor promoted.)
  bool invalidated_after(std::chrono::system_clock::time_point stored_at, std::string_view key,
                         const std::vector<std::string>& tags) const;

 private:
  struct Record {
    std::uint64_t sequence;
    std::chrono::steady_clock::time_point at;
    std::chrono::system_clock::time_point wall;  // comparable with entries' stored_at
    Scope scope;
  };
  void prune(std::chrono::steady_clock::time_point now);

  std::chrono::milliseconds retention_;
  std::size_t max_records_;
  mutable std::mutex mutex_;
  std::deque<Record> records_;
  std::uint64_t oldest_kept_ = 1;  // records with a lower sequence were pruned
  std::atomic<std::uint64_t> sequence_{0};
  std::atomic<std::int64_t> last_wall_us_{
      0};  // the newest record's wall time: the fast "nothing since" answer
};

}  // namespace cachecar::invalidation
