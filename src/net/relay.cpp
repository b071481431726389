#include "net/relay.hpp"

#include <array>

#include "net/http_util.hpp"

namespace cachecar::net {

namespace {

// The head as the client gets it; returns whether the connection stays open.
bool prepare_head(http::response<http::buffer_body>& message, const OriginParser& parser,
                  const RelayOptions& options) {
  const bool length_known = parser.content_length().has_value() || parser.is_done();
  strip_hop_by_hop(message);
  if (!options.added_field.empty()) message.set(options.added_field, options.added_value);
  if (message.find(http::field::age) == message.end()) message.set(http::field::age, "0");
  message.version(kHttp11);
  bool keep_alive = options.client_keep_alive;
  if (!length_known && !options.head_only) {
    // An HTTP/1.0 client cannot take chunked encoding: the end of the body
    // is then marked by closing the connection.
    if (options.client_version >= kHttp11)
      message.chunked(true);
    else
      keep_alive = false;
  }
  if (options.client_version < kHttp11 && keep_alive)
    message.set(http::field::connection, "keep-alive");
  else if (!keep_alive)
    message.set(http::field::connection, "close");
  return keep_alive;
}

// Passes the body on as it arrives, at most a chunk at a time; false when
// either side failed (the client then has a truncated message).
asio::awaitable<bool> stream_body(beast::tcp_stream& origin, beast::flat_buffer& origin_buffer,
                                  OriginParser& parser, beast::tcp_stream& client,
                                  http::response_serializer<http::buffer_body>& serializer,
                                  const RelayOptions& options) {
  auto& body = parser.get().body();
  std::array<char, 16 * 1024> chunk;
  bool pending_prefix = !options.already_read.empty();
  while (!serializer.is_done()) {
    if (pending_prefix) {
      body.data = const_cast<char*>(options.already_read.data());  // only read by the serializer
      body.size = options.already_read.size();
      body.more = true;
      pending_prefix = false;
    } else if (!parser.is_done()) {
      // Each wait for more is bounded by origin_idle_timeout (the first
      // byte was bounded by origin_timeout when the head was read).
      body.data = chunk.data();
      body.size = chunk.size();
      origin.expires_after(options.origin_idle_timeout);
      auto [ec, n] = co_await http::async_read_some(origin, origin_buffer, parser, use_tuple);
      if (ec && ec != http::error::need_buffer) co_return false;  // origin failed mid-body
      body.size = chunk.size() - body.size;
      body.data = chunk.data();
      body.more = !parser.is_done();
      if (body.size == 0 && body.more) continue;  // framing only (a chunk header): read on
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    client.expires_after(options.client_timeout);
    auto [ec, n] = co_await http::async_write(client, serializer, use_tuple);
    if (ec == http::error::need_buffer) continue;
    if (ec) co_return false;
  }
  co_return true;
}

}  // namespace

asio::awaitable<RelayResult> relay_response(beast::tcp_stream& origin,
                                            beast::flat_buffer& origin_buffer, OriginParser& parser,
                                            beast::tcp_stream& client,
                                            const RelayOptions& options) {
  RelayResult result;
  auto& message = parser.get();
  result.client_keep_alive = prepare_head(message, parser, options);
  http::response_serializer<http::buffer_body> serializer{message};
  serializer.split(true);
  // The head goes out at once, before any body byte is awaited: a slow
  // stream (server-sent events) starts when the origin starts it, and an
  // origin that fails mid-body leaves the client a truncated message after
  // a complete head, not an empty reply.
  message.body().data = nullptr;
  message.body().size = 0;
  message.body().more = !options.head_only && !(parser.is_done() && options.already_read.empty());
  client.expires_after(options.client_timeout);
  {
    auto [ec, n] = co_await http::async_write_header(client, serializer, use_tuple);
    if (ec) co_return result;
  }
  if (!options.head_only &&
      !co_await stream_body(origin, origin_buffer, parser, client, serializer, options))
    co_return result;
  result.origin_complete = parser.is_done();
  result.client_ok = true;
  co_return result;
}

}  // namespace cachecar::net
