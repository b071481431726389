// One fetch per key per process (DESIGN "FetchLock"): the first request for
// a missing key gets a FetchPermit and fetches; the others wait on its
// Flight and are served its result. Waiters are picked under the flight's
// lock and woken outside it, each on its own executor (asio::post). A permit
// dropped without a result (origin error, cancellation) wakes the waiters to
// elect a new fetcher; a key whose answer was uncacheable is remembered for
// a while so that later requests do not queue behind it ("hit-for-pass").
// Thread-safe: workers share one FetchLocks.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/entry.hpp"

namespace cachecar::cache {

enum class FlightOutcome { pending, filled, uncacheable, abandoned };
const char* to_string(FlightOutcome outcome);

class Flight {
 public:
  // Waits on the caller's executor until the fetch ends or `limit` passes
  // (then the outcome is still `pending`).
  boost::asio::awaitable<std::pair<FlightOutcome, store::EntryPtr>> wait(
      std::chrono::milliseconds limit);
  void finish(FlightOutcome outcome, store::EntryPtr entry);

 private:
  std::mutex mutex_;
  FlightOutcome outcome_ = FlightOutcome::pending;
  store::EntryPtr entry_;
  std::uint64_t next_waker_ = 0;
  std::vector<std::pair<std::uint64_t, std::function<void()>>> wakers_;  // id, wake
};

// How long a key whose response was uncacheable is passed straight to the
// origin, in this process and (as the fleet lease's pass mark) in Redis.
inline constexpr std::chrono::milliseconds kHitForPassWindow{5'000};

class FetchLocks;

class FetchPermit {
 public:
  FetchPermit() = default;
  FetchPermit(FetchLocks* locks, std::string key, std::shared_ptr<Flight> flight)
      : locks_(locks), key_(std::move(key)), flight_(std::move(flight)) {}
  FetchPermit(FetchPermit&& other) noexcept { *this = std::move(other); }
  FetchPermit& operator=(FetchPermit&& other) noexcept;
  ~FetchPermit();  // not finished: abandoned, and the waiters compete again

  explicit operator bool() const { return flight_ != nullptr; }
  // How it ended so far: pending until filled/uncacheable (or destroyed).
  FlightOutcome outcome() const { return outcome_; }
  void filled(store::EntryPtr entry) { finish(FlightOutcome::filled, std::move(entry)); }
  void uncacheable() { finish(FlightOutcome::uncacheable, nullptr); }

 private:
  void finish(FlightOutcome outcome, store::EntryPtr entry);
  FetchLocks* locks_ = nullptr;
  std::string key_;
  std::shared_ptr<Flight> flight_;
  FlightOutcome outcome_ = FlightOutcome::pending;
};

struct CoalescingStats {
  std::uint64_t fetches = 0;    // permits handed out
  std::uint64_t collapsed = 0;  // requests served by another request's fetch
  std::uint64_t abandoned = 0;  // permits dropped without a result
  std::uint64_t passes = 0;     // requests that skipped the queue: key recently uncacheable
};

class FetchLocks {
 public:
  using Clock = std::chrono::steady_clock;
  explicit FetchLocks(std::chrono::milliseconds remember_uncacheable = kHitForPassWindow);

  struct Ticket {
    FetchPermit permit;              // set: fetch, then report through it
    std::shared_ptr<Flight> flight;  // set: someone else fetches; wait on it
    bool pass = false;               // neither: fetch without coalescing
  };
  Ticket acquire(std::string_view key, Clock::time_point now = Clock::now());

  void count_collapsed() { collapsed_.fetch_add(1, std::memory_order_relaxed); }
  CoalescingStats stats() const;

 private:
  friend class FetchPermit;
  void release(const std::string& key, const std::shared_ptr<Flight>& flight,
               FlightOutcome outcome);

  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<Flight>> flights;
    std::unordered_map<std::string, Clock::time_point> uncacheable_until;
  };
  Shard& shard_for(std::string_view key);

  std::chrono::milliseconds remember_uncacheable_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::uint64_t> fetches_{0}, collapsed_{0}, abandoned_{0}, passes_{0};
};

}  // namespace cachecar::cache
