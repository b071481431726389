#include "proxy/request_handler.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <cmath>
#include <cstdio>
#include <utility>

#include "cache/canonical_form.hpp"
#include "cache/reuse.hpp"
#include "cache/vary.hpp"
#include "logging/event_log.hpp"
#include "net/http_util.hpp"
#include "net/relay.hpp"
#include "proxy/entry_builder.hpp"
#include "proxy/entry_times.hpp"
#include "proxy/request_plan.hpp"
#include "proxy/response_facts.hpp"

namespace cachecar::proxy {

namespace asio = net::asio;
namespace beast = net::beast;
namespace http = net::http;
using cache::CacheStatus;
using store::Clock;

namespace {

constexpr int kMaxElections = 3;     // rounds a waiter waits (or elects) before it fetches itself
constexpr double kXFetchBeta = 1.0;  // the paper's beta: above 1 refreshes earlier

using net::sv;

}  // namespace

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
      executor_(executor),
      context_(runtime, worker, executor),
      filler_(context_),
      invalidator_(runtime.memory, filler_.redis(), runtime.invalidations,
                   runtime.config.environment) {}

FillTarget RequestHandler::fill_target(const Plan& plan) const {
  return FillTarget{plan.route,
                    plan.key->key,
                    plan.key->fingerprint,
                    {plan.values->begin(), plan.values->end()},
                    plan.routes};
}

const RouteSetPtr& RequestHandler::current_routes() {
  if (!routes_ || routes_->generation != runtime_.routes_generation()) {
    // A control block of this worker's own (it holds the shared one): the
    // per-request copies then count on a cache line no other worker touches.
    RouteSetPtr shared = runtime_.routes();
    const RouteSet* table = shared.get();
    routes_ = RouteSetPtr(table, [keep = std::move(shared)](const RouteSet*) {});
  }
  return routes_;
}

// Calls finished() when the request's frame ends, whichever co_return ends it.
class RequestHandler::RequestEnd {
 public:
  RequestEnd(RequestHandler& handler, const net::Request& request, const net::tcp::endpoint& peer,
             const Plan& plan)
      : handler_(handler), request_(request), peer_(peer), plan_(plan) {}
  ~RequestEnd() {
    // Timed from the transaction's start: the plan (and so the transaction)
    // is made just before this.
    handler_.finished(request_, peer_, plan_,
                      std::chrono::steady_clock::now() - plan_.tx.started());
  }
  RequestEnd(const RequestEnd&) = delete;
  RequestEnd& operator=(const RequestEnd&) = delete;

 private:
  RequestHandler& handler_;
  const net::Request& request_;
  const net::tcp::endpoint& peer_;
  const Plan& plan_;
};

void RequestHandler::answering(Plan& plan, unsigned http_status) {
  plan.tx.answer(http_status);
  runtime_.stats.count(worker_, plan.slot, static_cast<std::size_t>(plan.tx.status()));
}

void RequestHandler::finished(const net::Request& request, const net::tcp::endpoint& peer,
                              const Plan& plan, std::chrono::steady_clock::duration elapsed) {
  if (!plan.tx.answered()) return;  // nothing was answered (the client went away)
  runtime_.latencies.client(worker_, plan.tx.http_status(), elapsed);
  const double sample = plan.routes ? plan.routes->config->log.access_sample : 0;
  if (sample <= 0 ||
      (sample < 1 && std::uniform_real_distribution<double>(0, 1)(access_random_) >= sample))
    return;
  logging::Fields fields;
  fields.add("method", sv(request.method_string()))
      .add("target", sv(request.target()))
      .add("status", plan.tx.http_status())
      .add("route", plan.route ? std::string_view(plan.route->name) : std::string_view("-"))
      .add("cache", cache::to_string(plan.tx.status()))
      .add("duration_ms", std::chrono::duration<double, std::milli>(elapsed).count())
      .add("client", peer.address().to_string());
  if (plan.key) fields.add("key", plan.key->key);
  if (!plan.tx.detail().empty()) fields.add("detail", plan.tx.detail());
  if (plan.tx.origin_time().count() > 0) {
    fields.add("origin_ms",
               std::chrono::duration<double, std::milli>(plan.tx.origin_time()).count());
  }
  logging::access(fields);
}

asio::awaitable<bool> RequestHandler::handle(net::Request& request, beast::tcp_stream& client,
                                             const net::tcp::endpoint& peer) {
  Plan plan;
  RequestEnd end(*this, request, peer, plan);
  config::RouteValues values;
  std::string_view query;
  switch (route_request(request, peer, values, query, plan)) {
    case Path::write_through:
      co_return co_await write_through(request, client, plan, values);
    case Path::forward:
      co_return co_await forward(request, client, plan);
    case Path::cache:
      break;
  }
  ScratchLease scratch(*this);
  if (!key_request(request, query, values, scratch.get(), plan))
    co_return co_await forward(request, client, plan);

  Found found{runtime_.memory.find(plan.key->key)};
  if (needs_shared_tier(found.entry)) co_await look_in_redis(plan.key->key, found);
  if (found.entry && found.entry->is_vary_marker()) {
    to_variant(request, scratch.get(), found);
    if (needs_shared_tier(found.entry)) co_await look_in_redis(plan.key->key, found);
  }
  const auto now = Clock::now();
  if (found_answers(request, found, plan, now))
    co_return co_await serve_hit(request, client, *found.entry, plan, now);

  if (plan.request_facts.cache_control.only_if_cached)
    co_return co_await reply_not_cached(client, plan);
  // A request that refused what is stored wants the origin's own answer:
  // not one a concurrent fetch began before it.
  if (!plan.route->coalesce || plan.tx.status() == CacheStatus::request)
    co_return co_await forward(request, client, plan);
  co_return co_await fetch_once_per_key(request, client, plan);
}

RequestHandler::Path RequestHandler::route_request(const net::Request& request,
                                                   const net::tcp::endpoint& peer,
                                                   config::RouteValues& values,
                                                   std::string_view& query, Plan& plan) {
  plan.head_only = request.method() == http::verb::head;
  plan.keep_alive = request.keep_alive();
  plan.version = request.version();
  std::string_view path;
  net::split_target(sv(request.target()), path, query);
  plan.routes = current_routes();
  plan.route = plan.routes->table.match(sv(request.method_string()), path, values);
  plan.slot = plan.route ? plan.routes->stats_slot(plan.route) : runtime_.stats.unmatched_slot();
  plan.peer = peer;
  plan.trusted_peer = plan.routes->config->forwarding.trusts(peer.address());
  if (plan.route && plan.route->mode == config::RouteMode::write_through) {
    plan.tx.not_cacheable(CacheStatus::method);
    return Path::write_through;
  }
  if (plan.route == nullptr || plan.route->mode == config::RouteMode::bypass) {
    plan.tx.not_cacheable(CacheStatus::bypass);
    return Path::forward;
  }
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    plan.tx.not_cacheable(CacheStatus::method);
    return Path::forward;
  }
  return Path::cache;
}

bool RequestHandler::key_request(net::Request& request, std::string_view query,
                                 config::RouteValues& values, cache::KeyScratch& scratch,
                                 Plan& plan) {
  BeastHeaders headers(request);
  // Read, not written: a hit sends nothing to the origin, so the request's
  // fields are shaped only on the way there (shape_for_origin).
  const auto refusal = cache::key_canonical_request(
      *plan.route, runtime_.config.environment, plan.routes->config->forwarding, values, query,
      headers, cache::forwarded_authority(headers, plan.trusted_peer), scratch);
  if (refusal != cache::Refusal::none) {
    // Forwarded as sent, never cached.
    plan.tx.not_cacheable(CacheStatus::bypass, cache::to_string(refusal));
    return false;
  }
  // Compared first: a request already in canonical form costs no rewrite.
  if (scratch.target != sv(request.target())) request.target(scratch.target);
  plan.key = &scratch;
  plan.values = &values;
  plan.request_facts = request_facts(request);
  if (plan.request_facts.cache_control.no_store) {
    plan.tx.not_cacheable(CacheStatus::request, "no-store");
    return false;
  }
  plan.store = true;
  return true;
}

bool RequestHandler::needs_shared_tier(const store::EntryPtr& in_memory) {
  // Memory inline (a hit needs no further coroutine frame); Redis only when
  // memory has nothing fresh.
  return filler_.redis() && (!in_memory || Clock::now() >= in_memory->expires_at);
}

void RequestHandler::to_variant(const net::Request& request, cache::KeyScratch& scratch,
                                Found& found) {
  // The response varies on headers outside the key: this request's
  // variant has a key (and fingerprint) of its own.
  cache::add_variant(scratch.key, scratch.fingerprint, found.entry->vary, BeastHeaders(request));
  found = Found{runtime_.memory.find(scratch.key)};
  found.varied = true;
}

bool RequestHandler::found_answers(const net::Request& request, const Found& found, Plan& plan,
                                   Clock::time_point now) {
  const auto& entry = found.entry;
  if (!entry || entry->fingerprint != plan.key->fingerprint) {
    plan.tx.found_nothing(found.varied);
    return false;
  }
  const bool trusted = runtime_.gap.servable(
      entry->stored_at, now, plan.route->max_stale.value_or(std::chrono::milliseconds(0)));
  // A shared-tier hit is promoted with its own (absolute) expiry, so it
  // lives in memory exactly as long as it has left.
  if (trusted && found.from_redis) runtime_.memory.insert(plan.key->key, entry);
  const auto reuse =
      trusted ? cache::reuse_for(plan.request_facts.cache_control, stored_times(*entry), now)
              : cache::Reuse::expired;
  if (reuse == cache::Reuse::fresh) {
    if (early_refresh_due(plan, *entry, now)) {
      metrics::RefreshCounters::bump(runtime_.refreshes.early);
      refresh_in_background(request, plan, entry);
    }
    plan.tx.found_fresh(found.from_redis ? "redis" : "");
    return true;
  }
  if (reuse == cache::Reuse::stale_accepted) {
    plan.tx.serve_stale("max-stale");  // the client's max-stale accepts it
    return true;
  }
  if (reuse == cache::Reuse::expired && trusted && now < entry->revalidate_until()) {
    // stale-while-revalidate: answer now, refresh once behind the scenes.
    refresh_in_background(request, plan, entry);
    metrics::RefreshCounters::bump(runtime_.refreshes.stale_while_revalidate);
    plan.tx.serve_stale("stale-while-revalidate");
    return true;
  }
  // Expired, refused by the request's directives, or in doubt after a
  // bus gap: fetched again, conditionally when it has validators. Expired
  // but trusted, it may still answer if the origin fails (stale-if-error)
  // or the rebuild budget is spent.
  plan.tx.found_expired(reuse == cache::Reuse::refused);
  plan.revalidate = entry;
  if (trusted && now >= entry->expires_at) plan.stale = entry;
  return false;
}

asio::awaitable<bool> RequestHandler::fetch_once_per_key(net::Request& request,
                                                         beast::tcp_stream& client, Plan& plan) {
  // One origin fetch per key: the first request fetches, the others wait
  // for it (at most origin_timeout) and are served what it stored. When the
  // fetcher gives up without a result, the waiters elect another.
  for (int election = 0; election < kMaxElections; ++election) {
    // The fill may have landed while we waited: take it rather than fetch.
    if (auto landed = election > 0 ? usable_in_memory(plan) : nullptr)
      co_return co_await serve_collapsed(client, *landed, plan, {});
    auto ticket = runtime_.fetch_locks.acquire(plan.key->key);
    if (ticket.permit) co_return co_await fetch_for_waiters(request, client, plan, ticket.permit);
    if (ticket.pass) break;  // recently uncacheable: do not queue behind it
    // Our fetcher may first wait out a fleet lease, then fetch: wait for both.
    auto limit = runtime_.config.limits.origin_timeout;
    if (filler_.redis()) limit += runtime_.fleet_lease_ttl();
    auto [outcome, filled] = co_await ticket.flight->wait(limit);
    if (outcome == cache::FlightOutcome::filled && filled &&
        filled->fingerprint == plan.key->fingerprint) {
      co_return co_await serve_collapsed(client, *filled, plan, {});
    }
    // Uncacheable: fetch ourselves. Abandoned: elect a new fetcher. Still
    // pending after our wait: the fetch is slow, not gone; wait another
    // round rather than add to the origin's load (bounded by the elections).
    if (outcome == cache::FlightOutcome::uncacheable) break;
  }
  co_return co_await forward(request, client, plan);
}

store::EntryPtr RequestHandler::usable_in_memory(const Plan& plan) const {
  auto landed = runtime_.memory.find(plan.key->key);
  if (landed && landed->fingerprint == plan.key->fingerprint && Clock::now() < landed->expires_at)
    return landed;
  return nullptr;
}

asio::awaitable<bool> RequestHandler::fetch_for_waiters(net::Request& request,
                                                        beast::tcp_stream& client, Plan& plan,
                                                        cache::FetchPermit& permit) {
  plan.permit = &permit;
  if (filler_.redis()) {
    // This process' fetcher; now one fetcher for the whole fleet.
    if (auto fleet_fill = co_await await_fleet(plan)) {
      runtime_.memory.insert(plan.key->key, fleet_fill);
      permit.filled(fleet_fill);  // local waiters are served too
      co_return co_await serve_collapsed(client, *fleet_fill, plan, "fleet");
    }
  }
  bool keep_alive = co_await forward(request, client, plan);
  co_await release_fleet_lease(plan);  // if the fill did not already
  co_return keep_alive;
}

void RequestHandler::shape_for_origin(net::Request& request, const Plan& plan) const {
  net::set_forwarded_fields(request, plan.peer, plan.trusted_peer);
  if (plan.route && plan.route->mode != config::RouteMode::bypass) {
    // Never keyed, so never forwarded where cachecar caches (keyed = forwarded).
    for (auto name : cache::target_rewriting_fields()) request.erase(name);
  }
}

net::Request RequestHandler::origin_copy(const net::Request& request, std::string_view target,
                                         const Plan& plan) const {
  auto copy = fill_request(request, target);
  shape_for_origin(copy, plan);
  return copy;
}

asio::awaitable<void> RequestHandler::look_in_redis(const std::string& key, Found& found) {
  // Not in memory, or expired there: a peer may have stored a fresher copy.
  // Fails open: an unavailable Redis reads as a miss.
  auto shared = co_await filler_.redis()->get(key);
  if (!shared || (found.entry && shared->expires_at <= found.entry->expires_at) ||
      runtime_.invalidations.invalidated_after(shared->stored_at, key, shared->tags)) {
    co_return;
  }
  // A marker holds no data: promoted at once, so that the next request
  // finds its way to its variant in memory.
  if (shared->is_vary_marker()) runtime_.memory.insert(key, shared);
  found.entry = std::move(shared);
  found.from_redis = true;
}

bool RequestHandler::early_refresh_due(const Plan& plan, const store::Entry& entry,
                                       Clock::time_point now) {
  if (plan.route->early_refresh != config::EarlyRefresh::probabilistic || entry.rebuild_ms == 0)
    return false;
  // XFetch (Vattani, Chierichetti, Lowenstein, VLDB 2015): refresh once
  // now - delta * beta * ln(u) reaches the expiry, u uniform in (0, 1] and
  // delta the measured rebuild time. Far from expiry the chance is below
  // e^-30: skip the logarithm.
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(entry.expires_at - now).count();
  if (static_cast<double>(left) > 30.0 * kXFetchBeta * entry.rebuild_ms) return false;
  const double u = 1.0 - context_.jitter_draw();
  return -static_cast<double>(entry.rebuild_ms) * kXFetchBeta * std::log(u) >=
         static_cast<double>(left);
}

void RequestHandler::refresh_in_background(const net::Request& request, const Plan& plan,
                                           store::EntryPtr current) {
  auto ticket = runtime_.fetch_locks.acquire(plan.key->key);
  if (!ticket.permit) return;  // a fetch of this key is running already (or it is uncacheable)
  metrics::RefreshCounters::bump(runtime_.refreshes.background);
  asio::co_spawn(
      executor_,
      filler_.refresh(fill_target(plan), origin_copy(request, sv(request.target()), plan),
                      std::move(current), std::move(ticket.permit)),
      asio::detached);
}

asio::awaitable<store::EntryPtr> RequestHandler::await_fleet(Plan& plan) {
  const auto& key = plan.key->key;
  const auto lease_ttl = runtime_.fleet_lease_ttl();
  auto* redis = filler_.redis();
  auto* fleet = context_.fleet();
  std::string token = context_.lease_token();
  // Watching before the lease is tried: a release between our try and our
  // wait is not missed.
  auto watch = runtime_.fleet_fills.watch(key, executor_);
  auto usable_fill = [&](const store::EntryPtr& entry) {
    return entry && entry->fingerprint == plan.key->fingerprint &&
           Clock::now() < entry->expires_at &&
           !runtime_.invalidations.invalidated_after(entry->stored_at, key, entry->tags);
  };
  auto& waiter = watch->waiter();
  for (int election = 0; election < kMaxElections; ++election) {
    auto lease = co_await fleet->try_lease(key, token, lease_ttl);
    if (lease == fleet::FleetLink::Lease::won) {
      metrics::RefreshCounters::bump(runtime_.refreshes.leases_won);
      plan.lease_token = token;
      co_return nullptr;
    }
    if (lease == fleet::FleetLink::Lease::unavailable) co_return nullptr;
    metrics::RefreshCounters::bump(runtime_.refreshes.leases_lost);
    // Someone in the fleet is fetching: wait for its release announcement
    // (or the next poll), then look for its fill in the shared tier.
    // The lease's own expiry bounds this wait (a holder keeps it at most
    // lease_ttl, and it was taken before we looked). The clock here is only
    // a safety cap, set well past that: stopping near the expiry on a busy
    // machine would make us a second fetcher without a lease.
    auto deadline = std::chrono::steady_clock::now() + 2 * lease_ttl;
    bool reelect = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waiter.signals == 0) {
        // No release announcement yet: look anyway every store.redis.lease_poll.
        waiter.timer.expires_after(runtime_.config.redis->lease_poll);
        co_await waiter.timer.async_wait(net::use_tuple);
      }
      waiter.signals = 0;
      auto entry = co_await redis->get(key);
      if (usable_fill(entry)) co_return entry;
      auto state = co_await fleet->lease_state(key);
      if (state == fleet::FleetLink::LeaseState::held) continue;
      if (state == fleet::FleetLink::LeaseState::none) {
        // The holder stores its fill before it releases the lease, so a
        // lease released since our look above has left its fill: look again.
        // No fill: the lease expired, its holder is gone; elect anew.
        auto fill = co_await redis->get(key);
        if (usable_fill(fill)) co_return fill;
        reelect = true;
      }
      break;  // pass (uncacheable) or Redis trouble: fetch ourselves
    }
    if (!reelect) co_return nullptr;
  }
  co_return nullptr;
}

asio::awaitable<void> RequestHandler::release_fleet_lease(Plan& plan) {
  if (plan.lease_token.empty()) co_return;
  const bool pass = plan.permit && plan.permit->outcome() == cache::FlightOutcome::uncacheable;
  co_await context_.fleet()->release_lease(
      plan.key->key, std::exchange(plan.lease_token, {}),
      pass ? cache::kHitForPassWindow : std::chrono::milliseconds(0));
}

asio::awaitable<bool> RequestHandler::serve_hit(const net::Request& request,
                                                beast::tcp_stream& client,
                                                const store::Entry& entry, Plan& plan,
                                                Clock::time_point now) {
  // Not a coroutine itself: the hit path keeps to one frame (write_entry's).
  auto field = [&](http::field name) -> std::optional<std::string_view> {
    auto it = request.find(name);
    if (it == request.end()) return std::nullopt;
    return sv(it->value());
  };
  auto if_none_match = field(http::field::if_none_match);
  auto if_modified_since = field(http::field::if_modified_since);
  if ((if_none_match || if_modified_since) &&
      cache::client_has_it(if_none_match, if_modified_since, head_field(entry.head, "ETag"),
                           head_field(entry.head, "Last-Modified"))) {
    return serve_not_modified(client, entry, plan, now);
  }
  return serve_entry(client, entry, plan, now);
}

asio::awaitable<bool> RequestHandler::serve_not_modified(beast::tcp_stream& client,
                                                         const store::Entry& entry, Plan& plan,
                                                         Clock::time_point now) {
  // RFC 9110 §15.4.5: the fields a 200 would have carried that describe
  // the representation's validity, without the body.
  std::string head = "HTTP/1.1 304 Not Modified\r\n";
  for (const char* name :
       {"Cache-Control", "Content-Location", "Date", "ETag", "Expires", "Last-Modified", "Vary"}) {
    if (auto value = head_field(entry.head, name)) {
      head += name;
      head += ": ";
      head.append(*value);
      head += "\r\n";
    }
  }
  const auto status = plan.tx.header(seconds_left(entry, now));
  std::string status_text(status.view());
  if (runtime_.config.admin.disclose_keys && plan.key)
    status_text = cache::with_key(status_text, plan.key->key);
  head +=
      "Age: " + std::to_string(age_of(entry, now)) + "\r\nCache-Status: " + status_text + "\r\n";
  if (!plan.keep_alive) head += "Connection: close\r\n";
  head += "\r\n";
  client.expires_after(runtime_.config.limits.header_timeout);
  answering(plan, 304);
  auto [ec, written] = co_await asio::async_write(client, asio::buffer(head), net::use_tuple);
  co_return !ec && plan.keep_alive;
}

asio::awaitable<bool> RequestHandler::reply_not_cached(beast::tcp_stream& client, Plan& plan) {
  // RFC 9111 §5.2.1.7: only-if-cached and nothing usable stored: 504.
  plan.tx.explain("only-if-cached");
  co_return co_await reply_error(client, plan, http::status::gateway_timeout,
                                 "only-if-cached: no stored response can answer this request");
}

asio::awaitable<bool> RequestHandler::reply_error(beast::tcp_stream& client, Plan& plan,
                                                  http::status status, std::string_view reason,
                                                  long long retry_after_seconds) {
  auto response = net::json_error(status, reason, plan.version, plan.keep_alive);
  response.set(cache::kCacheStatusField, plan.tx.header().view());
  if (retry_after_seconds > 0)
    response.set(http::field::retry_after, std::to_string(retry_after_seconds));
  client.expires_after(runtime_.config.limits.header_timeout);
  answering(plan, response.result_int());
  auto [ec, written] = co_await http::async_write(client, response, net::use_tuple);
  co_return !ec && plan.keep_alive;
}

void RequestHandler::mark_refusal(http::response<http::string_body>& response) const {
  response.set(cache::kCacheStatusField,
               cache::CacheStatusText(CacheStatus::bypass, 0, false, "bad-request").view());
}

asio::awaitable<bool> RequestHandler::serve_collapsed(beast::tcp_stream& client,
                                                      const store::Entry& entry, Plan& plan,
                                                      std::string_view detail) {
  runtime_.fetch_locks.count_collapsed();
  plan.tx.collapsed(detail);
  co_return co_await serve_entry(client, entry, plan, Clock::now());
}

asio::awaitable<bool> RequestHandler::serve_entry(beast::tcp_stream& client,
                                                  const store::Entry& entry, Plan& plan,
                                                  Clock::time_point now) {
  // Not a coroutine itself (one frame per hit is enough): the status text
  // travels by value into write_entry's frame.
  return write_entry(client, entry, plan, plan.tx.header(seconds_left(entry, now)), now);
}

asio::awaitable<bool> RequestHandler::write_entry(beast::tcp_stream& client,
                                                  const store::Entry& entry, Plan& plan,
                                                  cache::CacheStatusText status,
                                                  Clock::time_point now) {
  const long long age = age_of(entry, now);
  const char* connection = !plan.keep_alive              ? "Connection: close\r\n"
                           : plan.version < net::kHttp11 ? "Connection: keep-alive\r\n"
                                                         : "";
  std::array<char, 320> tail;
  std::string disclosed;  // only with admin.disclose_keys: the key makes the tail long
  std::string_view status_text = status.view();
  if (runtime_.config.admin.disclose_keys && plan.key) {
    disclosed = cache::with_key(status_text, plan.key->key);
    status_text = disclosed;
  }
  std::string long_tail;
  int n = std::snprintf(tail.data(), tail.size(), "Age: %lld\r\nCache-Status: %.*s\r\n%s\r\n", age,
                        static_cast<int>(status_text.size()), status_text.data(), connection);
  asio::const_buffer tail_buffer(tail.data(), static_cast<std::size_t>(n));
  if (static_cast<std::size_t>(n) >= tail.size()) {
    long_tail = "Age: " + std::to_string(age) + "\r\nCache-Status: " + std::string(status_text) +
                "\r\n" + connection + "\r\n";
    tail_buffer = asio::buffer(long_tail);
  }
  std::array<asio::const_buffer, 3> buffers{
      asio::buffer(entry.head), tail_buffer,
      plan.head_only ? asio::const_buffer{} : asio::buffer(entry.body)};
  client.expires_after(runtime_.config.limits.header_timeout);
  answering(plan, entry.status);
  auto [ec, written] = co_await asio::async_write(client, buffers, net::use_tuple);
  co_return !ec && plan.keep_alive;
}

}  // namespace cachecar::proxy
