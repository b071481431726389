#include "invalidation/log.hpp"

namespace cachecar::invalidation {

InvalidationLog::InvalidationLog(std::chrono::milliseconds retention, std::size_t max_records)
    : retention_(retention), max_records_(max_records) {}

void InvalidationLog::record(Scope scope) {
  auto now = std::chrono::steady_clock::now();
  auto wall = std::chrono::system_clock::now();
  std::lock_guard lock(mutex_);
  std::uint64_t sequence = sequence_.load(std::memory_order_relaxed) + 1;
  records_.push_back(Record{sequence, now, wall, std::move(scope)});
  sequence_.store(sequence, std::memory_order_release);
  last_wall_us_.store(
      std::chrono::duration_cast<std::chrono::microseconds>(wall.time_since_epoch()).count(),
      std::memory_order_release);
  prune(now);
}

void InvalidationLog::prune(std::chrono::steady_clock::time_point now) {
  while (!records_.empty() &&
         (records_.size() > max_records_ || now - records_.front().at > retention_)) {
    oldest_kept_ = records_.front().sequence + 1;
    records_.pop_front();
  }
}

bool InvalidationLog::invalidated_since(std::uint64_t since, std::string_view key,
                                        const std::vector<std::string>& tags) const {
  if (sequence_.load(std::memory_order_acquire) == since)
    return false;  // the common case: nothing happened
  std::lock_guard lock(mutex_);
  if (since + 1 < oldest_kept_) return true;  // what happened since is no longer known
  for (auto it = records_.rbegin(); it != records_.rend() && it->sequence > since; ++it) {
    if (it->scope.covers(key, tags)) return true;
  }
  return false;
}

bool InvalidationLog::invalidated_after(std::chrono::system_clock::time_point stored_at,
                                        std::string_view key,
                                        const std::vector<std::string>& tags) const {
  auto stored_us =
      std::chrono::duration_cast<std::chrono::microseconds>(stored_at.time_since_epoch()).count();
  if (last_wall_us_.load(std::memory_order_acquire) < stored_us)
    return false;  // nothing recorded since
  std::lock_guard lock(mutex_);
  for (auto it = records_.rbegin(); it != records_.rend() && it->wall >= stored_at; ++it) {
    if (it->scope.covers(key, tags)) return true;
  }
  return false;
}

}  // namespace cachecar::invalidation
