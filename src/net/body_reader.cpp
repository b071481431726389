#include "net/body_reader.hpp"

namespace cachecar::net {

namespace {
constexpr std::size_t kBodyChunk = 64 * 1024;
constexpr std::uint32_t kOriginHeaderLimit = 64 * 1024;
constexpr int kMaxInterimResponses = 8;
}  // namespace

asio::awaitable<beast::error_code> read_response_head(OriginConnection& connection,
                                                      std::optional<OriginParser>& parser, bool head_request,
                                                      std::chrono::milliseconds timeout) {
  for (int interim = 0;; ++interim) {
    parser.emplace();
    parser->body_limit(boost::none);  // bodies stream, or the caller bounds them
    parser->header_limit(kOriginHeaderLimit);
    if (head_request) parser->skip(true);
    connection.stream.expires_after(timeout);
    auto [error, read] = co_await http::async_read_header(connection.stream, connection.buffer, *parser, use_tuple);
    if (error) co_return error;
    const unsigned status = parser->get().result_int();
    if (status < 100 || status >= 200 || status == 101) co_return error;
    if (interim == kMaxInterimResponses) co_return http::error::bad_status;  // an origin that never answers
  }
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
