#include "net/relay.hpp"

#include "net/http_util.hpp"

#include <array>

namespace cachecar::net {

asio::awaitable<RelayResult> relay_response(beast::tcp_stream& origin, beast::flat_buffer& origin_buffer,
                                            OriginParser& parser, beast::tcp_stream& client,
                                            const RelayOptions& options) {
  RelayResult result;
  auto& message = parser.get();
  const bool length_known = parser.content_length().has_value() || parser.is_done();
  strip_hop_by_hop(message);
  message.set("Cache-Status", options.cache_status);
  if (message.find(http::field::age) == message.end()) message.set(http::field::age, "0");
  message.version(11);
  bool keep_alive = options.client_keep_alive;
  if (!length_known && !options.head_only) {
    // An HTTP/1.0 client cannot take chunked encoding: the end of the body
    // is then marked by closing the connection.
    if (options.client_version >= 11) message.chunked(true);
    else keep_alive = false;
  }
  if (options.client_version < 11 && keep_alive) message.set(http::field::connection, "keep-alive");
  else if (!keep_alive) message.set(http::field::connection, "close");
  result.client_keep_alive = keep_alive;

  http::response_serializer<http::buffer_body> serializer{message};
  client.expires_after(options.client_timeout);
  if (options.head_only) {
    serializer.split(true);
    auto [ec, n] = co_await http::async_write_header(client, serializer, use_tuple);
    result.client_ok = !ec;
    result.origin_complete = parser.is_done();
    co_return result;
  }

  std::array<char, 16 * 1024> chunk;
  bool pending_prefix = !options.already_read.empty();
  while (true) {
    auto& body = message.body();
    if (pending_prefix) {
      body.data = const_cast<char*>(options.already_read.data());  // only read by the serializer
      body.size = options.already_read.size();
      body.more = true;
      pending_prefix = false;
    } else if (!parser.is_done()) {
      body.data = chunk.data();
      body.size = chunk.size();
      origin.expires_after(options.origin_timeout);
      auto [ec, n] = co_await http::async_read(origin, origin_buffer, parser, use_tuple);
      if (ec && ec != http::error::need_buffer) co_return result;  // origin failed mid-body
      body.size = chunk.size() - body.size;
      body.data = chunk.data();
      body.more = !parser.is_done();
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    client.expires_after(options.client_timeout);
    auto [ec, n] = co_await http::async_write(client, serializer, use_tuple);
    if (ec == http::error::need_buffer) continue;
    if (ec) co_return result;
    if (serializer.is_done()) break;
  }
  result.origin_complete = parser.is_done();
  result.client_ok = true;
  co_return result;
}

}  // namespace cachecar::net
