// The client side of one worker: an SO_REUSEPORT acceptor and one
// coroutine per connection (read -> handle -> write, keep-alive). Limits and
// timeouts are enforced here; what a request means is the sink's business.
// Every method runs on the worker's own io_context thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>

#include "net/beast.hpp"

namespace cachecar::net {

class RequestSink {
 public:
  virtual ~RequestSink() = default;
  // Writes the whole response to one complete request. Returns false when
  // the connection must close afterwards. Must not throw.
  virtual asio::awaitable<bool> handle(Request& request, beast::tcp_stream& client,
                                       const tcp::endpoint& peer) = 0;
  // Adds what the sink wants on the listener's own refusals (a request too
  // large or malformed to hand on); nothing by default.
  virtual void mark_refusal(http::response<http::string_body>& /*response*/) const {}
};

struct SessionLimits {
  std::uint64_t max_header_bytes = 16 * 1024;
  std::uint64_t max_body_bytes = 8 * 1024 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
};

class Listener {
 public:
  Listener(asio::io_context& context, tcp::endpoint endpoint, SessionLimits limits,
           RequestSink& sink);

  // Binds and starts accepting; throws boost::system::system_error when the
  // address cannot be bound.
  void start();
  // Stops accepting, closes idle keep-alive connections, and makes busy ones
  // close after their current response. In-flight requests complete.
  void begin_drain();
  bool draining() const { return draining_; }
  std::size_t open_sessions() const { return sessions_.size(); }

 private:
  struct SessionState {
    beast::tcp_stream* stream;
    bool idle;
  };

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> run_session(tcp::socket socket);
  using RequestParser = http::request_parser<http::string_body>;
  // What a read request head calls for. Not a coroutine: reading a request
  // without a body costs no frame beyond the session's.
  struct HeadVerdict {
    enum class Action { go_on, close, refuse } action = Action::go_on;
    http::status status = http::status::bad_request;
    std::string_view reason;
  };
  static HeadVerdict judge_head(beast::error_code read_error, const RequestParser& parser);
  // 100 Continue when asked, then the body after the head; false when the
  // connection must close.
  asio::awaitable<bool> read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                  RequestParser& parser);
  asio::awaitable<void> reply_error(beast::tcp_stream& stream, http::status status,
                                    std::string_view reason);

  asio::io_context& context_;
  tcp::endpoint endpoint_;
  SessionLimits limits_;
  RequestSink& sink_;
  tcp::acceptor acceptor_;
  std::list<SessionState> sessions_;
  bool draining_ = false;
};

}  // namespace cachecar::net
