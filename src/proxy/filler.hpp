// Filling the cache from the origin, with or without a client waiting: one
// per thread (each worker, and the control thread for warming), owning that
// thread's origin connections and Redis tier.
//  - store(): the end of every fill, foreground or background: both tiers,
//    unless an invalidation of the key or its tags arrived since the fill
//    began ("no stale set"), then the local waiters are handed the entry.
//  - refresh(): a whole fetch without a client (stale-while-revalidate,
//    early refresh, warming): one per key in the fleet (the lease), within
//    the route's rebuild budget, conditional when the entry has validators.
//  - revalidated(): the entry a 304 makes of a stale one (RFC 9111 §4.3.4).
#pragma once

#include <memory>
#include <random>
#include <string>

#include "cache/cacheability.hpp"
#include "cache/fetch_lock.hpp"
#include "cache/vary.hpp"
#include "config/config.hpp"
#include "net/beast.hpp"
#include "net/origin_pool.hpp"
#include "proxy/refresh_counters.hpp"
#include "proxy/runtime.hpp"
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

enum class RefreshKind {
  background,  // within the rebuild budget, one per fleet (the lease)
  write,       // a write-through's new view: neither budget nor lease hold it back
};

class Filler {
 public:
  Filler(Runtime& runtime, std::size_t stats_slot, net::asio::any_io_executor executor);

  net::OriginPool& pool() { return pool_; }
  store::RedisTier* redis() { return redis_.get(); }
  std::size_t stats_slot() const { return stats_slot_; }
  double jitter_draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }
  // A fresh random lease token.
  std::string lease_token();

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
  net::asio::awaitable<RefreshOutcome> refresh(FillTarget target, net::Request request,
                                               store::EntryPtr current, cache::FetchPermit permit,
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
  net::asio::awaitable<RefreshOutcome> refresh_once(const FillTarget& target, net::Request& request,
                                                    const store::EntryPtr& current,
                                                    cache::FetchPermit& permit, RefreshKind kind);

  Runtime& runtime_;
  std::size_t stats_slot_;
  net::OriginPool pool_;
  std::unique_ptr<store::RedisTier> redis_;
  std::minstd_rand random_;
};

}  // namespace cachecar::proxy
