#include "cache/reuse.hpp"

#include "cache/http_date.hpp"

namespace cachecar::cache {

namespace {

std::string_view trim(std::string_view s) { return trim_ows(s); }

// The opaque part of an entity-tag, W/ dropped (weak comparison).
std::string_view opaque(std::string_view tag) {
  tag = trim(tag);
  if (tag.size() >= 2 && (tag[0] == 'W' || tag[0] == 'w') && tag[1] == '/') tag.remove_prefix(2);
  return tag;
}

}  // namespace

Clock::duration StoredTimes::age(Clock::time_point now) const {
  return std::chrono::seconds(initial_age_seconds) +
         std::max(now - stored_at, Clock::duration::zero());
}

Reuse reuse_for(const CacheDirectives& request, const StoredTimes& stored, Clock::time_point now) {
  if (request.no_cache) return Reuse::refused;
  // Compared at the clock's precision, so that max-age=0 refuses anything
  // not made this very instant (the way clients use it: "revalidate").
  if (request.max_age && stored.age(now) > *request.max_age) return Reuse::refused;
  if (now < stored.expires_at) {
    if (request.min_fresh && stored.expires_at - now < *request.min_fresh) return Reuse::refused;
    return Reuse::fresh;
  }
  if (!stored.must_revalidate &&
      (request.max_stale_any ||
       (request.max_stale && now - stored.expires_at <= *request.max_stale))) {
    return Reuse::stale_accepted;
  }
  return Reuse::expired;
}

bool client_has_it(std::optional<std::string_view> if_none_match,
                   std::optional<std::string_view> if_modified_since,
                   std::optional<std::string_view> etag,
                   std::optional<std::string_view> last_modified) {
  if (if_none_match) {
    // RFC 9110 §13.1.2: a list of entity-tags, or "*".
    if (trim(*if_none_match) == "*") return true;
    if (!etag) return false;
    std::string_view list = *if_none_match;
    while (!list.empty()) {
      auto comma = list.find(',');
      if (opaque(list.substr(0, comma)) == opaque(*etag)) return true;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    return false;  // If-Modified-Since is ignored when If-None-Match is present
  }
  if (if_modified_since && last_modified) {
    auto since = parse_http_date(*if_modified_since);
    auto modified = parse_http_date(*last_modified);
    return since && modified && *modified <= *since;
  }
  return false;
}

}  // namespace cachecar::cache
