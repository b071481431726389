#include "proxy/request_handler.hpp"

#include "net/http_util.hpp"
#include "net/relay.hpp"
#include "proxy/entry_builder.hpp"
#include "proxy/response_facts.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <array>
#include <cstdio>

namespace cachecar::proxy {

namespace asio = net::asio;
namespace beast = net::beast;
namespace http = net::http;
using cache::CacheStatus;
using store::Clock;

namespace {

constexpr std::uint32_t kOriginHeaderLimit = 64 * 1024;
constexpr std::size_t kBodyChunk = 64 * 1024;
constexpr int kMaxElections = 3;  // rounds a waiter waits (or elects) before it fetches itself
constexpr std::chrono::milliseconds kFleetPollInterval{10};  // how often a lease loser looks for the fill

bool is_idempotent(http::verb method) {
  switch (method) {
    case http::verb::get: case http::verb::head: case http::verb::put:
    case http::verb::delete_: case http::verb::options: case http::verb::trace:
      return true;
    default:
      return false;
  }
}

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace

// Everything decided about one request before the origin is asked.
struct RequestHandler::Plan {
  const config::RoutePolicy* route = nullptr;
  std::size_t slot = 0;
  CacheStatus status = CacheStatus::bypass;
  std::string_view detail;
  bool store = false;  // the response may be stored under `key`
  const cache::KeyScratch* key = nullptr;
  const config::RouteValues* values = nullptr;  // the route's path variables
  cache::FetchPermit* permit = nullptr;         // set: this request fetches for its waiters too
  store::EntryPtr stale;                        // the expired entry: the answer if the origin fails
  bool collapsed = false;                       // served by another request's fetch
  cache::RequestFacts request_facts;
  bool head_only = false;
  bool keep_alive = true;
  unsigned version = 11;
};

class RequestHandler::ScratchLease {
 public:
  explicit ScratchLease(RequestHandler& owner) : owner_(owner) {
    if (owner_.free_scratch_.empty()) {
      scratch_ = std::make_unique<cache::KeyScratch>();
    } else {
      scratch_ = std::move(owner_.free_scratch_.back());
      owner_.free_scratch_.pop_back();
    }
  }
  ~ScratchLease() { owner_.free_scratch_.push_back(std::move(scratch_)); }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  cache::KeyScratch& get() { return *scratch_; }

 private:
  RequestHandler& owner_;
  std::unique_ptr<cache::KeyScratch> scratch_;
};

RequestHandler::RequestHandler(Runtime& runtime, std::size_t worker, asio::any_io_executor executor)
    : runtime_(runtime),
      worker_(worker),
      pool_(executor, runtime.origin_endpoint, runtime.config.limits.origin_timeout),
      random_(std::random_device{}()) {
  if (runtime.config.redis) {
    redis_ = std::make_unique<store::RedisTier>(executor, *runtime.config.redis, runtime.config.memory.max_entry_bytes);
    redis_->start();
  }
}

double RequestHandler::jitter_draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }

asio::awaitable<bool> RequestHandler::handle(net::Request& request, beast::tcp_stream& client,
                                             const net::tcp::endpoint& peer) {
  Plan plan;
  plan.head_only = request.method() == http::verb::head;
  plan.keep_alive = request.keep_alive();
  plan.version = request.version();
  std::string_view path, query;
  net::split_target(sv(request.target()), path, query);
  config::RouteValues values;
  plan.route = runtime_.routes.match(sv(request.method_string()), path, values);
  plan.slot = plan.route ? runtime_.routes.index_of(plan.route) : runtime_.stats.unmatched_slot();

  if (plan.route == nullptr || plan.route->mode == config::RouteMode::bypass ||
      plan.route->mode == config::RouteMode::write_through) {
    co_return co_await forward(request, client, peer, plan);
  }
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    plan.status = CacheStatus::method;
    co_return co_await forward(request, client, peer, plan);
  }

  ScratchLease scratch(*this);
  BeastHeaders headers(request);
  if (cache::build_key(*plan.route, runtime_.config.environment, values, query, headers, scratch.get()) ==
      cache::KeyOutcome::missing_tenant) {
    plan.detail = "no-tenant";  // never cached: a tenant-less request must not see or fill tenant data
    co_return co_await forward(request, client, peer, plan);
  }
  plan.key = &scratch.get();
  plan.values = &values;
  plan.request_facts = request_facts(request);
  if (plan.request_facts.cache_control.no_store) {
    plan.status = CacheStatus::request;
    plan.detail = "no-store";
    co_return co_await forward(request, client, peer, plan);
  }
  plan.store = true;
  if (plan.request_facts.cache_control.no_cache) {
    plan.status = CacheStatus::request;
    co_return co_await forward(request, client, peer, plan);
  }

  store::EntryPtr entry = runtime_.memory.find(plan.key->key);
  bool from_redis = false;
  if (redis_ && (!entry || Clock::now() >= entry->expires_at)) {
    // Not in memory, or expired there: a peer may have stored a fresher
    // copy. Fails open: an unavailable Redis reads as a miss.
    if (auto shared = co_await redis_->get(plan.key->key); shared && (!entry || shared->expires_at > entry->expires_at)) {
      entry = std::move(shared);
      from_redis = true;
    }
  }
  const auto now = Clock::now();
  if (entry && entry->fingerprint == plan.key->fingerprint) {
    if (now < entry->expires_at &&
        runtime_.gap.servable(entry->stored_at, now, plan.route->max_stale.value_or(std::chrono::milliseconds(0)))) {
      // A shared-tier hit is promoted with its own (absolute) expiry, so it
      // lives in memory exactly as long as it has left.
      if (from_redis) runtime_.memory.insert(plan.key->key, entry);
      plan.status = CacheStatus::hit;
      runtime_.stats.count(worker_, plan.slot, plan.status);
      co_return co_await serve_entry(client, *entry, plan, false, from_redis ? "redis" : "", now);
    }
    plan.status = CacheStatus::stale;
    // Expired but not in doubt (the gap rule did not bar it): it may still
    // answer if the origin fails, within its stale-if-error window.
    if (now >= entry->expires_at) plan.stale = entry;
  } else {
    plan.status = CacheStatus::miss;
  }
  if (!plan.route->coalesce) co_return co_await forward(request, client, peer, plan);

  // One origin fetch per key: the first request fetches, the others wait
  // for it (at most origin_timeout) and are served what it stored. When the
  // fetcher gives up without a result, the waiters elect another.
  for (int election = 0; election < kMaxElections; ++election) {
    if (election > 0) {
      // The fill may have landed while we waited: take it rather than fetch.
      auto landed = runtime_.memory.find(plan.key->key);
      if (landed && landed->fingerprint == plan.key->fingerprint && Clock::now() < landed->expires_at) {
        co_return co_await serve_collapsed(client, *landed, plan, {});
      }
    }
    auto ticket = runtime_.fetch_locks.acquire(plan.key->key);
    if (ticket.permit) {
      plan.permit = &ticket.permit;
      std::string lease_token;
      if (redis_) {
        // This process' fetcher; now one fetcher for the whole fleet.
        if (auto fleet_fill = co_await await_fleet(plan, lease_token)) {
          runtime_.memory.insert(plan.key->key, fleet_fill);
          ticket.permit.filled(fleet_fill);  // local waiters are served too
          co_return co_await serve_collapsed(client, *fleet_fill, plan, "fleet");
        }
      }
      bool keep_alive = co_await forward(request, client, peer, plan);
      if (!lease_token.empty()) {
        co_await redis_->release_lease(plan.key->key, lease_token,
                                       ticket.permit.outcome() == cache::FlightOutcome::uncacheable);
      }
      co_return keep_alive;
    }
    if (ticket.pass) break;  // recently uncacheable: do not queue behind it
    // Our fetcher may first wait out a fleet lease, then fetch: wait for both.
    auto limit = runtime_.config.limits.origin_timeout;
    if (redis_) limit += fleet_lease_ttl();
    auto [outcome, filled] = co_await ticket.flight->wait(limit);
    if (outcome == cache::FlightOutcome::filled && filled && filled->fingerprint == plan.key->fingerprint) {
      co_return co_await serve_collapsed(client, *filled, plan, {});
    }
    // Uncacheable: fetch ourselves. Abandoned: elect a new fetcher. Still
    // pending after our wait: the fetch is slow, not gone; wait another
    // round rather than add to the origin's load (bounded by the elections).
    if (outcome == cache::FlightOutcome::uncacheable) break;
  }
  co_return co_await forward(request, client, peer, plan);
}

std::chrono::milliseconds RequestHandler::fleet_lease_ttl() const {
  // The holder cannot keep the lease longer than a fetch may take: a holder
  // that dies costs the fleet at most this long.
  return runtime_.config.limits.origin_timeout + std::chrono::milliseconds(250);
}

asio::awaitable<store::EntryPtr> RequestHandler::await_fleet(const Plan& plan, std::string& lease_token) {
  const auto& key = plan.key->key;
  const auto lease_ttl = fleet_lease_ttl();
  char token[17];
  std::snprintf(token, sizeof token, "%016llx", static_cast<unsigned long long>(random_()) << 32 ^ random_());
  for (int election = 0; election < kMaxElections; ++election) {
    auto lease = co_await redis_->try_lease(key, token, lease_ttl);
    if (lease == store::RedisTier::Lease::won) {
      lease_token = token;
      co_return nullptr;
    }
    if (lease == store::RedisTier::Lease::unavailable) co_return nullptr;
    // Someone in the fleet is fetching: poll the shared tier for its fill.
    asio::steady_timer poll(co_await asio::this_coro::executor);
    // The lease's own expiry bounds this wait (a holder keeps it at most
    // lease_ttl, and it was taken before we looked). The clock here is only
    // a safety cap, set well past that: stopping near the expiry on a busy
    // machine would make us a second fetcher without a lease.
    auto deadline = std::chrono::steady_clock::now() + 2 * lease_ttl;
    bool reelect = false;
    while (std::chrono::steady_clock::now() < deadline) {
      poll.expires_after(kFleetPollInterval);
      co_await poll.async_wait(net::use_tuple);
      auto entry = co_await redis_->get(key);
      if (entry && entry->fingerprint == plan.key->fingerprint && Clock::now() < entry->expires_at) co_return entry;
      auto state = co_await redis_->lease_state(key);
      if (state == store::RedisTier::LeaseState::held) continue;
      if (state == store::RedisTier::LeaseState::none) {
        // The holder stores its fill before it releases the lease, so a
        // lease released since our look above has left its fill: look again.
        // No fill: the lease expired, its holder is gone; elect anew.
        auto fill = co_await redis_->get(key);
        if (fill && fill->fingerprint == plan.key->fingerprint && Clock::now() < fill->expires_at) co_return fill;
        reelect = true;
      }
      break;  // pass (uncacheable) or Redis trouble: fetch ourselves
    }
    if (!reelect) co_return nullptr;
  }
  co_return nullptr;
}

asio::awaitable<bool> RequestHandler::serve_collapsed(beast::tcp_stream& client, const store::Entry& entry, Plan& plan,
                                                      std::string_view detail) {
  runtime_.fetch_locks.count_collapsed();
  runtime_.stats.count(worker_, plan.slot, plan.status);
  plan.collapsed = true;
  co_return co_await serve_entry(client, entry, plan, false, detail, Clock::now());
}

asio::awaitable<bool> RequestHandler::serve_entry(beast::tcp_stream& client, const store::Entry& entry,
                                                  const Plan& plan, bool stored, std::string_view detail,
                                                  Clock::time_point now) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  long long resident = std::max<long long>(0, duration_cast<seconds>(now - entry.stored_at).count());
  // Negative for a stale answer, as RFC 9211 allows (floor: a moment past
  // expiry is -1, not 0).
  long long ttl = std::chrono::floor<seconds>(entry.expires_at - now).count();
  cache::CacheStatusText status(plan.status, ttl, stored, detail, plan.collapsed);
  const char* connection = !plan.keep_alive      ? "Connection: close\r\n"
                           : plan.version < 11 ? "Connection: keep-alive\r\n"
                                               : "";
  std::array<char, 320> tail;
  int n = std::snprintf(tail.data(), tail.size(), "Age: %lld\r\nCache-Status: %.*s\r\n%s\r\n",
                        entry.initial_age_seconds + resident, static_cast<int>(status.view().size()),
                        status.view().data(), connection);
  std::array<asio::const_buffer, 3> buffers{
      asio::buffer(entry.head), asio::buffer(tail.data(), static_cast<std::size_t>(n)),
      plan.head_only ? asio::const_buffer{} : asio::buffer(entry.body)};
  client.expires_after(runtime_.config.limits.header_timeout);
  auto [ec, written] = co_await asio::async_write(client, buffers, net::use_tuple);
  co_return !ec && plan.keep_alive;
}

void RequestHandler::prepare_origin_request(net::Request& request, const net::tcp::endpoint& peer,
                                            const Plan& plan) const {
  net::strip_hop_by_hop(request);
  // A HEAD that may fill the cache is fetched as GET, so that the stored
  // entry can answer GETs too; the client still gets only the head.
  if (plan.store && plan.head_only) request.method(http::verb::get);
  std::string client_ip = peer.address().to_string();
  if (auto it = request.find("X-Forwarded-For"); it != request.end()) {
    request.set("X-Forwarded-For", std::string(sv(it->value())) + ", " + client_ip);
  } else {
    request.set("X-Forwarded-For", client_ip);
  }
  if (request.find("X-Forwarded-Proto") == request.end()) request.set("X-Forwarded-Proto", "http");
  if (request.find("X-Forwarded-Host") == request.end() && request.find(http::field::host) != request.end()) {
    request.set("X-Forwarded-Host", request[http::field::host]);
  }
  request.version(11);
  request.keep_alive(true);
  request.prepare_payload();
}

asio::awaitable<bool> RequestHandler::forward(net::Request& request, beast::tcp_stream& client,
                                              const net::tcp::endpoint& peer, Plan& plan) {
  runtime_.stats.count(worker_, plan.slot, plan.status);
  // Noted before the origin is asked: an invalidation recorded after this
  // point keeps this fill out of the cache ("no stale set").
  const std::uint64_t fill_sequence = runtime_.invalidations.begin_fill();
  prepare_origin_request(request, peer, plan);
  const auto& limits = runtime_.config.limits;
  const std::uint64_t max_entry_bytes = runtime_.memory.max_entry_bytes();

  std::unique_ptr<net::OriginConnection> connection;
  std::optional<net::OriginParser> parser;
  beast::error_code ec;
  for (int attempt = 0; attempt < 2; ++attempt) {
    // (Two statements: GCC 12 miscompiles co_await inside ?: )
    if (attempt == 0) {
      connection = co_await pool_.acquire(ec);
    } else {
      connection = co_await pool_.connect(ec);
    }
    if (ec) break;
    connection->stream.expires_after(limits.origin_timeout);
    auto [write_error, written] = co_await http::async_write(connection->stream, request, net::use_tuple);
    ec = write_error;
    if (!ec) {
      parser.emplace();
      parser->body_limit(boost::none);  // bodies stream or are bounded by max_entry_bytes below
      parser->header_limit(kOriginHeaderLimit);
      if (request.method() == http::verb::head) parser->skip(true);
      auto [read_error, read] =
          co_await http::async_read_header(connection->stream, connection->buffer, *parser, net::use_tuple);
      ec = read_error;
    }
    if (!ec) break;
    // A kept-alive connection may have been closed by the origin just as we
    // reused it; retrying is safe for idempotent methods only.
    if (!connection->reused || !is_idempotent(request.method()) || ec == beast::error::timeout) break;
  }
  if (ec) co_return co_await reply_origin_failure(client, plan, ec);

  auto& response = parser->get();
  if (response.result_int() >= 500 && stale_usable(plan)) {
    // The origin answered with an error: the stale entry answers instead
    // (the connection, its body unread, is not reused).
    co_return co_await serve_stale(client, plan);
  }
  const bool origin_keep_alive = parser->keep_alive();
  const auto now = Clock::now();
  std::string_view detail = plan.detail;
  bool buffer_body = false;
  cache::ResponseFacts facts;
  cache::StorageDecision decision;
  if (plan.store) {
    facts = response_facts(response, *plan.route);
    decision = cache::decide_storage(plan.request_facts, facts, *plan.route, now, jitter_draw());
    if (decision.verdict != cache::StoreVerdict::store) {
      detail = cache::to_string(decision.verdict);
    } else if (auto length = parser->content_length(); length && *length > max_entry_bytes) {
      detail = "too-large";
    } else {
      buffer_body = true;
    }
  }

  std::string body;
  if (buffer_body) {
    if (auto length = parser->content_length()) body.reserve(*length);
    while (!parser->is_done() && body.size() <= max_entry_bytes) {
      std::size_t before = body.size();
      body.resize(before + kBodyChunk);
      response.body().data = body.data() + before;
      response.body().size = kBodyChunk;
      connection->stream.expires_after(limits.origin_timeout);
      auto [read_error, read] =
          co_await http::async_read(connection->stream, connection->buffer, *parser, net::use_tuple);
      body.resize(before + (kBodyChunk - response.body().size));
      if (read_error && read_error != http::error::need_buffer) {
        co_return co_await reply_origin_failure(client, plan, read_error);
      }
    }
    if (parser->is_done() && body.size() <= max_entry_bytes) {
      const std::string& key = plan.key->key;
      std::vector<std::string> tags = cache::implicit_tags(key);
      for (auto& tag : route_tags(*plan.route, *plan.values, response)) tags.push_back(std::move(tag));
      store::EntryPtr entry = build_entry(response, std::move(body), plan.key->fingerprint, std::move(tags), now,
                                          decision.time_to_live, facts.age, decision.stale_if_error);
      if (origin_keep_alive) pool_.release(std::move(connection));
      std::string_view outcome;
      bool stored = false;
      if (runtime_.invalidations.invalidated_since(fill_sequence, key, entry->tags)) {
        // It changed while we fetched: serve this answer, keep nothing, and
        // let any waiters fetch the new version (the permit is abandoned).
        outcome = "invalidated";
      } else if (runtime_.memory.insert(key, entry) != store::PutResult::stored) {
        outcome = "too-large";
      } else {
        stored = true;
        runtime_.stats.count_stored(worker_);
        // The fill reaches the shared tier before the client hears back, so
        // a peer asked next finds it (bounded by store.redis.timeout; fails open).
        if (redis_) {
          co_await redis_->put(key, entry);
          // An invalidation applied while the write was on its way may have
          // run before it landed: take the entry back out of both tiers.
          if (runtime_.invalidations.invalidated_since(fill_sequence, key, entry->tags)) {
            co_await redis_->erase(key);
            runtime_.memory.remove(key);
            stored = false;
          }
        }
        if (stored && plan.permit) plan.permit->filled(entry);  // before our own client write
      }
      if (!stored && plan.permit && outcome == "too-large") plan.permit->uncacheable();
      co_return co_await serve_entry(client, *entry, plan, stored, outcome, now);
    }
    detail = "too-large";  // grew past max_entry_bytes: stream the rest, store nothing
  }
  // Whatever is streamed is stored for nobody: waiters fetch for themselves,
  // and for a while nobody queues behind this key.
  if (plan.permit && plan.store) plan.permit->uncacheable();

  cache::CacheStatusText status(plan.status, 0, false, detail);
  net::RelayOptions options;
  options.cache_status = status.view();
  options.already_read = body;
  options.head_only = plan.head_only;
  options.client_keep_alive = plan.keep_alive;
  options.client_version = plan.version;
  options.origin_timeout = limits.origin_timeout;
  options.client_timeout = limits.header_timeout;
  auto result = co_await net::relay_response(connection->stream, connection->buffer, *parser, client, options);
  if (result.origin_complete && origin_keep_alive) pool_.release(std::move(connection));
  co_return result.client_ok && result.client_keep_alive;
}

bool RequestHandler::stale_usable(const Plan& plan) const {
  return plan.stale && Clock::now() < plan.stale->usable_until();
}

asio::awaitable<bool> RequestHandler::serve_stale(beast::tcp_stream& client, Plan& plan) {
  plan.status = CacheStatus::hit;
  co_return co_await serve_entry(client, *plan.stale, plan, false, "stale-if-error", Clock::now());
}

asio::awaitable<bool> RequestHandler::reply_origin_failure(beast::tcp_stream& client, Plan& plan,
                                                           beast::error_code ec) {
  const auto& config = runtime_.config;
  OriginFailure failure = ec == beast::error::timeout              ? OriginFailure::timeout
                          : ec == asio::error::connection_refused ? OriginFailure::refused
                                                                   : OriginFailure::broken;
  runtime_.stats.count_origin_failure(worker_, failure);
  http::status status = http::status::bad_gateway;
  std::string reason;
  switch (failure) {
    case OriginFailure::timeout:
      status = http::status::gateway_timeout;
      reason = "origin " + config.origin.to_string() + " did not answer within limits.origin_timeout (" +
               config::format_duration(config.limits.origin_timeout) + ")";
      break;
    case OriginFailure::refused:
      reason = "origin " + config.origin.to_string() + " refused the connection";
      break;
    case OriginFailure::broken:
      reason = "origin " + config.origin.to_string() + " failed: " + ec.message();
      break;
  }
  if (stale_usable(plan)) {
    spdlog::warn("route={} origin failure: {}; serving the stale entry (stale-if-error)",
                 plan.route->name, reason);
    co_return co_await serve_stale(client, plan);
  }
  spdlog::warn("route={} origin failure: {}", plan.route ? plan.route->name : "-", reason);
  cache::CacheStatusText cache_status(plan.status, 0, false,
                                      failure == OriginFailure::timeout ? "origin-timeout" : "origin-unreachable");
  auto response = net::json_error(status, reason, 11, plan.keep_alive, cache_status.view());
  client.expires_after(config.limits.header_timeout);
  auto [write_error, written] = co_await http::async_write(client, response, net::use_tuple);
  co_return !write_error && plan.keep_alive;
}

}  // namespace cachecar::proxy
