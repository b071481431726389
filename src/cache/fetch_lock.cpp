#include "cache/fetch_lock.hpp"

#include <xxhash.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cachecar::cache {

namespace asio = boost::asio;

namespace {
constexpr std::size_t kMaxUncacheablePerShard = 4096;
}  // namespace

const char* to_string(FlightOutcome outcome) {
  switch (outcome) {
    case FlightOutcome::pending:
      return "pending";
    case FlightOutcome::filled:
      return "filled";
    case FlightOutcome::uncacheable:
      return "uncacheable";
    case FlightOutcome::abandoned:
      return "abandoned";
  }
  return "?";
}

asio::awaitable<std::pair<FlightOutcome, store::EntryPtr>> Flight::wait(
    std::chrono::milliseconds limit) {
  auto executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(executor, limit);
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    if (outcome_ != FlightOutcome::pending) co_return std::make_pair(outcome_, entry_);
    id = next_waker_++;
    // Weak: a waiter that is gone (its frame destroyed with its io_context)
    // must never be posted to. The strong reference moves into the posted
    // handler, so the waking thread holds none once post() returns: the
    // waiter's thread may finish, and its io_context go, at any moment
    // after, and the last reference must die where the timer's service
    // lives (it once died here, after the service: use-after-free).
    std::weak_ptr<asio::steady_timer> weak = timer;
    wakers_.emplace_back(id, [weak, executor] {
      if (auto alive = weak.lock()) {
        asio::post(executor, [alive = std::move(alive)] { alive->cancel(); });
      }
    });
  }
  co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  std::lock_guard lock(mutex_);
  if (outcome_ == FlightOutcome::pending) {
    // Gave up waiting: leave, so that the fetch's end does not wake us.
    std::erase_if(wakers_, [id](const auto& waker) { return waker.first == id; });
  }
  co_return std::make_pair(outcome_, entry_);
}

void Flight::finish(FlightOutcome outcome, store::EntryPtr entry) {
  std::vector<std::pair<std::uint64_t, std::function<void()>>> wakers;
  {
    std::lock_guard lock(mutex_);
    if (outcome_ != FlightOutcome::pending) return;
    outcome_ = outcome;
    entry_ = std::move(entry);
    wakers.swap(wakers_);
  }
  for (auto& [id, wake] : wakers) wake();  // outside the lock: each posts to its own executor
}

FetchPermit& FetchPermit::operator=(FetchPermit&& other) noexcept {
  if (this != &other) {
    finish(FlightOutcome::abandoned, nullptr);
    locks_ = other.locks_;
    key_ = std::move(other.key_);
    flight_ = std::move(other.flight_);
    outcome_ = other.outcome_;
    other.flight_.reset();
  }
  return *this;
}

FetchPermit::~FetchPermit() { finish(FlightOutcome::abandoned, nullptr); }

void FetchPermit::finish(FlightOutcome outcome, store::EntryPtr entry) {
  if (!flight_) return;
  outcome_ = outcome;
  auto flight = std::move(flight_);
  flight_.reset();
  // Leave the table first: a request arriving now finds the stored entry
  // (or, after abandonment, becomes the new fetcher) instead of this flight.
  locks_->release(key_, flight, outcome);
  flight->finish(outcome, std::move(entry));
}

FetchLocks::FetchLocks(std::chrono::milliseconds remember_uncacheable)
    : remember_uncacheable_(remember_uncacheable) {
  for (int i = 0; i < 16; ++i) shards_.push_back(std::make_unique<Shard>());
}

FetchLocks::Shard& FetchLocks::shard_for(std::string_view key) {
  return *shards_[XXH3_64bits(key.data(), key.size()) % shards_.size()];
}

FetchLocks::Ticket FetchLocks::acquire(std::string_view key, Clock::time_point now) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  Ticket ticket;
  std::string owned(key);
  if (auto it = shard.uncacheable_until.find(owned); it != shard.uncacheable_until.end()) {
    if (now < it->second) {
      passes_.fetch_add(1, std::memory_order_relaxed);
      ticket.pass = true;
      return ticket;
    }
    shard.uncacheable_until.erase(it);
  }
  if (auto it = shard.flights.find(owned); it != shard.flights.end()) {
    ticket.flight = it->second;
    return ticket;
  }
  auto flight = std::make_shared<Flight>();
  shard.flights.emplace(owned, flight);
  fetches_.fetch_add(1, std::memory_order_relaxed);
  ticket.permit = FetchPermit(this, std::move(owned), std::move(flight));
  return ticket;
}

void FetchLocks::release(const std::string& key, const std::shared_ptr<Flight>& flight,
                         FlightOutcome outcome) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  if (auto it = shard.flights.find(key); it != shard.flights.end() && it->second == flight)
    shard.flights.erase(it);
  if (outcome == FlightOutcome::uncacheable) {
    auto now = Clock::now();
    // Bounded: sweep the expired marks when there are many; forgetting one
    // only costs a request that queues once more.
    if (shard.uncacheable_until.size() >= kMaxUncacheablePerShard) {
      std::erase_if(shard.uncacheable_until, [&](const auto& mark) { return mark.second <= now; });
      if (shard.uncacheable_until.size() >= kMaxUncacheablePerShard)
        shard.uncacheable_until.clear();
    }
    shard.uncacheable_until[key] = now + remember_uncacheable_;
  }
  if (outcome == FlightOutcome::abandoned) abandoned_.fetch_add(1, std::memory_order_relaxed);
}

CoalescingStats FetchLocks::stats() const {
  return {fetches_.load(std::memory_order_relaxed), collapsed_.load(std::memory_order_relaxed),
          abandoned_.load(std::memory_order_relaxed), passes_.load(std::memory_order_relaxed)};
}

}  // namespace cachecar::cache
