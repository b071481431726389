#include "invalidation/bus.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

#include "logging/event_log.hpp"
#include "redis/resp_codec.hpp"

namespace cachecar::invalidation {

namespace asio = boost::asio;
using Clock = std::chrono::system_clock;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kPingEvery{1};
constexpr std::chrono::seconds kSilenceLimit{3};  // no reply to three pings: the link is dead
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{1000};
}  // namespace

struct Bus::Session {
  std::unique_ptr<redis::Stream> stream;
  redis::ReplyParser parser;
  bool open = true;

  void close() {
    if (!open) return;
    open = false;
    if (stream) stream->close();
  }
};

Bus::Bus(asio::any_io_executor executor, Options options, Invalidator& invalidator, GapState& gap,
         BusCounters& counters)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      invalidator_(invalidator),
      gap_(gap),
      counters_(counters),
      applied_events_(options_.policy.max_skew) {}

Bus::~Bus() { stop(); }

void Bus::start() {
  asio::co_spawn(executor_, run(), asio::detached);
  if (!options_.stream.empty()) asio::co_spawn(executor_, read_stream(), asio::detached);
}

void Bus::stop() {
  *stopped_ = true;
  if (current_) current_->close();
}

asio::awaitable<void> Bus::run() {
  auto stopped = stopped_;
  auto backoff = kFirstBackoff;
  while (!*stopped) {
    bool was_subscribed = ever_subscribed_;
    co_await session();
    if (*stopped) break;
    first_attempt_over();
    if (ever_subscribed_ && !was_subscribed) backoff = kFirstBackoff;
    asio::steady_timer wait(executor_, backoff);
    co_await wait.async_wait(use_tuple);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

void Bus::first_attempt_over() {
  if (auto notify = std::exchange(options_.on_first_attempt, nullptr)) notify();
}

std::string Bus::subscribe_command() const {
  const auto& conn = options_.connection;
  std::string hello;
  if (!conn.password.empty()) {
    hello += conn.user.empty() ? redis::format_command({"AUTH", conn.password})
                               : redis::format_command({"AUTH", conn.user, conn.password});
  }
  std::vector<std::string_view> subscribe{"SUBSCRIBE", options_.channel};
  for (const auto& side : options_.side_channels) subscribe.push_back(side.name);
  hello += redis::format_command(subscribe);
  return hello;
}

void Bus::keep_alive(const std::shared_ptr<Session>& session) {
  // A PING a second; the session's read gives up after kSilenceLimit
  // without any reply, so a half-open link is noticed within seconds.
  asio::co_spawn(
      executor_,
      [s = session]() -> asio::awaitable<void> {
        static const std::string ping = redis::format_command({"PING"});
        asio::steady_timer timer(co_await asio::this_coro::executor);
        while (s->open) {
          timer.expires_after(kPingEvery);
          co_await timer.async_wait(use_tuple);
          if (!s->open) break;
          auto [ec, n] = co_await s->stream->write(asio::buffer(ping));
          if (ec) break;
        }
      },
      asio::detached);
}

asio::awaitable<void> Bus::session() {
  auto stopped = stopped_;
  auto s = std::make_shared<Session>();
  current_ = s;
  const auto& conn = options_.connection;
  boost::system::error_code open_error;
  s->stream =
      co_await redis::open_stream(executor_, conn.endpoint, conn.connect_timeout, open_error);
  if (open_error || *stopped) co_return;
  const std::string hello = subscribe_command();
  auto [write_error, written] = co_await s->stream->write(asio::buffer(hello));
  if (write_error) co_return;
  keep_alive(s);

  bool subscribed = false;
  std::array<char, 16 * 1024> buffer;
  s->stream->set_timeout(kSilenceLimit);
  bool ended = false;
  while (s->open && !*stopped && !ended) {
    auto [ec, n] = co_await s->stream->read_some(asio::buffer(buffer));
    if (ec || !s->parser.feed(buffer.data(), n)) break;
    bool failed = false;
    while (auto reply = s->parser.next(failed)) {
      const auto action = dispatch(*reply);
      if (action == ReplyAction::subscribed) subscribed = true;
      if (action == ReplyAction::fatal) {
        ended = true;
        break;
      }
      if (action == ReplyAction::message)
        co_await handle_message(std::move(reply->elements[2].text));
    }
    if (failed) break;
  }
  s->close();
  if (subscribed && !*stopped) subscription_lost();
}

Bus::ReplyAction Bus::dispatch(const redis::Reply& reply) {
  if (reply.is_error()) {
    spdlog::error("invalidation bus: redis refused the subscription: {}", reply.text);
    return ReplyAction::fatal;
  }
  if (reply.type != redis::Reply::Type::array || reply.elements.empty()) return ReplyAction::none;
  const std::string& kind = reply.elements[0].text;
  // Side channels' confirmations and messages are not the bus's own.
  for (const auto& side : options_.side_channels) {
    if (reply.elements.size() < 2 || reply.elements[1].text != side.name) continue;
    if (kind == "message" && reply.elements.size() == 3 && side.handler)
      side.handler(reply.elements[2].text);
    return ReplyAction::none;
  }
  if (kind == "subscribe") {
    now_subscribed();
    return ReplyAction::subscribed;
  }
  if (kind == "message" && reply.elements.size() == 3) return ReplyAction::message;
  return ReplyAction::none;
}

void Bus::now_subscribed() {
  gap_.mark_subscribed(Clock::now(), ever_subscribed_);
  if (ever_subscribed_) {
    logging::event(spdlog::level::info, "bus-resubscribed",
                   "invalidation bus subscribed again; entries filled before now will be refetched",
                   logging::Fields().add("channel", options_.channel));
  }
  ever_subscribed_ = true;
  first_attempt_over();
  counters_.subscriptions.fetch_add(1, std::memory_order_relaxed);
}

void Bus::subscription_lost() {
  gap_.mark_down(Clock::now());
  counters_.drops.fetch_add(1, std::memory_order_relaxed);
  logging::event(
      spdlog::level::warn, "bus-lost",
      "invalidation bus subscription lost; cached entries are served at most max_stale from now",
      logging::Fields().add("channel", options_.channel));
}

asio::awaitable<void> Bus::read_stream() {
  auto stopped = stopped_;
  redis::ConnectOptions options = options_.connection;
  options.timeout = std::chrono::seconds(3);  // longer than the BLOCK below
  redis::Connection connection(executor_, options);
  std::string last_id;  // empty until the stream's current end is known
  auto backoff = kFirstBackoff;
  while (!*stopped) {
    boost::system::error_code ec;
    if (!connection.connected()) ec = co_await connection.connect();
    std::optional<redis::Reply> reply;
    if (!ec && last_id.empty()) {
      // Start after the newest entry: older events predate this process.
      std::string newest =
          redis::format_command({"XREVRANGE", options_.stream, "+", "-", "COUNT", "1"});
      reply = co_await connection.execute(std::move(newest), ec);
      if (reply && reply->type == redis::Reply::Type::array) {
        last_id = reply->elements.empty() ? "0-0" : reply->elements[0].elements.at(0).text;
        counters_.stream_ready.store(true, std::memory_order_relaxed);
        continue;
      }
    } else if (!ec) {
      // From the last id seen: after a reconnect this replays what was missed.
      std::string read = redis::format_command(
          {"XREAD", "COUNT", "100", "BLOCK", "1000", "STREAMS", options_.stream, last_id});
      reply = co_await connection.execute(std::move(read), ec);
    }
    if (ec || !reply || reply->is_error()) {
      if (*stopped) break;
      asio::steady_timer wait(executor_, backoff);
      co_await wait.async_wait(use_tuple);
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    backoff = kFirstBackoff;
    if (reply->type != redis::Reply::Type::array) continue;  // BLOCK timed out: nothing new
    for (auto& stream : reply->elements) {
      if (stream.elements.size() != 2) continue;
      for (auto& entry : stream.elements[1].elements) {
        if (entry.elements.size() != 2) continue;
        last_id = entry.elements[0].text;
        auto& fields = entry.elements[1].elements;
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
          if (fields[i].text != "event") continue;
          counters_.stream_events.fetch_add(1, std::memory_order_relaxed);
          co_await handle_message(std::move(fields[i + 1].text));
        }
      }
    }
  }
}

asio::awaitable<void> Bus::handle_message(std::string payload) {
  counters_.received.fetch_add(1, std::memory_order_relaxed);
  auto now = Clock::now();
  Verdict verdict = validate_event(payload, options_.policy, now);
  if (verdict.event && !verdict.event->eid.empty() &&
      !applied_events_.first_sighting(verdict.event->eid, now)) {
    verdict.reason = Rejection::replayed;
    verdict.detail = "eid " + verdict.event->eid + " was applied already";
    verdict.event.reset();
  }
  if (!verdict.event) {
    counters_.rejected[static_cast<std::size_t>(verdict.reason)].fetch_add(
        1, std::memory_order_relaxed);
    logging::event(spdlog::level::warn, "event-rejected",
                   "invalidation event rejected: " + verdict.detail,
                   logging::Fields()
                       .add("reason", to_string(verdict.reason))
                       .add("channel", options_.channel));
    counters_.remember_rejection(to_string(verdict.reason), verdict.detail);
    co_return;
  }
  const Event& event = *verdict.event;
  Scope scope = scope_of(event, invalidator_.environment());
  auto result = co_await invalidator_.apply(scope);
  counters_.applied.fetch_add(1, std::memory_order_relaxed);
  if (auto ts = parse_rfc3339(event.ts)) {
    counters_.last_lag_ms.store(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - *ts).count(),
        std::memory_order_relaxed);
  }
  spdlog::debug("invalidation {} from {}: {} -> dropped {} in memory, {} in redis",
                to_string(event.type), event.source, scope.describe(), result.memory, result.redis);
  if (!event.ack_to.empty()) {
    if (auto* fleet = invalidator_.fleet()) co_await fleet->publish(event.ack_to, event.ack_id);
  }
}

}  // namespace cachecar::invalidation
