// Filling the cache from the origin (ADR 0013), with or without a client
// waiting: one per thread (each worker, and the control thread for
// warming), over that thread's WorkerContext. Every fetch goes through it,
// the foreground miss (RequestHandler::forward drives the steps, since a
// client is waiting), and the background refresh, warming and write-through
// refetch (refresh() runs them all):
//  - exchange(): a connection, the request sent, the response head read,
//    with one retry on a reused connection the origin had closed; origin
//    latency measured from the send.
//  - decide(): whether the response will be stored, and if not, why.
//  - store(): the end of every fill, foreground or background: both tiers,
//    unless an invalidation of the key or its tags arrived since the fill
//    began ("no stale set"), then the local waiters are handed the entry.
//  - refresh(): a whole fetch without a client (stale-while-revalidate,
//    early refresh, warming): one per key in the fleet (the lease), within
//    the route's rebuild budget, conditional when the entry has validators.
//  - revalidated(): the entry a 304 makes of a stale one (RFC 9111 §4.3.4).
#pragma once

#include <memory>
#include <optional>
#include <random>
#include <string>

#include "cache/cacheability.hpp"
#include "cache/fetch_lock.hpp"
#include "cache/vary.hpp"
#include "config/config.hpp"
#include "metrics/refresh_counters.hpp"
#include "net/beast.hpp"
#include "net/origin_pool.hpp"
#include "net/relay.hpp"
#include "proxy/runtime.hpp"
#include "proxy/worker_context.hpp"
#include "store/redis_tier.hpp"

namespace cachecar::proxy {

// Where a fill is stored. Owned: a background refresh outlives the request
// that started it.
struct FillTarget {
  const config::RoutePolicy* route = nullptr;
  std::string key;
  std::string fingerprint;
  std::vector<std::string> values;  // the route's path variables, copied out of the request
  RouteSetPtr routes;               // keeps `route` alive across a reload
};

inline std::uint32_t generation_of(const FillTarget& target) {
  return target.routes ? static_cast<std::uint32_t>(target.routes->generation) : 0;
}

struct StoredFill {
  bool stored = false;
  std::string_view outcome;   // why not: "invalidated", "too-large"
  bool redis_failed = false;  // stored in memory, but the shared tier did not take it
};

// The GET a fill sends for `target` on behalf of `client`: the client's
// key-relevant headers (tenant, Vary) without its own conditionals, cache
// directives, ranges, or anything about a body.
net::Request fill_request(const net::Request& client, std::string_view target);

// One request and the head of its answer, on a connection of this thread's pool.
struct OriginExchange {
  std::unique_ptr<net::OriginConnection> connection;
  std::optional<net::OriginParser> parser;
  std::chrono::steady_clock::duration head_time{};  // from the request sent to the head read
};

// Whether an origin response will be stored, and why not when not.
struct FillDecision {
  cache::ResponseFacts facts;
  cache::StorageDecision storage;
  bool store = false;        // read the body whole (up to max_entry_bytes) to store it
  std::string_view why_not;  // the Cache-Status detail when it is not stored
};

// Milliseconds since `since`: how long a fill took (XFetch's delta).
inline std::uint32_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - since)
                                        .count());
}

enum class RefreshKind {
  background,  // within the rebuild budget, one per fleet (the lease)
  write,       // a write-through's new view: neither budget nor lease hold it back
};

class Filler {
 public:
  explicit Filler(WorkerContext& worker);

  store::RedisTier* redis() { return worker_.redis(); }

  // Sends `request` and reads the response head into `exchange` (one retry
  // on a reused connection the origin had closed, for idempotent methods).
  net::asio::awaitable<net::beast::error_code> exchange(net::Request& request,
                                                        OriginExchange& exchange);
  // Returns the exchange's connection to the pool when its response was
  // read to the end and the origin keeps it open.
  void reuse(OriginExchange& exchange, bool complete);
  FillDecision decide(const cache::RequestFacts& request, const OriginExchange& exchange,
                      const config::RoutePolicy& route, store::Clock::time_point now);

  net::asio::awaitable<StoredFill> store(const std::string& key, const store::EntryPtr& entry,
                                         std::uint64_t fill_sequence, cache::FetchPermit* permit);
  // store() at the placement's key; for a variant, the marker under the
  // route's key first (cache/vary.hpp).
  net::asio::awaitable<StoredFill> store_placed(const cache::Placement& placement,
                                                const store::EntryPtr& entry,
                                                std::uint64_t fill_sequence,
                                                cache::FetchPermit* permit);

  // Fetches `request` (a GET for target's key) into the cache. `current`,
  // when set, is the entry being replaced: its validators make the fetch
  // conditional. `permit` is this process' fetch permit for the key; it
  // ends filled or abandoned when this returns.
  // (All by value: it runs detached, past the request that started it.)
  net::asio::awaitable<metrics::RefreshOutcome> refresh(FillTarget target, net::Request request,
                                                        store::EntryPtr current,
                                                        cache::FetchPermit permit,
                                                        RefreshKind kind = RefreshKind::background);

  // Adds If-None-Match / If-Modified-Since from `entry`'s validators;
  // false when it has none.
  static bool make_conditional(net::Request& request, const store::Entry& entry);
  // The stored response `stale` updated with the header fields of a 304
  // (RFC 9111 §3.2), with a new lifetime. `storable` is false when the
  // merged response may no longer be stored (the 304 said no-store, say):
  // it still answers the request at hand. entry is nullptr only if the
  // stored head does not parse.
  struct Revalidation {
    store::EntryPtr entry;
    bool storable = false;
  };
  Revalidation revalidated(const store::Entry& stale,
                           const net::http::response_header<>& not_modified,
                           const FillTarget& target, const cache::RequestFacts& request,
                           store::Clock::time_point now, std::uint32_t rebuild_ms);
  // The route's tags plus the key's implicit ones.
  static std::vector<std::string> tags_for(const FillTarget& target,
                                           const net::http::response_header<>& response);

 private:
  net::asio::awaitable<metrics::RefreshOutcome> refresh_once(const FillTarget& target,
                                                             net::Request& request,
                                                             const store::EntryPtr& current,
                                                             cache::FetchPermit& permit,
                                                             RefreshKind kind);
  // A background refresh's fleet lease: false when another cachecar holds
  // it. `token` is set when this one does (empty: no Redis, or it failed open).
  net::asio::awaitable<bool> take_refresh_lease(const FillTarget& target, std::string& token);
  net::asio::awaitable<metrics::RefreshOutcome> fetch_and_store(const FillTarget& target,
                                                                net::Request& request,
                                                                const store::EntryPtr& current,
                                                                cache::FetchPermit& permit);
  // The entry a refresh's answer makes, with its placement; nullptr when
  // it is not to be stored.
  store::EntryPtr entry_from(const FillTarget& target, const net::Request& request,
                             OriginExchange& exchange, std::string body, bool conditional,
                             const store::EntryPtr& current, std::uint32_t rebuild_ms,
                             cache::Placement& placement);

  WorkerContext& worker_;
  Runtime& runtime_;
};

}  // namespace cachecar::proxy
