// Small HTTP helpers shared by the proxy and the admin endpoint.
#pragma once

#include "net/beast.hpp"

#include <string>
#include <string_view>

namespace cachecar::net {

// Removes hop-by-hop fields (RFC 9110 §7.6.1), including every field named
// in Connection. Safe on requests and responses.
void strip_hop_by_hop(http::fields& fields);

// A JSON body {"error": reason} with the given status; Cache-Status, when
// given, is set too. Content-Length is prepared.
http::response<http::string_body> json_error(http::status status, std::string_view reason, unsigned version,
                                             bool keep_alive, std::string_view cache_status = {});

// Escapes `text` as the inside of a JSON string.
std::string json_escape(std::string_view text);

// Splits a request target into path and query (without the '?').
inline void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
  auto q = target.find('?');
  path = target.substr(0, q);
  query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

}  // namespace cachecar::net
