#include "support/http_client.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <optional>

namespace cachecar::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (beast::iequals(n, name)) return v;
  }
  return {};
}

bool HttpResponse::has_header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (beast::iequals(n, name)) return true;
  }
  return false;
}

struct HttpClient::Impl {
  Impl(std::uint16_t port_in, std::chrono::milliseconds timeout_in, const std::string& address_in)
      : port(port_in), timeout(timeout_in), address(asio::ip::make_address(address_in)) {}
  asio::io_context context;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::uint16_t port;
  std::chrono::milliseconds timeout;
  asio::ip::address address;

  // Runs one asynchronous step to completion; the stream's deadline closes
  // the socket if the peer does not answer, which ends the step.
  template <typename Start>
  beast::error_code run(Start&& start) {
    beast::error_code result = asio::error::would_block;
    stream->expires_after(timeout);
    start([&](beast::error_code ec, std::size_t) { result = ec; });
    context.restart();
    context.run();
    return result;
  }

  beast::error_code connect() {
    stream.emplace(context);
    buffer.clear();
    beast::error_code result = asio::error::would_block;
    stream->expires_after(timeout);
    stream->async_connect(tcp::endpoint(address, port), [&](beast::error_code ec) { result = ec; });
    context.restart();
    context.run();
    return result;
  }

  HttpResponse read_response(bool head) {
    HttpResponse out;
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    parser.header_limit(1024 * 1024);
    if (head) parser.skip(true);
    auto ec = run([&](auto handler) { http::async_read(*stream, buffer, parser, handler); });
    if (ec) {
      out.error = ec.message();
      stream.reset();
      return out;
    }
    auto& message = parser.get();
    out.status = message.result_int();
    out.version = message.version();
    for (const auto& field : message) out.headers.emplace_back(field.name_string(), field.value());
    out.body = message.body();
    out.chunked = parser.chunked();
    if (!message.keep_alive()) stream.reset();
    return out;
  }
};

HttpClient::HttpClient(std::uint16_t port, std::chrono::milliseconds timeout,
                       const std::string& address)
    : impl_(std::make_unique<Impl>(port, timeout, address)) {}

HttpClient::~HttpClient() = default;

void HttpClient::close() { impl_->stream.reset(); }

HttpResponse HttpClient::request(const std::string& method, const std::string& target,
                                 const Headers& headers, const std::string& body) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, impl_->address.to_string() + ":" + std::to_string(impl_->port));
  for (const auto& [name, value] : headers) req.insert(name, value);
  req.body() = body;
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    req.prepare_payload();
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = impl_->stream.has_value();
    if (!reused) {
      if (auto ec = impl_->connect()) {
        HttpResponse failed;
        failed.error = "connect: " + ec.message();
        impl_->stream.reset();
        return failed;
      }
      ++connections_opened_;
    }
    auto ec = impl_->run([&](auto handler) { http::async_write(*impl_->stream, req, handler); });
    if (!ec) {
      HttpResponse response = impl_->read_response(method == "HEAD");
      if (response.status != 0 || !reused) return response;
    }
    impl_->stream.reset();  // a reused connection the server had closed: try once on a new one
    if (!reused) break;
  }
  HttpResponse failed;
  failed.error = "request failed";
  return failed;
}

HttpResponse HttpClient::raw(const std::string& bytes) {
  if (!impl_->stream) {
    if (auto ec = impl_->connect()) {
      HttpResponse failed;
      failed.error = "connect: " + ec.message();
      return failed;
    }
    ++connections_opened_;
  }
  auto ec = impl_->run(
      [&](auto handler) { asio::async_write(*impl_->stream, asio::buffer(bytes), handler); });
  if (ec) {
    HttpResponse failed;
    failed.error = "write: " + ec.message();
    return failed;
  }
  return impl_->read_response(false);
}

std::vector<HttpResponse> concurrent_gets(std::uint16_t port, const std::string& target, int count,
                                          std::chrono::milliseconds timeout) {
  asio::io_context context;
  std::vector<HttpResponse> responses(static_cast<std::size_t>(count));
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  for (auto& response : responses) {
    asio::co_spawn(
        context,
        [&, out = &response]() -> asio::awaitable<void> {
          const auto started = std::chrono::steady_clock::now();
          beast::tcp_stream stream(co_await asio::this_coro::executor);
          stream.expires_after(timeout);
          auto [connect_error] = co_await stream.async_connect(
              tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), use_tuple);
          if (connect_error) {
            out->error = "connect: " + connect_error.message();
            co_return;
          }
          http::request<http::empty_body> req{http::verb::get, target, 11};
          req.set(http::field::host, "127.0.0.1");
          auto [write_error, written] = co_await http::async_write(stream, req, use_tuple);
          if (write_error) {
            out->error = "write: " + write_error.message();
            co_return;
          }
          beast::flat_buffer buffer;
          http::response<http::string_body> res;
          auto [read_error, read] = co_await http::async_read(stream, buffer, res, use_tuple);
          if (read_error) {
            out->error = "read: " + read_error.message();
            co_return;
          }
          out->status = res.result_int();
          for (const auto& field : res)
            out->headers.emplace_back(field.name_string(), field.value());
          out->body = res.body();
          out->elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
              std::chrono::steady_clock::now() - started);
        },
        asio::detached);
  }
  context.run();
  return responses;
}

std::string latency_summary(const std::vector<HttpResponse>& responses) {
  if (responses.empty()) return "no responses";
  std::vector<double> ms;
  for (const auto& r : responses) ms.push_back(static_cast<double>(r.elapsed.count()) / 1000.0);
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1,
                       static_cast<std::size_t>(q * static_cast<double>(ms.size())))];
  };
  char text[96];
  std::snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms, max %.1f ms", at(0.50), at(0.99),
                ms.back());
  return text;
}

HttpResponse http_request(std::uint16_t port, const std::string& method, const std::string& target,
                          const Headers& headers, const std::string& body) {
  HttpClient client(port);
  return client.request(method, target, headers, body);
}

}  // namespace cachecar::testing
