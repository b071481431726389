// Small HTTP helpers shared by the proxy and the admin endpoint.
#pragma once

#include <string>
#include <string_view>

#include "net/beast.hpp"

namespace cachecar::net {

// Removes hop-by-hop fields (RFC 9110 §7.6.1), including every field named
// in Connection except Host and X-Forwarded-For/-Proto/-Host (see
// set_forwarded_fields). Safe on requests and responses.
void strip_hop_by_hop(http::fields& fields);

// X-Forwarded-For/-Proto/-Host as the origin should see them: from a
// trusted peer (a proxy in trusted_proxies) its For list gains the peer and
// its Proto/Host are kept, reduced to their last member (the hop nearest
// us, the one ASP.NET Core's forwarded-headers middleware reads); from any
// other peer all three, and Forwarded, are replaced by what cachecar saw
// (the peer's address, http, the Host field).
void set_forwarded_fields(http::fields& fields, const tcp::endpoint& peer, bool trusted_peer);

// RFC 9110 §9.2.2: a retry after a lost connection is safe for these.
bool is_idempotent(http::verb method);
// RFC 9110 §9.2.1.
bool is_safe(http::verb method);

// A JSON body {"error": reason} with the given status. Content-Length is prepared.
http::response<http::string_body> json_error(http::status status, std::string_view reason,
                                             unsigned version, bool keep_alive);

// Escapes `text` as the inside of a JSON string.
std::string json_escape(std::string_view text);

// RFC 9112 origin-form target characters only (visible ASCII, no spaces,
// no CR/LF): what can be written into a request line as it is.
bool valid_request_target(std::string_view target);
// RFC 9110 §5.1 token.
bool valid_field_name(std::string_view name);
// RFC 9110 §5.5: no CR, LF or NUL (nothing that ends the line early).
bool valid_field_value(std::string_view value);

// Splits a request target into path and query (without the '?').
inline void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
  auto q = target.find('?');
  path = target.substr(0, q);
  query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

}  // namespace cachecar::net
