// Reading an origin response: its head (past any interim 1xx responses),
// then, for a response that may be stored, its body into memory up to a
// limit, before anything is served.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "net/origin_pool.hpp"
#include "net/relay.hpp"

namespace cachecar::net {

struct BodyRead {
  beast::error_code error;  // set: the origin failed mid-body
  bool complete = false;    // the whole body is in `body` (false: it grew past the limit)
};

// Reads the final response head into a fresh `parser`. Interim responses
// (100 Continue, 103 Early Hints; RFC 9110 §15.2) are read and dropped: the
// client gets the final one only. `head_request`: no body follows.
asio::awaitable<beast::error_code> read_response_head(OriginConnection& connection,
                                                      std::optional<OriginParser>& parser,
                                                      bool head_request,
                                                      std::chrono::milliseconds timeout);

// Appends to `body` (which may already hold bytes) until the message ends or
// `body` exceeds `limit`; each wait for more bytes is bounded by
// `idle_timeout` (a slow but steady origin is not cut off). A complete body
// is shrunk to fit: its capacity is its size.
asio::awaitable<BodyRead> read_body_upto(OriginConnection& connection, OriginParser& parser,
                                         std::string& body, std::uint64_t limit,
                                         std::chrono::milliseconds idle_timeout);

}  // namespace cachecar::net
