// Whether a stored response may answer a given request (RFC 9111 §4 and
// §5.2.1 request directives) and whether the client's own validators let it
// be answered with 304 (RFC 9110 §13.1). Pure functions of their inputs.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "cache/cache_control.hpp"

namespace cachecar::cache {

using Clock = std::chrono::system_clock;

struct StoredTimes {
  Clock::time_point stored_at;
  Clock::time_point expires_at;
  std::uint32_t initial_age_seconds = 0;  // Age it arrived with
  bool must_revalidate = false;

  Clock::duration age(Clock::time_point now) const;
};

enum class Reuse {
  fresh,           // serve it
  stale_accepted,  // expired, but the request's max-stale accepts it
  expired,         // expired: fetch (or stale-while-revalidate / stale-if-error)
  refused,         // the request's no-cache / max-age / min-fresh rule it out: fetch
};

Reuse reuse_for(const CacheDirectives& request, const StoredTimes& stored, Clock::time_point now);

// True when the client's If-None-Match (weak comparison, "*" matches any)
// or, without one, its If-Modified-Since (against Last-Modified) says it
// already holds this response.
bool client_has_it(std::optional<std::string_view> if_none_match,
                   std::optional<std::string_view> if_modified_since,
                   std::optional<std::string_view> etag,
                   std::optional<std::string_view> last_modified);

}  // namespace cachecar::cache
