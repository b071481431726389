// Paces an accept loop after failures. Out of descriptors (EMFILE, ENFILE)
// or memory, accept fails at once and keeps failing while the pending
// connection waits in the kernel's backlog: retrying at once turns the
// loop into a busy loop. Each failure is counted (for /metrics) and waits
// 10 ms, doubling to 1 s; a success resets the wait. One pacer per accept
// loop, used on that loop's executor only.
#pragma once

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>

#include "net/beast.hpp"

namespace cachecar::net {

class AcceptPacer {
 public:
  explicit AcceptPacer(const asio::any_io_executor& executor) : timer_(executor) {}

  // After a failed accept: counts it and waits before the next try.
  asio::awaitable<void> failed();
  void succeeded() { wait_ = kFirstWait; }

  // Failed accepts in this process, every loop summed. Any thread.
  static std::uint64_t failures() { return failures_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::chrono::milliseconds kFirstWait{10};
  static constexpr std::chrono::milliseconds kMaxWait{1000};
  static std::atomic<std::uint64_t> failures_;

  asio::steady_timer timer_;
  std::chrono::milliseconds wait_ = kFirstWait;
};

}  // namespace cachecar::net
