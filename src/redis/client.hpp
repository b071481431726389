// A small pool of pipelined connections on one executor, with the fail-open
// rules of DESIGN.md: reconnects back off exponentially (with jitter), and
// a circuit breaker stops waiting on Redis after kFailuresToOpen failures in
// a row, so that a paused or dead Redis costs at most one timeout per
// breaker window. Callers get nullopt and carry on without Redis.
// Not thread-safe: one Client per executor (see docs/adr/0005).
#pragma once

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <random>
#include <vector>

#include "metrics/latency_histogram.hpp"
#include "redis/connection.hpp"

namespace cachecar::redis {

struct ClientOptions {
  ConnectOptions connection;
  int pool = 4;
  std::chrono::milliseconds breaker_window{1000};
};

class Client {
 public:
  static constexpr int kFailuresToOpen = 3;

  Client(boost::asio::any_io_executor executor, ClientOptions options);

  // Starts connecting every pool connection in the background.
  void start();
  // One command; nullopt when Redis is unavailable or the command failed.
  // An error reply is returned as a Reply (is_error()).
  boost::asio::awaitable<std::optional<Reply>> command(const std::vector<std::string_view>& args);

  // Readable from any thread.
  bool breaker_open() const { return breaker_open_.load(std::memory_order_relaxed); }
  std::uint64_t failures() const { return failure_count_.load(std::memory_order_relaxed); }
  // Round trips of commands that got a reply (readable from any thread).
  const metrics::LatencyShard& latency() const { return latency_; }

 private:
  struct Slot {
    std::unique_ptr<Connection> connection;
    bool connecting = false;
    int attempts = 0;
    std::chrono::steady_clock::time_point next_attempt{};
  };

  boost::asio::awaitable<void> reconnect(Slot& slot);
  Slot* pick_connected();
  Slot* pick_reconnectable();
  void record_failure();
  void record_success();

  boost::asio::any_io_executor executor_;
  ClientOptions options_;
  // Cancelled whenever a connection comes up, waking commands that found
  // every connection still connecting (bounded by the command timeout).
  boost::asio::steady_timer connected_signal_;
  std::vector<Slot> slots_;
  std::size_t next_slot_ = 0;
  int consecutive_failures_ = 0;
  std::chrono::steady_clock::time_point open_until_{};
  std::minstd_rand random_{std::random_device{}()};
  std::atomic<bool> breaker_open_{false};
  std::atomic<std::uint64_t> failure_count_{0};
  metrics::LatencyShard latency_;
};

}  // namespace cachecar::redis
