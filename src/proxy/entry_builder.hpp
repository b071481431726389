// Turns an origin response (header + whole body) into a stored Entry whose
// head is serialized once, here, so that every hit is a single gather write.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cache/cacheability.hpp"
#include "config/config.hpp"
#include "net/beast.hpp"
#include "store/entry.hpp"

namespace cachecar::proxy {

namespace beast = net::beast;
namespace http = net::http;

// `decision` supplies the lifetime and stale windows; `rebuild_ms` is how
// long the origin took (early refresh uses it); `generation` is the route
// table's it was filled under.
store::EntryPtr build_entry(const http::response_header<>& response, std::string body,
                            std::string fingerprint, std::vector<std::string> tags,
                            store::Clock::time_point now, const cache::StorageDecision& decision,
                            std::chrono::seconds initial_age, std::uint32_t rebuild_ms = 0,
                            std::uint32_t generation = 0);

// A stored head read back into fields (for a 304 to update); nullopt if
// it does not parse.
std::optional<http::response_header<>> parse_head(const std::string& head);
// The stored head updated with a 304's header fields (RFC 9111 §3.2): each
// field the 304 carries replaces every stored field of that name, except
// framing and what serving computes (Content-Length, Transfer-Encoding,
// hop-by-hop fields, Age). nullopt when the stored head does not parse.
std::optional<http::response_header<>> merge_not_modified(
    const std::string& stored_head, const http::response_header<>& not_modified);
// Whether a header-only response (to a HEAD) describes the stored
// representation, so that its fields may update it (RFC 9111 §4.3.4-5):
// the same strong or weak ETag, else the same Last-Modified, else neither
// has a validator; and never a different Content-Length.
bool describes_stored(std::string_view stored_head, std::size_t stored_body_size,
                      const http::response_header<>& response);
// The value of the first field called `name` in a stored head.
std::optional<std::string_view> head_field(std::string_view head, std::string_view name);

// The route's `tags:` with {name} filled from the path variables, else from
// the response header of that name; a tag whose value is missing is left out.
std::vector<std::string> route_tags(const config::RoutePolicy& route,
                                    const config::RouteValues& values,
                                    const http::response_header<>& response);

}  // namespace cachecar::proxy
