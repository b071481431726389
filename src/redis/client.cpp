#include "redis/client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "logging/event_log.hpp"
#include "redis/resp_codec.hpp"

namespace cachecar::redis {

namespace asio = boost::asio;
using Steady = std::chrono::steady_clock;

namespace {
std::string describe(const Endpoint& e) {
  if (!e.unix_path.empty()) return "unix:" + e.unix_path;
  return std::string(e.tls ? "rediss://" : "redis://") + e.host + ":" + std::to_string(e.port);
}
}  // namespace

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : executor_(std::move(executor)), options_(std::move(options)), connected_signal_(executor_) {
  slots_.resize(static_cast<std::size_t>(std::max(1, options_.pool)));
  for (auto& slot : slots_)
    slot.connection = std::make_unique<Connection>(executor_, options_.connection);
}

void Client::start() {
  for (auto& slot : slots_) {
    if (!slot.connecting) asio::co_spawn(executor_, reconnect(slot), asio::detached);
  }
}

asio::awaitable<void> Client::reconnect(Slot& slot) {
  slot.connecting = true;
  auto ec = co_await slot.connection->connect();
  slot.connecting = false;
  if (!ec) {
    connected_signal_.cancel();
    if (slot.attempts > 0)
      spdlog::info("redis {} connected again", describe(options_.connection.endpoint));
    slot.attempts = 0;
    co_return;
  }
  // Exponential backoff from 50 ms to 5 s, with up to 50% jitter so that a
  // fleet does not reconnect in lockstep.
  ++slot.attempts;
  auto base = std::chrono::milliseconds(50) * (1 << std::min(slot.attempts - 1, 7));
  base = std::min<std::chrono::milliseconds>(base, std::chrono::milliseconds(5000));
  auto jitter = std::uniform_int_distribution<long long>(0, base.count() / 2)(random_);
  slot.next_attempt = Steady::now() + base + std::chrono::milliseconds(jitter);
  if (slot.attempts == 1 || slot.attempts % 20 == 0) {
    logging::event(spdlog::level::warn, "redis-unavailable",
                   "redis unavailable; serving from memory and origin",
                   logging::Fields()
                       .add("redis", describe(options_.connection.endpoint))
                       .add("reason", ec.message()));
  }
}

Client::Slot* Client::pick_connected() {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = slots_[next_slot_++ % slots_.size()];
    if (slot.connection->connected()) return &slot;
  }
  return nullptr;
}

Client::Slot* Client::pick_reconnectable() {
  auto now = Steady::now();
  for (auto& slot : slots_) {
    if (!slot.connecting && now >= slot.next_attempt) return &slot;
  }
  return nullptr;
}

void Client::record_failure() {
  failure_count_.fetch_add(1, std::memory_order_relaxed);
  if (++consecutive_failures_ >= kFailuresToOpen) {
    open_until_ = Steady::now() + options_.breaker_window;
    breaker_open_.store(true, std::memory_order_relaxed);
  }
}

void Client::record_success() {
  consecutive_failures_ = 0;
  breaker_open_.store(false, std::memory_order_relaxed);
}

asio::awaitable<std::optional<Reply>> Client::command(const std::vector<std::string_view>& args) {
  // Open breaker: answer at once. After the window one command probes
  // (half-open); its failure re-opens the breaker for another window.
  if (consecutive_failures_ >= kFailuresToOpen && Steady::now() < open_until_)
    co_return std::nullopt;
  Slot* slot = pick_connected();
  if (slot == nullptr) {
    // Nothing connected: connect one now (unless all are backing off), so
    // that the first command after start or after an outage uses Redis.
    slot = pick_reconnectable();
    if (slot != nullptr) {
      co_await reconnect(*slot);
      if (!slot->connection->connected()) slot = nullptr;
    } else if (std::any_of(slots_.begin(), slots_.end(),
                           [](const Slot& s) { return s.connecting; })) {
      // A connect (a TLS handshake, say) is under way: wait for it rather
      // than skip Redis, but no longer than a command may take.
      connected_signal_.expires_after(options_.connection.timeout);
      co_await connected_signal_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      slot = pick_connected();
    }
  }
  if (slot == nullptr) {
    record_failure();
    co_return std::nullopt;
  }
  boost::system::error_code ec;
  const auto sent = Steady::now();
  auto reply = co_await slot->connection->execute(format_command(args), ec);
  if (reply) latency_.observe(Steady::now() - sent);
  if (!reply) {
    record_failure();
    co_return std::nullopt;
  }
  record_success();
  co_return reply;
}

}  // namespace cachecar::redis
