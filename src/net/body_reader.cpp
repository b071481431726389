#include "net/body_reader.hpp"

namespace cachecar::net {

namespace {
constexpr std::size_t kBodyChunk = 64 * 1024;
}

asio::awaitable<BodyRead> read_body_upto(OriginConnection& connection, OriginParser& parser, std::string& body,
                                         std::uint64_t limit, std::chrono::milliseconds timeout) {
  BodyRead result;
  if (auto length = parser.content_length(); length && *length <= limit) body.reserve(*length);
  auto& response = parser.get();
  while (!parser.is_done() && body.size() <= limit) {
    std::size_t before = body.size();
    body.resize(before + kBodyChunk);
    response.body().data = body.data() + before;
    response.body().size = kBodyChunk;
    connection.stream.expires_after(timeout);
    auto [error, read] = co_await http::async_read(connection.stream, connection.buffer, parser, use_tuple);
    body.resize(before + (kBodyChunk - response.body().size));
    if (error && error != http::error::need_buffer) {
      result.error = error;
      co_return result;
    }
  }
  result.complete = parser.is_done() && body.size() <= limit;
  co_return result;
}

}  // namespace cachecar::net
