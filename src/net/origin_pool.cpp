#include "net/origin_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace cachecar::net {
namespace {

// An idle keep-alive connection is usable only if the origin has neither
// closed it nor sent anything unsolicited: peek without blocking.
bool still_usable(OriginConnection& connection) {
  auto& socket = connection.stream.socket();
  if (!socket.is_open() || connection.buffer.size() != 0) return false;
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

OriginPool::OriginPool(asio::any_io_executor executor, tcp::endpoint origin,
                       std::chrono::milliseconds connect_timeout, std::size_t max_idle)
    : executor_(std::move(executor)),
      origin_(origin),
      connect_timeout_(connect_timeout),
      max_idle_(max_idle) {}

asio::awaitable<OriginPool::Acquired> OriginPool::acquire() {
  while (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    if (still_usable(*connection)) {
      connection->reused = true;
      co_return connection;
    }
  }
  co_return co_await connect();
}

asio::awaitable<OriginPool::Acquired> OriginPool::connect() {
  auto connection = std::make_unique<OriginConnection>(executor_);
  connection->stream.expires_after(connect_timeout_);
  auto [error] = co_await connection->stream.async_connect(origin_, use_tuple);
  if (error) co_return error;
  connection->stream.socket().set_option(tcp::no_delay(true));
  ++connects_;
  co_return connection;
}

void OriginPool::release(std::unique_ptr<OriginConnection> connection) {
  if (idle_.size() >= max_idle_) return;
  connection->stream.expires_never();
  idle_.push_back(std::move(connection));
}

}  // namespace cachecar::net
