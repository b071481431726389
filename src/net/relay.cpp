#include "net/relay.hpp"

#include <array>

#include "net/http_util.hpp"

namespace cachecar::net {

asio::awaitable<RelayResult> relay_response(beast::tcp_stream& origin,
                                            beast::flat_buffer& origin_buffer, OriginParser& parser,
                                            beast::tcp_stream& client,
                                            const RelayOptions& options) {
  RelayResult result;
  auto& message = parser.get();
  const bool length_known = parser.content_length().has_value() || parser.is_done();
  strip_hop_by_hop(message);
  message.set("Cache-Status", options.cache_status);
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
  result.client_keep_alive = keep_alive;

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
  if (options.head_only) {
    result.client_ok = true;
    result.origin_complete = parser.is_done();
    co_return result;
  }

  std::array<char, 16 * 1024> chunk;
  bool pending_prefix = !options.already_read.empty();
  while (!serializer.is_done()) {
    auto& body = message.body();
    if (pending_prefix) {
      body.data = const_cast<char*>(options.already_read.data());  // only read by the serializer
      body.size = options.already_read.size();
      body.more = true;
      pending_prefix = false;
    } else if (!parser.is_done()) {
      // Whatever has arrived, at most a chunk: passed on as it comes. Each
      // wait for more is bounded by origin_idle_timeout (the first byte was
      // bounded by origin_timeout when the head was read).
      body.data = chunk.data();
      body.size = chunk.size();
      origin.expires_after(options.origin_idle_timeout);
      auto [ec, n] = co_await http::async_read_some(origin, origin_buffer, parser, use_tuple);
      if (ec && ec != http::error::need_buffer)
        co_return result;  // origin failed mid-body: close, truncated
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
    if (ec) co_return result;
  }
  result.origin_complete = parser.is_done();
  result.client_ok = true;
  co_return result;
}

}  // namespace cachecar::net
