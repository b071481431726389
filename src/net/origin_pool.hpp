// Keep-alive connections to the origin, one pool per worker thread. Only the
// owning worker's thread may call it (connections never change thread).
// Idle connections the origin has closed are detected and dropped on reuse.
#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>

#include "net/beast.hpp"

namespace cachecar::net {

struct OriginConnection {
  explicit OriginConnection(asio::any_io_executor ex) : stream(ex) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool reused = false;  // came from the idle list: it may have been closed meanwhile
};

class OriginPool {
 public:
  OriginPool(asio::any_io_executor executor, tcp::endpoint origin,
             std::chrono::milliseconds connect_timeout, std::size_t max_idle = 256);

  // A connection, or why there is none: connection_refused and friends for
  // an unreachable origin, timeout when the connect did not finish in time.
  using Acquired = boost::system::result<std::unique_ptr<OriginConnection>>;
  // An idle connection, or a new one.
  asio::awaitable<Acquired> acquire();
  // A fresh connection, never an idle one (used to retry after a reused one failed).
  asio::awaitable<Acquired> connect();
  // Returns a connection whose last response was read completely and kept alive.
  void release(std::unique_ptr<OriginConnection> connection);

  std::uint64_t connects() const { return connects_; }

 private:
  asio::any_io_executor executor_;
  tcp::endpoint origin_;
  std::chrono::milliseconds connect_timeout_;
  std::size_t max_idle_;
  std::deque<std::unique_ptr<OriginConnection>> idle_;
  std::uint64_t connects_ = 0;
};

}  // namespace cachecar::net
