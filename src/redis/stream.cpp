#include "redis/stream.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace cachecar::redis {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Beast's basic_stream gives every transport the same per-operation timeout.
template <typename Protocol>
class PlainStream final : public Stream {
 public:
  explicit PlainStream(asio::any_io_executor ex) : stream_(ex) {}
  beast::basic_stream<Protocol>& stream() { return stream_; }

  asio::awaitable<Result> read_some(asio::mutable_buffer buffer) override {
    if (timeout_.count() > 0) stream_.expires_after(timeout_);
    co_return co_await stream_.async_read_some(buffer, use_tuple);
  }
  asio::awaitable<Result> write(asio::const_buffer buffer) override {
    if (timeout_.count() > 0) stream_.expires_after(timeout_);
    co_return co_await asio::async_write(stream_, buffer, use_tuple);
  }
  void set_timeout(std::chrono::milliseconds timeout) override {
    timeout_ = timeout;
    if (timeout.count() == 0) stream_.expires_never();
  }
  void close() override {
    error_code ignored;
    stream_.socket().shutdown(asio::socket_base::shutdown_both, ignored);
    stream_.close();
  }

 private:
  beast::basic_stream<Protocol> stream_;
  std::chrono::milliseconds timeout_{0};
};

class TlsStream final : public Stream {
 public:
  TlsStream(asio::any_io_executor ex, asio::ssl::context context)
      : context_(std::move(context)), stream_(beast::tcp_stream(ex), context_) {}
  asio::ssl::stream<beast::tcp_stream>& stream() { return stream_; }

  asio::awaitable<Result> read_some(asio::mutable_buffer buffer) override {
    if (timeout_.count() > 0) stream_.next_layer().expires_after(timeout_);
    co_return co_await stream_.async_read_some(buffer, use_tuple);
  }
  asio::awaitable<Result> write(asio::const_buffer buffer) override {
    if (timeout_.count() > 0) stream_.next_layer().expires_after(timeout_);
    co_return co_await asio::async_write(stream_, buffer, use_tuple);
  }
  void set_timeout(std::chrono::milliseconds timeout) override {
    timeout_ = timeout;
    if (timeout.count() == 0) stream_.next_layer().expires_never();
  }
  void close() override {
    error_code ignored;
    stream_.next_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.next_layer().close();
  }

 private:
  asio::ssl::context context_;  // outlives the stream that refers to it
  asio::ssl::stream<beast::tcp_stream> stream_;
  std::chrono::milliseconds timeout_{0};
};

asio::ssl::context tls_context(const Endpoint& endpoint, error_code& ec) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                      asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  if (endpoint.tls_verify) {
    context.set_verify_mode(asio::ssl::verify_peer, ec);
    if (!ec) {
      if (endpoint.tls_ca_file.empty())
        context.set_default_verify_paths(ec);
      else
        context.load_verify_file(endpoint.tls_ca_file, ec);
    }
  } else {
    context.set_verify_mode(asio::ssl::verify_none, ec);
  }
  return context;
}

// The certificate must name the host we asked for: an IP SAN for an IP
// address, a DNS name otherwise (with SNI).
bool expect_identity(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  error_code ec;
  asio::ip::make_address(host, ec);
  if (!ec) return X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return false;
  return X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0) == 1;
}

}  // namespace

asio::awaitable<std::unique_ptr<Stream>> open_stream(asio::any_io_executor executor,
                                                     const Endpoint& endpoint,
                                                     std::chrono::milliseconds timeout,
                                                     error_code& ec) {
  if (!endpoint.unix_path.empty()) {
    auto plain = std::make_unique<PlainStream<asio::local::stream_protocol>>(executor);
    plain->stream().expires_after(timeout);
    auto [connect_error] = co_await plain->stream().async_connect(
        asio::local::stream_protocol::endpoint(endpoint.unix_path), use_tuple);
    ec = connect_error;
    if (ec) co_return nullptr;
    plain->stream().expires_never();
    co_return plain;
  }

  tcp::resolver resolver(executor);
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port), use_tuple);
  ec = resolve_error;
  if (ec) co_return nullptr;

  if (!endpoint.tls) {
    auto plain = std::make_unique<PlainStream<tcp>>(executor);
    plain->stream().expires_after(timeout);
    auto [connect_error, at] = co_await plain->stream().async_connect(endpoints, use_tuple);
    ec = connect_error;
    if (ec) co_return nullptr;
    plain->stream().socket().set_option(tcp::no_delay(true));
    plain->stream().expires_never();
    co_return plain;
  }

  auto context = tls_context(endpoint, ec);
  if (ec) co_return nullptr;
  auto secure = std::make_unique<TlsStream>(executor, std::move(context));
  auto& tcp_layer = secure->stream().next_layer();
  tcp_layer.expires_after(timeout);
  auto [connect_error, at] = co_await tcp_layer.async_connect(endpoints, use_tuple);
  ec = connect_error;
  if (ec) co_return nullptr;
  tcp_layer.socket().set_option(tcp::no_delay(true));
  if (endpoint.tls_verify && !expect_identity(secure->stream().native_handle(), endpoint.host)) {
    ec = asio::error::invalid_argument;
    co_return nullptr;
  }
  auto [handshake_error] =
      co_await secure->stream().async_handshake(asio::ssl::stream_base::client, use_tuple);
  ec = handshake_error;
  if (ec) co_return nullptr;
  tcp_layer.expires_never();
  co_return secure;
}

}  // namespace cachecar::redis
