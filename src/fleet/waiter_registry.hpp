// Coroutines waiting for a word from the fleet, by name: a write-through
// for its acknowledgements, a lease loser for the holder's fill. The bus
// hears the word on the control thread and signal()s the name; each waiter
// of that name is woken on its own executor (its timer is cancelled and its
// count goes up), so a waiter touches its state on its own thread only. A
// signal that comes before the waiter waits is not lost: the count shows
// it. Thread-safe.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cachecar::fleet {

class WaiterRegistry {
 public:
  struct Waiter {
    explicit Waiter(boost::asio::any_io_executor executor) : timer(executor) {}
    boost::asio::steady_timer timer;  // wait on it; a signal cancels it
    std::uint64_t signals = 0;        // touched only on the timer's executor
  };

  // A waiter's place in the registry; leaving it deregisters the waiter.
  class Registration {
   public:
    Registration(WaiterRegistry& registry, std::string name, std::shared_ptr<Waiter> waiter)
        : registry_(registry), name_(std::move(name)), waiter_(std::move(waiter)) {}
    ~Registration() { registry_.forget(name_, waiter_.get()); }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    const std::string& name() const { return name_; }
    Waiter& waiter() { return *waiter_; }

   private:
    WaiterRegistry& registry_;
    std::string name_;
    std::shared_ptr<Waiter> waiter_;
  };

  // Registered before whatever will be signalled is started, so no signal is lost.
  std::unique_ptr<Registration> add(std::string name, boost::asio::any_io_executor executor) {
    auto waiter = std::make_shared<Waiter>(executor);
    {
      std::lock_guard lock(mutex_);
      waiters_.emplace(name, waiter);
    }
    return std::make_unique<Registration>(*this, std::move(name), std::move(waiter));
  }

  // Wakes every waiter of `name`; how many there were (0: none waits, or
  // they stopped waiting).
  std::size_t signal(std::string_view name) {
    std::lock_guard lock(mutex_);
    auto [first, last] = waiters_.equal_range(std::string(name));
    std::size_t woken = 0;
    for (auto it = first; it != last; ++it, ++woken) {
      // The handler holds the waiter alive; this thread keeps no reference
      // of its own, so the last one never dies here, where the timer's
      // io_context may already be gone.
      boost::asio::post(it->second->timer.get_executor(), [waiter = it->second] {
        ++waiter->signals;
        waiter->timer.cancel();
      });
    }
    return woken;
  }

 private:
  void forget(const std::string& name, const Waiter* waiter) {
    std::lock_guard lock(mutex_);
    auto [first, last] = waiters_.equal_range(name);
    for (auto it = first; it != last; ++it) {
      if (it->second.get() == waiter) {
        waiters_.erase(it);
        return;
      }
    }
  }

  std::mutex mutex_;
  std::unordered_multimap<std::string, std::shared_ptr<Waiter>> waiters_;
};

}  // namespace cachecar::fleet
