#include "net/body_reader.hpp"

#include <algorithm>

namespace cachecar::net {

namespace {
constexpr std::size_t kBodyChunk = 64 * 1024;
constexpr std::uint32_t kOriginHeaderLimit = 64 * 1024;
constexpr int kMaxInterimResponses = 8;
}  // namespace

asio::awaitable<beast::error_code> read_response_head(OriginConnection& connection,
                                                      std::optional<OriginParser>& parser,
                                                      bool head_request,
                                                      std::chrono::milliseconds timeout) {
  for (int interim = 0;; ++interim) {
    parser.emplace();
    parser->body_limit(boost::none);  // bodies stream, or the caller bounds them
    parser->header_limit(kOriginHeaderLimit);
    if (head_request) parser->skip(true);
    connection.stream.expires_after(timeout);
    auto [error, read] =
        co_await http::async_read_header(connection.stream, connection.buffer, *parser, use_tuple);
    if (error) co_return error;
    const unsigned status = parser->get().result_int();
    if (status < 100 || status >= 200 || status == 101) co_return error;
    if (interim == kMaxInterimResponses)
      co_return http::error::bad_status;  // an origin that never answers
  }
}

asio::awaitable<BodyRead> read_body_upto(OriginConnection& connection, OriginParser& parser,
                                         std::string& body, std::uint64_t limit,
                                         std::chrono::milliseconds idle_timeout) {
  BodyRead result;
  auto& response = parser.get();
  std::size_t filled = body.size();
  while (!parser.is_done() && filled <= limit) {
    // Room for at most one byte past the limit (enough to know it was
    // passed); with a known length, exactly what is left, so that the
    // buffer ends the size of the body and not a chunk larger.
    std::size_t room = std::min<std::uint64_t>(kBodyChunk, limit + 1 - filled);
    if (auto left = parser.content_length_remaining())
      room = std::min<std::uint64_t>(*left, limit + 1 - filled);
    if (room == 0) room = 1;  // a zero-length remainder: let the parser finish
    if (body.size() < filled + room)
      body.resize(filled + room);  // grows only: no byte is zeroed twice
    response.body().data = body.data() + filled;
    response.body().size = room;
    connection.stream.expires_after(idle_timeout);
    auto [error, read] =
        co_await http::async_read_some(connection.stream, connection.buffer, parser, use_tuple);
    filled += room - response.body().size;
    if (error && error != http::error::need_buffer) {
      body.resize(filled);
      result.error = error;
      co_return result;
    }
  }
  body.resize(filled);
  result.complete = parser.is_done() && filled <= limit;
  // What is kept must cost what it holds: a chunked body grew by doubling.
  if (result.complete) body.shrink_to_fit();
  co_return result;
}

}  // namespace cachecar::net
