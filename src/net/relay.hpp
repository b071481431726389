// Streams an origin response whose header has been read to the client,
// chunk by chunk, without holding the body: used for everything that is not
// stored (bypass, uncacheable, larger than max_entry_bytes). Runs on the
// worker thread that owns both streams.
#pragma once

#include <chrono>
#include <string_view>

#include "net/beast.hpp"

namespace cachecar::net {

using OriginParser = http::response_parser<http::buffer_body>;

struct RelayOptions {
  // A field the caller adds to the head (cachecar's Cache-Status); none when empty.
  std::string_view added_field;
  std::string_view added_value;
  std::string_view already_read;  // body bytes read before streaming began
  bool head_only = false;         // the client asked with HEAD: send the header only
  bool client_keep_alive = true;
  unsigned client_version = kHttp11;
  std::chrono::milliseconds origin_idle_timeout{60000};  // longest silence inside the body
  std::chrono::milliseconds client_timeout{10000};
};

struct RelayResult {
  bool origin_complete = false;  // the origin's message was read to its end
  bool client_ok = false;        // everything was written to the client
  bool client_keep_alive = false;
};

asio::awaitable<RelayResult> relay_response(beast::tcp_stream& origin,
                                            beast::flat_buffer& origin_buffer, OriginParser& parser,
                                            beast::tcp_stream& client, const RelayOptions& options);

}  // namespace cachecar::net
