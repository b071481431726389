// Parsing of Cache-Control style fields (RFC 9111 §5.2, RFC 9213 targeted
// fields, RFC 5861 extensions). Pure; unknown directives are ignored and
// malformed delta-seconds are read as 0, as RFC 9111 §4.2.1 advises.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachecar::cache {

struct CacheDirectives {
  bool present = false;  // the field was there at all
  bool no_store = false;
  bool no_cache = false;
  bool is_private = false;
  bool is_public = false;
  bool must_revalidate = false;
  bool proxy_revalidate = false;
  bool only_if_cached = false;
  std::optional<std::chrono::seconds> max_age;
  std::optional<std::chrono::seconds> s_maxage;
  std::optional<std::chrono::seconds> stale_while_revalidate;
  std::optional<std::chrono::seconds> stale_if_error;
  // Request-only directives (RFC 9111 §5.2.1).
  std::optional<std::chrono::seconds> min_fresh;
  bool max_stale_any = false;                     // max-stale without a value: any staleness
  std::optional<std::chrono::seconds> max_stale;  // max-stale=N
  // The qualified forms no-cache="a, b" and private="a, b" (RFC 9111
  // §5.2.2.4, §5.2.2.7): the response may be stored without the named
  // fields (lower case). A list with no names counts as the plain directive.
  std::vector<std::string> no_cache_fields;
  std::vector<std::string> private_fields;
};

// `s` without leading and trailing spaces and tabs (HTTP's OWS).
std::string_view trim_ows(std::string_view s);

// Folds one field value into `into` (call once per field line).
void parse_cache_control(std::string_view value, CacheDirectives& into);

inline CacheDirectives parse_cache_control(std::string_view value) {
  CacheDirectives d;
  parse_cache_control(value, d);
  return d;
}

}  // namespace cachecar::cache
