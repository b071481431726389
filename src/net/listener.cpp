#include "net/listener.hpp"

#include <sys/socket.h>

#include <array>

#include "net/accept_pacer.hpp"
#include "net/http_util.hpp"
#include "net/request_framing.hpp"

namespace cachecar::net {

namespace {
constexpr std::string_view kTooLargeBody = "request body is larger than limits.max_body_bytes";
constexpr std::size_t kLingerBytes = 1024 * 1024;  // read at most this much of a refused request
}  // namespace

Listener::Listener(asio::io_context& context, tcp::endpoint endpoint, SessionLimits limits,
                   RequestSink& sink)
    : context_(context), endpoint_(endpoint), limits_(limits), sink_(sink), acceptor_(context) {}

void Listener::start() {
  acceptor_.open(endpoint_.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  // Each worker binds its own acceptor to the same port; the kernel spreads
  // connections across them, so a connection never changes thread.
  acceptor_.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
  acceptor_.bind(endpoint_);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(context_, accept_loop(), asio::detached);
}

void Listener::begin_drain() {
  draining_ = true;
  beast::error_code ignored;
  acceptor_.close(ignored);
  for (auto& session : sessions_) {
    if (session.idle) session.stream->cancel();
  }
}

asio::awaitable<void> Listener::accept_loop() {
  AcceptPacer pacer(context_.get_executor());
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
    if (ec) {
      // e.g. EMFILE: keep serving the connections we have; try again later.
      co_await pacer.failed();
      continue;
    }
    pacer.succeeded();
    asio::co_spawn(context_, run_session(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Listener::reply_error(beast::tcp_stream& stream, http::status status,
                                            std::string_view reason) {
  auto response = json_error(status, reason, kHttp11, false);
  sink_.mark_refusal(response);
  stream.expires_after(limits_.header_timeout);
  auto [write_error, written] = co_await http::async_write(stream, response, use_tuple);
  if (write_error) co_return;
  // Lingering close: the client may still be sending the request we refused.
  // Closing with unread input makes the kernel reset the connection, which
  // can destroy our answer before the client reads it; so stop sending, and
  // drain what arrives for a moment first.
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  std::array<char, 16 * 1024> sink;
  std::size_t drained = 0;
  stream.expires_after(std::chrono::seconds(1));
  while (drained < kLingerBytes) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
    if (ec) break;
    drained += n;
  }
}

asio::awaitable<void> Listener::run_session(tcp::socket socket) {
  beast::error_code ec;
  tcp::endpoint peer = socket.remote_endpoint(ec);
  socket.set_option(tcp::no_delay(true), ec);
  beast::tcp_stream stream(std::move(socket));
  auto self = sessions_.insert(sessions_.end(), SessionState{&stream, true});
  beast::flat_buffer buffer;
  while (!draining_) {
    self->idle = true;
    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser.body_limit(limits_.max_body_bytes);
    stream.expires_after(limits_.header_timeout);
    auto [read_error, header_bytes] =
        co_await http::async_read_header(stream, buffer, parser, use_tuple);
    self->idle = false;
    const auto verdict = judge_head(read_error, parser);
    if (verdict.action == HeadVerdict::Action::refuse)
      co_await reply_error(stream, verdict.status, verdict.reason);
    if (verdict.action != HeadVerdict::Action::go_on) break;
    const bool more = !parser.is_done() || parser.get().count(http::field::expect) > 0;
    if (more && !co_await read_body(stream, buffer, parser)) break;
    Request request = parser.release();
    bool keep_alive = co_await sink_.handle(request, stream, peer);
    if (!keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.close();
  sessions_.erase(self);
}

Listener::HeadVerdict Listener::judge_head(beast::error_code read_error,
                                           const RequestParser& parser) {
  using Action = HeadVerdict::Action;
  if (read_error == http::error::header_limit) {
    return {Action::refuse, http::status::request_header_fields_too_large,
            "request header is larger than limits.max_header_bytes"};
  }
  if (read_error == http::error::body_limit)
    return {Action::refuse, http::status::payload_too_large, kTooLargeBody};
  if (read_error == http::error::end_of_stream || read_error == asio::error::operation_aborted ||
      read_error == beast::error::timeout || read_error == asio::error::connection_reset ||
      read_error == asio::error::eof) {
    return {Action::close, {}, {}};
  }
  if (read_error) return {Action::refuse, http::status::bad_request, "malformed HTTP request"};
  if (auto problem = framing_problem(parser.get()))
    return {Action::refuse, http::status::bad_request, *problem};
  return {};
}

asio::awaitable<bool> Listener::read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                          RequestParser& parser) {
  auto& header = parser.get();
  if (beast::iequals(header[http::field::expect], "100-continue")) {
    // The client waits for this before sending a body; we are about to read it.
    header.erase(http::field::expect);
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    co_await asio::async_write(stream, asio::buffer(kContinue), use_tuple);
  }
  if (parser.is_done()) co_return true;
  stream.expires_after(limits_.header_timeout);
  auto [body_error, body_bytes] = co_await http::async_read(stream, buffer, parser, use_tuple);
  if (body_error == http::error::body_limit)
    co_await reply_error(stream, http::status::payload_too_large, kTooLargeBody);
  co_return !body_error;
}

}  // namespace cachecar::net
