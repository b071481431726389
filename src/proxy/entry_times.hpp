// The two times every answer from a stored entry states: its Age and, in
// Cache-Status, its ttl. One definition each, for every serving path.
#pragma once

#include <chrono>

#include "cache/reuse.hpp"
#include "store/entry.hpp"

namespace cachecar::proxy {

inline cache::StoredTimes stored_times(const store::Entry& entry) {
  return {entry.stored_at, entry.expires_at, entry.initial_age_seconds, entry.must_revalidate};
}

// The Age field: what it arrived with plus whole seconds held here.
inline long long age_of(const store::Entry& entry, store::Clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::seconds>(stored_times(entry).age(now)).count();
}

// Cache-Status ttl: negative for a stale answer, as RFC 9211 allows
// (floored: a moment past expiry is -1, not 0).
inline long long seconds_left(const store::Entry& entry, store::Clock::time_point now) {
  return std::chrono::floor<std::chrono::seconds>(entry.expires_at - now).count();
}

}  // namespace cachecar::proxy
