// Whether a response may be stored, and for how long (RFC 9111 §3 and §4.2,
// with the route's policy on top). Pure functions: the caller supplies the
// facts read from the headers, the clock reading and the jitter draw.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache_control.hpp"
#include "config/config.hpp"

namespace cachecar::cache {

using Clock = std::chrono::system_clock;

struct RequestFacts {
  CacheDirectives cache_control;
  bool has_authorization = false;
};

struct ResponseFacts {
  unsigned status = 200;
  // The most specific of Cachecar-Cache-Control, CDN-Cache-Control and
  // Cache-Control that was present and valid (RFC 9213 §2.1); the others
  // are ignored.
  CacheDirectives cache_control;
  bool has_set_cookie = false;
  bool vary_star = false;
  // Vary headers the route's key does not include, lower case, sorted,
  // unique: the response is stored once per variant of them.
  std::vector<std::string> vary_names;
  std::optional<Clock::time_point> date;
  std::optional<Clock::time_point> expires;
  bool expires_invalid = false;  // present but unparseable: already expired (RFC 9111 §5.3)
  std::chrono::seconds age{0};
  std::optional<Clock::time_point> last_modified;  // for heuristic freshness (RFC 9111 §4.2.2)
};

enum class StoreVerdict {
  store,
  no_store,  // no-store from the request or the response
  is_private,
  set_cookie,
  authorization,
  no_cache,      // must be revalidated on every use
  status,        // status code not cacheable without explicit freshness
  vary,          // Vary: * or a header outside the route's key
  no_freshness,  // neither the origin nor the route gives a lifetime
  expired,       // the lifetime is already used up on arrival
};
const char* to_string(StoreVerdict verdict);

struct StorageDecision {
  StoreVerdict verdict = StoreVerdict::no_freshness;
  // Remaining freshness from `now`, jitter applied; meaningful for `store`.
  std::chrono::milliseconds time_to_live{0};
  // How long past expiry the entry may answer when the origin fails: the
  // route's stale_if_error, else the origin's (RFC 5861); 0 under
  // must-revalidate / proxy-revalidate.
  std::chrono::seconds stale_if_error{0};
  // How long past expiry the entry is served while one background refresh
  // runs: the route's stale_while_revalidate, else the origin's (RFC 5861);
  // 0 under must-revalidate / proxy-revalidate.
  std::chrono::seconds stale_while_revalidate{0};
  bool must_revalidate = false;  // never served stale
  // Fields named by no-cache="..." or private="..." (lower case): stored
  // without them; the response that brought them still carries them.
  std::vector<std::string> omitted_fields;
};

// `jitter_draw` is a uniform random number in [0, 1): the stored lifetime
// is shortened by up to `policy.ttl_jitter` of itself so that entries
// filled together do not expire together.
StorageDecision decide_storage(const RequestFacts& request, const ResponseFacts& response,
                               const config::RoutePolicy& policy, Clock::time_point now,
                               double jitter_draw);

bool is_heuristically_cacheable(unsigned status);

}  // namespace cachecar::cache
