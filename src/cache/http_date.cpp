#include "cache/http_date.hpp"

#include <ctime>
#include <string>

namespace cachecar::cache {

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  static constexpr const char* kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate
      "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850
      "%a %b %e %H:%M:%S %Y",       // asctime
  };
  std::string copy(text);
  for (const char* format : kFormats) {
    std::tm tm{};
    const char* end = ::strptime(copy.c_str(), format, &tm);
    if (end != nullptr && *end == '\0') {
      return std::chrono::system_clock::from_time_t(::timegm(&tm));
    }
  }
  return std::nullopt;
}

}  // namespace cachecar::cache
