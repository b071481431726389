#include "proxy/filler.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "net/body_reader.hpp"
#include "net/http_util.hpp"
#include "proxy/entry_builder.hpp"
#include "proxy/response_facts.hpp"

namespace cachecar::proxy {

namespace asio = net::asio;
namespace beast = net::beast;
namespace http = net::http;
using store::Clock;

net::Request fill_request(const net::Request& client, std::string_view target) {
  net::Request request{http::verb::get, target, net::kHttp11};
  for (const auto& field : client) {
    switch (field.name()) {
      case http::field::if_none_match:
      case http::field::if_modified_since:
      case http::field::if_match:
      case http::field::if_unmodified_since:
      case http::field::if_range:
      case http::field::range:
      case http::field::cache_control:
      case http::field::pragma:
      case http::field::content_length:
      case http::field::content_type:
      case http::field::transfer_encoding:
      case http::field::expect:
        continue;
      default:
        request.insert(field.name_string(), field.value());
    }
  }
  net::strip_hop_by_hop(request);
  return request;
}

Filler::Filler(WorkerContext& worker) : worker_(worker), runtime_(worker.runtime()) {}

asio::awaitable<beast::error_code> Filler::exchange(net::Request& request,
                                                    OriginExchange& exchange) {
  auto& pool = worker_.origin();
  auto& connection = exchange.connection;
  const auto timeout = runtime_.config.limits.origin_timeout;
  beast::error_code ec;
  for (int attempt = 0; attempt < 2; ++attempt) {
    // (Two statements: GCC 12 miscompiles co_await inside ?: )
    net::OriginPool::Acquired acquired;
    if (attempt == 0) {
      acquired = co_await pool.acquire();
    } else {
      acquired = co_await pool.connect();
    }
    if (!acquired) {
      ec = acquired.error();
      connection.reset();
      break;
    }
    connection = std::move(*acquired);
    connection->stream.expires_after(timeout);
    const auto sent = std::chrono::steady_clock::now();
    auto [write_error, written] =
        co_await http::async_write(connection->stream, request, net::use_tuple);
    ec = write_error;
    if (!ec) {
      ec = co_await net::read_response_head(*connection, exchange.parser,
                                            request.method() == http::verb::head, timeout);
    }
    if (!ec) {
      exchange.head_time = std::chrono::steady_clock::now() - sent;
      runtime_.latencies.origin(worker_.stats_slot(), exchange.head_time);
      break;
    }
    // A kept-alive connection may have been closed by the origin just as we
    // reused it; retrying is safe for idempotent methods only.
    if (!connection->reused || !net::is_idempotent(request.method()) || ec == beast::error::timeout)
      break;
  }
  co_return ec;
}

void Filler::reuse(OriginExchange& exchange, bool complete) {
  if (complete && exchange.connection && exchange.parser->keep_alive())
    worker_.origin().release(std::move(exchange.connection));
}

FillDecision Filler::decide(const cache::RequestFacts& request, const OriginExchange& exchange,
                            const config::RoutePolicy& route, Clock::time_point now) {
  FillDecision fill;
  const auto& parser = *exchange.parser;
  fill.facts = response_facts(parser.get(), route);
  fill.storage = cache::decide_storage(request, fill.facts, route, now, worker_.jitter_draw());
  if (fill.storage.verdict != cache::StoreVerdict::store) {
    fill.why_not = cache::to_string(fill.storage.verdict);
  } else if (auto length = parser.content_length();
             length && *length > runtime_.memory.max_entry_bytes()) {
    fill.why_not = "too-large";
  } else {
    fill.store = true;
  }
  return fill;
}

std::vector<std::string> Filler::tags_for(const FillTarget& target,
                                          const http::response_header<>& response) {
  std::vector<std::string> tags = cache::implicit_tags(target.key);
  config::RouteValues values(target.values.begin(), target.values.end());
  for (auto& tag : route_tags(*target.route, values, response)) tags.push_back(std::move(tag));
  return tags;
}

asio::awaitable<StoredFill> Filler::store(const std::string& key, const store::EntryPtr& entry,
                                          std::uint64_t fill_sequence, cache::FetchPermit* permit) {
  StoredFill result;
  if (runtime_.invalidations.invalidated_since(fill_sequence, key, entry->tags)) {
    // It changed while we fetched: keep nothing, and let any waiters fetch
    // the new version (the permit is abandoned).
    result.outcome = "invalidated";
    co_return result;
  }
  if (runtime_.memory.insert(key, entry) != store::PutResult::stored) {
    result.outcome = "too-large";
    if (permit) permit->uncacheable();
    co_return result;
  }
  result.stored = true;
  runtime_.stats.count_stored(worker_.stats_slot());
  // The fill reaches the shared tier before anyone hears back, so a peer
  // asked next finds it (bounded by store.redis.timeout; fails open).
  if (auto* redis = worker_.redis()) {
    result.redis_failed = co_await redis->put(key, entry) != store::PutResult::stored;
    // An invalidation applied while the write was on its way may have run
    // before it landed: take the entry back out of both tiers.
    if (runtime_.invalidations.invalidated_since(fill_sequence, key, entry->tags)) {
      co_await redis->erase(key);
      runtime_.memory.remove(key);
      result.stored = false;
      result.outcome = "invalidated";
      co_return result;
    }
  }
  if (permit) permit->filled(entry);
  co_return result;
}

asio::awaitable<StoredFill> Filler::store_placed(const cache::Placement& placement,
                                                 const store::EntryPtr& entry,
                                                 std::uint64_t fill_sequence,
                                                 cache::FetchPermit* permit) {
  if (!placement.primary.empty()) {
    // The marker lives as long as the longest-lived variant it leads to.
    auto marker = std::make_shared<store::Entry>();
    marker->vary = placement.vary;
    marker->tags = cache::implicit_tags(placement.primary);
    marker->stored_at = entry->stored_at;
    marker->expires_at = entry->usable_until();
    if (auto existing = runtime_.memory.find(placement.primary);
        existing && existing->vary == placement.vary && existing->expires_at > marker->expires_at) {
      marker->expires_at = existing->expires_at;
    }
    if (!runtime_.invalidations.invalidated_since(fill_sequence, placement.primary, marker->tags)) {
      runtime_.memory.insert(placement.primary, marker);
      if (auto* redis = worker_.redis()) co_await redis->put(placement.primary, marker);
    }
  }
  co_return co_await store(placement.key, entry, fill_sequence, permit);
}

bool Filler::make_conditional(net::Request& request, const store::Entry& entry) {
  auto etag = head_field(entry.head, "ETag");
  auto last_modified = head_field(entry.head, "Last-Modified");
  if (etag) request.set(http::field::if_none_match, *etag);
  if (last_modified) request.set(http::field::if_modified_since, *last_modified);
  return etag || last_modified;
}

Filler::Revalidation Filler::revalidated(const store::Entry& stale,
                                         const http::response_header<>& not_modified,
                                         const FillTarget& target,
                                         const cache::RequestFacts& request, Clock::time_point now,
                                         std::uint32_t rebuild_ms) {
  Revalidation result;
  auto merged = merge_not_modified(stale.head, not_modified);
  if (!merged) return result;
  auto facts = response_facts(*merged, *target.route);
  auto decision = cache::decide_storage(request, facts, *target.route, now, worker_.jitter_draw());
  result.storable = decision.verdict == cache::StoreVerdict::store;
  if (!result.storable) decision = cache::StorageDecision{};  // served once, already expired
  result.entry = build_entry(*merged, stale.body, target.fingerprint, tags_for(target, *merged),
                             now, decision, facts.age, rebuild_ms, generation_of(target));
  return result;
}

asio::awaitable<metrics::RefreshOutcome> Filler::refresh(FillTarget target, net::Request request,
                                                         store::EntryPtr current,
                                                         cache::FetchPermit permit,
                                                         RefreshKind kind) {
  auto outcome = co_await refresh_once(target, request, current, permit, kind);
  runtime_.refreshes.count(outcome);
  co_return outcome;
}

asio::awaitable<metrics::RefreshOutcome> Filler::refresh_once(const FillTarget& target,
                                                              net::Request& request,
                                                              const store::EntryPtr& current,
                                                              cache::FetchPermit& permit,
                                                              RefreshKind kind) {
  const bool background = kind == RefreshKind::background;
  if (auto* budget =
          background && target.routes ? target.routes->rebuild_budget(*target.route) : nullptr) {
    // In the background nobody waits: over budget, the refresh is skipped.
    if (!budget->take(cache::RebuildBudget::Clock::now(), {}))
      co_return metrics::RefreshOutcome::over_budget;
  }
  std::string token;
  if (background && !co_await take_refresh_lease(target, token))
    co_return metrics::RefreshOutcome::fleet_busy;
  const auto outcome = co_await fetch_and_store(target, request, current, permit);
  if (!token.empty()) {
    const bool pass = permit.outcome() == cache::FlightOutcome::uncacheable;
    co_await worker_.fleet()->release_lease(
        target.key, token, pass ? cache::kHitForPassWindow : std::chrono::milliseconds(0));
  }
  co_return outcome;
}

asio::awaitable<bool> Filler::take_refresh_lease(const FillTarget& target, std::string& token) {
  auto* fleet = worker_.fleet();
  if (!fleet) co_return true;
  token = worker_.lease_token();
  auto lease = co_await fleet->try_lease(target.key, token, runtime_.fleet_lease_ttl());
  if (lease == fleet::FleetLink::Lease::lost) {
    metrics::RefreshCounters::bump(runtime_.refreshes.leases_lost);
    token.clear();
    co_return false;
  }
  if (lease == fleet::FleetLink::Lease::won)
    metrics::RefreshCounters::bump(runtime_.refreshes.leases_won);
  if (lease == fleet::FleetLink::Lease::unavailable) token.clear();  // fail open: refresh anyway
  co_return true;
}

asio::awaitable<metrics::RefreshOutcome> Filler::fetch_and_store(const FillTarget& target,
                                                                 net::Request& request,
                                                                 const store::EntryPtr& current,
                                                                 cache::FetchPermit& permit) {
  const std::uint64_t fill_sequence = runtime_.invalidations.begin_fill();
  const bool conditional = current && make_conditional(request, *current);
  request.version(net::kHttp11);
  request.keep_alive(true);
  request.prepare_payload();
  const auto started = std::chrono::steady_clock::now();
  OriginExchange origin;
  if (co_await exchange(request, origin) || origin.parser->get().result_int() >= 500)
    co_return metrics::RefreshOutcome::origin_error;
  std::string body;
  auto read = co_await net::read_body_upto(*origin.connection, *origin.parser, body,
                                           runtime_.memory.max_entry_bytes(),
                                           runtime_.config.limits.origin_idle_timeout);
  if (read.error) co_return metrics::RefreshOutcome::origin_error;
  const auto rebuild_ms = elapsed_ms(started);
  cache::Placement placement{target.key, target.fingerprint, {}, {}};
  store::EntryPtr entry;
  const bool renewed = conditional && origin.parser->get().result() == http::status::not_modified;
  if (renewed || read.complete) {
    entry = entry_from(target, request, origin, std::move(body), conditional, current, rebuild_ms,
                       placement);
  }
  reuse(origin, read.complete);
  if (!entry) {
    permit.uncacheable();  // waiters fetch for themselves
    co_return metrics::RefreshOutcome::not_stored;
  }
  auto fill = co_await store_placed(placement, entry, fill_sequence, &permit);
  co_return fill.stored ? metrics::RefreshOutcome::stored : metrics::RefreshOutcome::not_stored;
}

store::EntryPtr Filler::entry_from(const FillTarget& target, const net::Request& request,
                                   OriginExchange& origin, std::string body, bool conditional,
                                   const store::EntryPtr& current, std::uint32_t rebuild_ms,
                                   cache::Placement& placement) {
  auto& response = origin.parser->get();
  const auto now = Clock::now();
  if (response.result() == http::status::not_modified && conditional) {
    auto revalidation =
        revalidated(*current, response, target, request_facts(request), now, rebuild_ms);
    if (!revalidation.storable || !revalidation.entry) return nullptr;
    metrics::RefreshCounters::bump(runtime_.refreshes.revalidated);
    return std::move(revalidation.entry);
  }
  if (conditional && response.result_int() < 300)
    metrics::RefreshCounters::bump(runtime_.refreshes.revalidation_replaced);
  auto fill = decide(request_facts(request), origin, *target.route, now);
  if (!fill.store) return nullptr;
  placement =
      cache::place(target.key, target.fingerprint, fill.facts.vary_names, BeastHeaders(request));
  return build_entry(response, std::move(body), placement.fingerprint, tags_for(target, response),
                     now, fill.storage, fill.facts.age, rebuild_ms, generation_of(target));
}

}  // namespace cachecar::proxy
