#include "cache/cache_status.hpp"

#include <cstdio>

namespace cachecar::cache {

const char* to_string(CacheStatus status) {
  switch (status) {
    case CacheStatus::hit:
      return "hit";
    case CacheStatus::miss:
      return "miss";
    case CacheStatus::stale:
      return "stale";
    case CacheStatus::bypass:
      return "bypass";
    case CacheStatus::method:
      return "method";
    case CacheStatus::request:
      return "request";
    case CacheStatus::vary_miss:
      return "vary-miss";
  }
  return "?";
}

std::string with_key(std::string_view status, std::string_view key) {
  std::string out(status);
  out += "; key=\"";
  for (char c : key) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

CacheStatusText::CacheStatusText(CacheStatus status, long long ttl_seconds, bool stored,
                                 std::string_view detail, bool collapsed, unsigned fwd_status) {
  int n;
  if (status == CacheStatus::hit) {
    n = std::snprintf(data_, sizeof data_, "cachecar; hit; ttl=%lld%s%.*s", ttl_seconds,
                      detail.empty() ? "" : "; detail=", static_cast<int>(detail.size()),
                      detail.data());
  } else {
    char forwarded_status[24] = "";
    if (fwd_status != 0)
      std::snprintf(forwarded_status, sizeof forwarded_status, "; fwd-status=%u", fwd_status);
    n = std::snprintf(data_, sizeof data_, "cachecar; fwd=%s%s%s%s%s%.*s", to_string(status),
                      forwarded_status, stored ? "; stored" : "", collapsed ? "; collapsed" : "",
                      detail.empty() ? "" : "; detail=", static_cast<int>(detail.size()),
                      detail.data());
  }
  size_ = n < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), sizeof data_ - 1);
}

}  // namespace cachecar::cache
