// The invalidation bus: a dedicated connection SUBSCRIBEd to
// invalidation.channel. Each message is validated (event.hpp) and, when
// accepted, applied through the Invalidator; rejections are counted by
// reason and logged. The connection is watched with PINGs; when it drops,
// the gap rule starts (gap.hpp) and reconnects back off from 100 ms to 1 s.
// With `stream` set, events are also read from that Redis Stream (XREAD
// BLOCK from the last id seen, so a reconnect replays what was missed; each
// entry's "event" field holds the JSON); the gap rule is then not needed.
// An applied event that asks for it (ack_to) is acknowledged on that
// channel. Runs on the control thread; counters are readable from any thread.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "invalidation/event.hpp"
#include "invalidation/gap.hpp"
#include "invalidation/invalidator.hpp"
#include "invalidation/replay_guard.hpp"
#include "redis/connection.hpp"

namespace cachecar::invalidation {

struct BusCounters {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> applied{0};
  std::array<std::atomic<std::uint64_t>, kRejectionCount> rejected{};
  std::atomic<std::uint64_t> subscriptions{0};
  std::atomic<std::uint64_t> drops{0};
  std::atomic<std::uint64_t> stream_events{0};
  std::atomic<bool> stream_ready{false};      // the reader knows where to read from
  std::atomic<std::int64_t> last_lag_ms{-1};  // publish ts -> applied, when the event had a ts

  // The last few rejected events, newest first, for the status page.
  struct Rejected {
    std::chrono::system_clock::time_point at;
    std::string reason;
    std::string detail;
  };
  static constexpr std::size_t kRecentRejections = 10;
  void remember_rejection(std::string reason, std::string detail) {
    std::lock_guard lock(recent_mutex_);
    recent_.push_front({std::chrono::system_clock::now(), std::move(reason), std::move(detail)});
    if (recent_.size() > kRecentRejections) recent_.pop_back();
  }
  std::deque<Rejected> recent_rejections() const {
    std::lock_guard lock(recent_mutex_);
    return recent_;
  }

 private:
  mutable std::mutex recent_mutex_;
  std::deque<Rejected> recent_;
};

class Bus {
 public:
  struct Options {
    redis::ConnectOptions connection;
    std::string channel;
    std::string stream;  // empty: pub/sub only
    ValidationPolicy policy;
    // Called once, when the first subscription is confirmed or the first
    // attempt failed (Redis down must not hold start-up back).
    std::function<void()> on_first_attempt;
    // Also subscribed on the same connection: other channels of the
    // fleet (released leases, acknowledgements), each message handed to
    // its handler.
    struct SideChannel {
      std::string name;
      std::function<void(std::string_view message)> handler;
    };
    std::vector<SideChannel> side_channels;
  };

  Bus(boost::asio::any_io_executor executor, Options options, Invalidator& invalidator,
      GapState& gap, BusCounters& counters);
  ~Bus();

  void start();
  void stop();
  // Validates and applies one message (what the subscription delivers).
  boost::asio::awaitable<void> handle_message(std::string payload);

 private:
  struct Session;
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> session();
  // AUTH, when configured, and SUBSCRIBE to the bus and its side channels.
  std::string subscribe_command() const;
  void keep_alive(const std::shared_ptr<Session>& session);
  enum class ReplyAction { none, subscribed, message, fatal };
  // Handles one reply on the subscription; `message` when it is a bus
  // event for handle_message().
  ReplyAction dispatch(const redis::Reply& reply);
  void now_subscribed();
  void subscription_lost();
  boost::asio::awaitable<void> read_stream();
  void first_attempt_over();

  boost::asio::any_io_executor executor_;
  Options options_;
  Invalidator& invalidator_;
  GapState& gap_;
  BusCounters& counters_;
  ReplayGuard applied_events_;
  std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
  std::shared_ptr<Session> current_;
  bool ever_subscribed_ = false;
};

}  // namespace cachecar::invalidation
