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

namespace {}  // namespace

const char* to_string(RefreshOutcome outcome) {
  switch (outcome) {
    case RefreshOutcome::stored:
      return "stored";
    case RefreshOutcome::fleet_busy:
      return "fleet-busy";
    case RefreshOutcome::over_budget:
      return "over-budget";
    case RefreshOutcome::not_stored:
      return "not-stored";
    case RefreshOutcome::origin_error:
      return "origin-error";
  }
  return "?";
}

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

Filler::Filler(Runtime& runtime, std::size_t stats_slot, asio::any_io_executor executor)
    : runtime_(runtime),
      stats_slot_(stats_slot),
      pool_(executor, runtime.origin_endpoint, runtime.config.limits.origin_timeout),
      random_(std::random_device{}()) {
  if (runtime.config.redis) {
    redis_ = std::make_unique<store::RedisTier>(executor, *runtime.config.redis,
                                                runtime.config.memory.max_entry_bytes);
    redis_->start();
  }
}

std::string Filler::lease_token() {
  char token[17];
  std::snprintf(token, sizeof token, "%016llx",
                static_cast<unsigned long long>(random_()) << 32 ^
                    static_cast<unsigned long long>(random_()));
  return token;
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
  runtime_.stats.count_stored(stats_slot_);
  // The fill reaches the shared tier before anyone hears back, so a peer
  // asked next finds it (bounded by store.redis.timeout; fails open).
  if (redis_) {
    result.redis_failed = co_await redis_->put(key, entry) != store::PutResult::stored;
    // An invalidation applied while the write was on its way may have run
    // before it landed: take the entry back out of both tiers.
    if (runtime_.invalidations.invalidated_since(fill_sequence, key, entry->tags)) {
      co_await redis_->erase(key);
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
      if (redis_) co_await redis_->put(placement.primary, marker);
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
  auto decision = cache::decide_storage(request, facts, *target.route, now, jitter_draw());
  result.storable = decision.verdict == cache::StoreVerdict::store;
  if (!result.storable) decision = cache::StorageDecision{};  // served once, already expired
  result.entry = build_entry(*merged, stale.body, target.fingerprint, tags_for(target, *merged),
                             now, decision, facts.age, rebuild_ms, generation_of(target));
  return result;
}

asio::awaitable<RefreshOutcome> Filler::refresh(FillTarget target, net::Request request,
                                                store::EntryPtr current, cache::FetchPermit permit,
                                                RefreshKind kind) {
  auto outcome = co_await refresh_once(target, request, current, permit, kind);
  runtime_.refreshes.count(outcome);
  co_return outcome;
}

asio::awaitable<RefreshOutcome> Filler::refresh_once(const FillTarget& target,
                                                     net::Request& request,
                                                     const store::EntryPtr& current,
                                                     cache::FetchPermit& permit, RefreshKind kind) {
  const auto& route = *target.route;
  const auto& limits = runtime_.config.limits;
  const bool background = kind == RefreshKind::background;
  if (auto* budget = background && target.routes ? target.routes->rebuild_budget(route) : nullptr) {
    // In the background nobody waits: over budget, the refresh is skipped.
    if (!budget->take(cache::RebuildBudget::Clock::now(), {}))
      co_return RefreshOutcome::over_budget;
  }
  std::string token;
  if (redis_ && background) {
    token = lease_token();
    auto lease = co_await redis_->try_lease(target.key, token, runtime_.fleet_lease_ttl());
    if (lease == store::RedisTier::Lease::lost) {
      RefreshCounters::bump(runtime_.refreshes.leases_lost);
      co_return RefreshOutcome::fleet_busy;
    }
    if (lease == store::RedisTier::Lease::won) RefreshCounters::bump(runtime_.refreshes.leases_won);
    if (lease == store::RedisTier::Lease::unavailable) token.clear();  // fail open: refresh anyway
  }
  const std::uint64_t fill_sequence = runtime_.invalidations.begin_fill();
  const bool conditional = current && make_conditional(request, *current);
  request.version(net::kHttp11);
  request.keep_alive(true);
  request.prepare_payload();
  const auto started = std::chrono::steady_clock::now();

  RefreshOutcome outcome = RefreshOutcome::origin_error;
  beast::error_code ec;
  auto connection = co_await pool_.acquire(ec);
  std::optional<net::OriginParser> parser;
  if (!ec) {
    connection->stream.expires_after(limits.origin_timeout);
    auto [write_error, written] =
        co_await http::async_write(connection->stream, request, net::use_tuple);
    ec = write_error;
  }
  if (!ec) ec = co_await net::read_response_head(*connection, parser, false, limits.origin_timeout);
  if (!ec) runtime_.latencies.origin(stats_slot_, std::chrono::steady_clock::now() - started);
  if (!ec && parser->get().result_int() < 500) {
    auto& response = parser->get();
    const auto now = Clock::now();
    const std::uint64_t max_entry_bytes = runtime_.memory.max_entry_bytes();
    store::EntryPtr entry;
    cache::Placement placement{target.key, target.fingerprint, {}, {}};
    std::string body;
    auto read = co_await net::read_body_upto(*connection, *parser, body, max_entry_bytes,
                                             limits.origin_idle_timeout);
    auto rebuild_ms =
        static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - started)
                                       .count());
    if (read.error) {
      outcome = RefreshOutcome::origin_error;
    } else if (response.result() == http::status::not_modified && conditional) {
      auto revalidation =
          revalidated(*current, response, target, request_facts(request), now, rebuild_ms);
      if (revalidation.storable) entry = std::move(revalidation.entry);
      if (entry) RefreshCounters::bump(runtime_.refreshes.revalidated);
    } else if (read.complete) {
      if (conditional && response.result_int() < 300)
        RefreshCounters::bump(runtime_.refreshes.revalidation_replaced);
      auto facts = response_facts(response, route);
      auto decision =
          cache::decide_storage(request_facts(request), facts, route, now, jitter_draw());
      if (decision.verdict == cache::StoreVerdict::store) {
        placement =
            cache::place(target.key, target.fingerprint, facts.vary_names, BeastHeaders(request));
        entry = build_entry(response, std::move(body), placement.fingerprint,
                            tags_for(target, response), now, decision, facts.age, rebuild_ms,
                            generation_of(target));
      }
    }
    if (!read.error) {
      if (read.complete && parser->keep_alive()) pool_.release(std::move(connection));
      outcome = RefreshOutcome::not_stored;
      if (!entry) {
        permit.uncacheable();  // waiters fetch for themselves
      } else if ((co_await store_placed(placement, entry, fill_sequence, &permit)).stored) {
        outcome = RefreshOutcome::stored;
      }
    }
  }
  if (!token.empty()) {
    const bool pass = permit.outcome() == cache::FlightOutcome::uncacheable;
    co_await redis_->release_lease(target.key, token,
                                   pass ? cache::kHitForPassWindow : std::chrono::milliseconds(0));
  }
  co_return outcome;
}

}  // namespace cachecar::proxy
