// Wakes lease losers when the fleet's fetcher is done (DESIGN "Fleet
// coalescing": a notification on the bus, polling as the fallback). The
// lease holder's release publishes the key on "<namespace>fills" (inside
// the release script: no extra round trip); the bus hears it on the control
// thread and calls notify(), which wakes each local waiter of that key. A
// waiter that was not yet waiting when the signal came sees its `signals`
// count and does not wait at all. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fleet/waiter_registry.hpp"

namespace cachecar::fleet {

class FillSignals {
 public:
  using Watch = WaiterRegistry::Registration;

  std::unique_ptr<Watch> watch(std::string key, boost::asio::any_io_executor executor) {
    return waiters_.add(std::move(key), std::move(executor));
  }

  // Waiters woken by an announcement rather than by their own polling.
  std::uint64_t woken() const { return woken_.load(std::memory_order_relaxed); }

  void notify(std::string_view key) {
    woken_.fetch_add(waiters_.signal(key), std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> woken_{0};
  WaiterRegistry waiters_;
};

}  // namespace cachecar::fleet
