// Turns an origin response (header + whole body) into a stored Entry whose
// head is serialized once, here, so that every hit is a single gather write.
#pragma once

#include "net/beast.hpp"
#include "store/entry.hpp"

#include <chrono>
#include <string>

namespace cachecar::proxy {

namespace beast = net::beast;
namespace http = net::http;

store::EntryPtr build_entry(const http::response_header<>& response, std::string body, std::string fingerprint,
                            store::Clock::time_point now, std::chrono::milliseconds time_to_live,
                            std::chrono::seconds initial_age);

}  // namespace cachecar::proxy
