// Read-your-writes across the fleet (DESIGN "Correctness rules"): a
// write-through publishes its event with ack_to = this process' ack channel
// and a fresh ack_id; every cachecar that applies it PUBLISHes the id back.
// PUBLISH returned how many subscribers received the event, so the writer
// knows how many acknowledgements to wait for (bounded by a timeout). The
// bus hears acknowledgements on the control thread and deliver()s them; each
// wakes its waiter on the waiter's own executor. Thread-safe.
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

class EventAcks {
 public:
  struct Waiter {
    explicit Waiter(boost::asio::any_io_executor executor) : timer(executor) {}
    boost::asio::steady_timer timer;
    long long received = 0;  // touched only on the timer's executor
  };

  class Expectation {
   public:
    Expectation(EventAcks& acks, std::string id, std::shared_ptr<Waiter> waiter)
        : acks_(acks), id_(std::move(id)), waiter_(std::move(waiter)) {}
    ~Expectation() { acks_.forget(id_); }
    Expectation(const Expectation&) = delete;
    Expectation& operator=(const Expectation&) = delete;
    const std::string& id() const { return id_; }
    Waiter& waiter() { return *waiter_; }

   private:
    EventAcks& acks_;
    std::string id_;
    std::shared_ptr<Waiter> waiter_;
  };

  explicit EventAcks(std::string channel) : channel_(std::move(channel)) {}
  // This process' acknowledgement channel ("cachecar:ack:<random>").
  const std::string& channel() const { return channel_; }

  // Registered before the event is published, so no acknowledgement is lost.
  std::unique_ptr<Expectation> expect(boost::asio::any_io_executor executor) {
    auto waiter = std::make_shared<Waiter>(executor);
    std::string id =
        channel_ + "/" + std::to_string(next_id_.fetch_add(1, std::memory_order_relaxed));
    {
      std::lock_guard lock(mutex_);
      waiters_.emplace(id, waiter);
    }
    return std::make_unique<Expectation>(*this, std::move(id), std::move(waiter));
  }

  void deliver(std::string_view id) {
    std::lock_guard lock(mutex_);
    auto it = waiters_.find(std::string(id));
    if (it == waiters_.end()) return;  // late: its writer stopped waiting
    auto waiter = it->second;
    boost::asio::post(waiter->timer.get_executor(), [waiter] {
      ++waiter->received;
      waiter->timer.cancel();
    });
  }

 private:
  void forget(const std::string& id) {
    std::lock_guard lock(mutex_);
    waiters_.erase(id);
  }

  std::string channel_;
  std::atomic<std::uint64_t> next_id_{1};
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Waiter>> waiters_;
};

}  // namespace cachecar::proxy
