// The byte stream under a Redis connection: TCP, TLS over TCP (rediss://),
// or a unix socket (unix:///path). One interface so that the pipelined
// connection and the bus subscriber need not care which. A stream allows one
// read and one write in flight at a time, concurrently. Used only from the
// executor it was opened on.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>

namespace cachecar::redis {

struct Endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string unix_path;  // set: a unix socket, host/port unused
  bool tls = false;
  std::string tls_ca_file;  // empty: the system's trust store
  bool tls_verify = true;   // check the chain and that the certificate names `host`
};

class Stream {
 public:
  using Result = std::tuple<boost::system::error_code, std::size_t>;
  virtual ~Stream() = default;
  virtual boost::asio::awaitable<Result> read_some(boost::asio::mutable_buffer buffer) = 0;
  // Writes the whole buffer.
  virtual boost::asio::awaitable<Result> write(boost::asio::const_buffer buffer) = 0;
  // Bounds each following operation; zero removes the bound.
  virtual void set_timeout(std::chrono::milliseconds timeout) = 0;
  virtual void close() = 0;
};

// Connects (and for TLS, handshakes and verifies) within `timeout`.
boost::asio::awaitable<std::unique_ptr<Stream>> open_stream(boost::asio::any_io_executor executor,
                                                            const Endpoint& endpoint,
                                                            std::chrono::milliseconds timeout,
                                                            boost::system::error_code& ec);

}  // namespace cachecar::redis
