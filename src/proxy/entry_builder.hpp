// Turns an origin response (header + whole body) into a stored Entry whose
// head is serialized once, here, so that every hit is a single gather write.
#pragma once

#include "config/config.hpp"
#include "net/beast.hpp"
#include "store/entry.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace cachecar::proxy {

namespace beast = net::beast;
namespace http = net::http;

store::EntryPtr build_entry(const http::response_header<>& response, std::string body, std::string fingerprint,
                            std::vector<std::string> tags, store::Clock::time_point now,
                            std::chrono::milliseconds time_to_live, std::chrono::seconds initial_age,
                            std::chrono::seconds stale_if_error = std::chrono::seconds(0));

// The route's `tags:` with {name} filled from the path variables, else from
// the response header of that name; a tag whose value is missing is left out.
std::vector<std::string> route_tags(const config::RoutePolicy& route, const config::RouteValues& values,
                                    const http::response_header<>& response);

}  // namespace cachecar::proxy
