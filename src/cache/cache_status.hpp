// How one request was served, as RFC 9211 Cache-Status names it. The same
// string goes into the header, the stats and the logs, so tests assert on it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cachecar::cache {

enum class CacheStatus : unsigned char {
  hit,        // served from cache, fresh
  miss,       // looked up, absent: forwarded
  stale,      // looked up, expired: forwarded and replaced
  bypass,     // not a caching route, or a tenant route without the tenant
  method,     // the method is never served from cache
  request,    // the request's own directives forced a forward
  vary_miss,  // stored for other values of the response's Vary headers
};
inline constexpr std::size_t kCacheStatusCount = 7;

const char* to_string(CacheStatus status);

// RFC 9211's field name.
inline constexpr std::string_view kCacheStatusField = "Cache-Status";

// The header's value in a fixed buffer, so that serving a hit allocates
// nothing: "cachecar; hit; ttl=42", "cachecar; hit; ttl=42; detail=redis"
// (found in the shared tier), "cachecar; fwd=miss; stored",
// "cachecar; fwd=miss; collapsed" (served by a concurrent request's fetch),
// "cachecar; fwd=miss; detail=no-store".
// `status` with RFC 9211's key parameter, key="..." (an sf-string: '"' and
// '\' escaped). Only when admin.disclose_keys is on: it allocates.
std::string with_key(std::string_view status, std::string_view key);

class CacheStatusText {
 public:
  // `collapsed`: served by another request's fetch of the same key.
  // `fwd_status`: the origin's status when it differs from the one sent
  // (304 to a revalidation); 0 leaves fwd-status out.
  CacheStatusText(CacheStatus status, long long ttl_seconds, bool stored, std::string_view detail,
                  bool collapsed = false, unsigned fwd_status = 0);
  std::string_view view() const { return {data_, size_}; }

 private:
  char data_[160];
  std::size_t size_ = 0;
};

}  // namespace cachecar::cache
