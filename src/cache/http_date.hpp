// HTTP-date parsing (RFC 9110 §5.6.7): IMF-fixdate, plus the obsolete
// RFC 850 and asctime forms that recipients must accept. Pure.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace cachecar::cache {

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

}  // namespace cachecar::cache
