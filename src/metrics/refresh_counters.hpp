// What the stampede controls did: background refreshes and how they ended,
// stale answers given instead of a wait, revalidations, rebuild_rate
// refusals. Relaxed atomics, touched only off the fresh-hit path.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace cachecar::metrics {

enum class RefreshOutcome {
  stored,        // a new or revalidated entry is in both tiers
  fleet_busy,    // another cachecar holds the lease: its fill will land in Redis
  over_budget,   // the route's rebuild_rate allows no fetch now
  not_stored,    // the origin answered, but with nothing storable
  origin_error,  // refused, timed out, or a 5xx
};
inline constexpr std::size_t kRefreshOutcomeCount = 5;
const char* to_string(RefreshOutcome outcome);

struct RefreshCounters {
  std::atomic<std::uint64_t> background{0};  // background refreshes begun
  std::array<std::atomic<std::uint64_t>, kRefreshOutcomeCount> outcomes{};
  std::atomic<std::uint64_t> early{0};                   // of which XFetch began early
  std::atomic<std::uint64_t> stale_while_revalidate{0};  // stale answers while a refresh runs
  std::atomic<std::uint64_t> revalidated{0};             // 304s that renewed an entry
  std::atomic<std::uint64_t> revalidation_replaced{
      0};  // conditional fetches answered 200: a new representation
  std::atomic<std::uint64_t> leases_won{
      0};  // fleet leases taken (this process fetches for the fleet)
  std::atomic<std::uint64_t> leases_lost{0};       // another cachecar held the lease
  std::atomic<std::uint64_t> rebuild_waits{0};     // requests that waited for a rebuild token
  std::atomic<std::uint64_t> rebuild_stale{0};     // over budget: a stale entry answered
  std::atomic<std::uint64_t> rebuild_rejected{0};  // over budget: 503 with Retry-After
  std::atomic<std::uint64_t> write_refreshed{0};   // write-throughs that stored the new view
  std::atomic<std::uint64_t> write_unacknowledged{
      0};  // write-throughs the fleet did not all acknowledge in time

  void count(RefreshOutcome outcome) {
    outcomes[static_cast<std::size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
  }
  static void bump(std::atomic<std::uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace cachecar::metrics
