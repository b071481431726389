// Wakes lease losers when the fleet's fetcher is done (DESIGN "Fleet
// coalescing": a notification on the bus, polling as the fallback). The
// lease holder's release publishes the key on "<namespace>fills" (inside
// the release script: no extra round trip); the bus hears it on the control
// thread and calls notify(), which wakes each local waiter of that key on
// its own executor. A waiter that was not yet waiting when the signal came
// sees `signalled` and does not wait at all. Thread-safe.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cachecar::proxy {

class FleetFillSignals {
 public:
  struct Waiter {
    explicit Waiter(boost::asio::any_io_executor executor) : timer(executor) {}
    boost::asio::steady_timer timer;
    bool signalled = false;  // touched only on the timer's executor
  };

  // Deregisters on destruction.
  class Watch {
   public:
    Watch(FleetFillSignals& signals, std::string key, std::shared_ptr<Waiter> waiter)
        : signals_(signals), key_(std::move(key)), waiter_(std::move(waiter)) {}
    ~Watch() { signals_.forget(key_, waiter_.get()); }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    Waiter& waiter() { return *waiter_; }

   private:
    FleetFillSignals& signals_;
    std::string key_;
    std::shared_ptr<Waiter> waiter_;
  };

  std::unique_ptr<Watch> watch(std::string key, boost::asio::any_io_executor executor) {
    auto waiter = std::make_shared<Waiter>(executor);
    {
      std::lock_guard lock(mutex_);
      waiters_.emplace(key, waiter);
    }
    return std::make_unique<Watch>(*this, std::move(key), std::move(waiter));
  }

  // Waiters woken by an announcement rather than by their own polling.
  std::uint64_t woken() const { return woken_.load(std::memory_order_relaxed); }

  void notify(std::string_view key) {
    std::lock_guard lock(mutex_);
    auto [first, last] = waiters_.equal_range(std::string(key));
    for (auto it = first; it != last; ++it) {
      woken_.fetch_add(1, std::memory_order_relaxed);
      auto waiter = it->second;  // kept alive by the posted handler
      boost::asio::post(waiter->timer.get_executor(), [waiter] {
        waiter->signalled = true;
        waiter->timer.cancel();
      });
    }
  }

 private:
  void forget(const std::string& key, const Waiter* waiter) {
    std::lock_guard lock(mutex_);
    auto [first, last] = waiters_.equal_range(key);
    for (auto it = first; it != last; ++it) {
      if (it->second.get() == waiter) {
        waiters_.erase(it);
        return;
      }
    }
  }

  std::atomic<std::uint64_t> woken_{0};
  std::mutex mutex_;
  std::unordered_multimap<std::string, std::shared_ptr<Waiter>> waiters_;
};

}  // namespace cachecar::proxy
