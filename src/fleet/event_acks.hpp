// Read-your-writes across the fleet (DESIGN "Correctness rules"): a
// write-through publishes its event with ack_to = this process' ack channel
// and a fresh ack_id; every cachecar that applies it PUBLISHes the id back.
// PUBLISH returned how many subscribers received the event, so the writer
// knows how many acknowledgements to wait for (bounded by a timeout): its
// waiter's `signals`. The bus hears acknowledgements on the control thread
// and deliver()s them. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fleet/waiter_registry.hpp"

namespace cachecar::fleet {

class EventAcks {
 public:
  using Expectation = WaiterRegistry::Registration;  // name(): the ack_id

  explicit EventAcks(std::string channel) : channel_(std::move(channel)) {}
  // This process' acknowledgement channel ("cachecar:ack:<random>").
  const std::string& channel() const { return channel_; }

  // Registered before the event is published, so no acknowledgement is lost.
  std::unique_ptr<Expectation> expect(boost::asio::any_io_executor executor) {
    return waiters_.add(
        channel_ + "/" + std::to_string(next_id_.fetch_add(1, std::memory_order_relaxed)),
        std::move(executor));
  }

  // A late acknowledgement (its writer stopped waiting) wakes nobody.
  void deliver(std::string_view id) { waiters_.signal(id); }

 private:
  std::string channel_;
  std::atomic<std::uint64_t> next_id_{1};
  WaiterRegistry waiters_;
};

}  // namespace cachecar::fleet
