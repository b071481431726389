// Reads the rest of an origin response's body into memory, up to a limit:
// how a response that may be stored is taken in before anything is served.
#pragma once

#include "net/origin_pool.hpp"
#include "net/relay.hpp"

#include <chrono>
#include <string>

namespace cachecar::net {

struct BodyRead {
  beast::error_code error;  // set: the origin failed mid-body
  bool complete = false;    // the whole body is in `body` (false: it grew past the limit)
};

// Appends to `body` (which may already hold bytes) until the message ends or
// `body` exceeds `limit`; each read is bounded by `timeout`.
asio::awaitable<BodyRead> read_body_upto(OriginConnection& connection, OriginParser& parser, std::string& body,
                                         std::uint64_t limit, std::chrono::milliseconds timeout);

}  // namespace cachecar::net
